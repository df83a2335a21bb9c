import { and, eq } from 'drizzle-orm';
import * as v from 'valibot';
import type { PrimaryDb } from '../../schema/db.ts';
import type { ComputeCommandName } from '../../schema/objects/compute-command.ts';
import {
  computeNodes,
  type FlavorSnapshot,
  instances,
  migrations,
  resourceClaims,
} from '../../schema/tables/index.ts';
import { releaseQuota, resizeQuotaDeltas } from '../compute/quotas.ts';
import { bindInstanceNetworks } from '../network/instance-networks.ts';
import { releaseClaims } from '../scheduler/claims.ts';
import { NotFound } from '../shared/errors.ts';
import type { ConductorContext } from './context.ts';
import { loadHostService, loadLiveInstance, type PreparedCommand, prepareCommand } from './host-commands.ts';

// What every step of the migrate-server workflow (workflows/migrate-server.ts) shares: the move it works
// on, the plan it hands back (the next host command, or null), and the claim bookkeeping.

export type MigrationRow = typeof migrations.$inferSelect;
export type InstanceRow = Awaited<ReturnType<typeof loadLiveInstance>>;

/** The three paths through the workflow: cold migrate and resize share one. */
export type MoveKind = 'cold' | 'live' | 'evacuate';

const KIND_OF_TYPE: Record<string, MoveKind> = {
  migration: 'cold',
  resize: 'cold',
  'live-migration': 'live',
  evacuation: 'evacuate',
};

/** Nova's power_state values the conductor decides on. */
export const POWER_RUNNING = 1;
export const POWER_PAUSED = 3;

export interface Move {
  migration: MigrationRow;
  instance: InstanceRow;
  kind: MoveKind;
}

/** The request options the API started the move with (workflow input `options`). */
export const MoveOptions = v.optional(
  v.object({
    block_migration: v.optional(v.boolean(), false),
    disk_over_commit: v.optional(v.boolean(), false),
    on_shared_storage: v.optional(v.boolean(), false),
    /**
     * Whether the host the request named (the migration's dest_compute) is forced: taken if it is up
     * and has room, as Havana and Nova before compute 2.29/2.30 took any named host, and so what a
     * move started without this option did. Otherwise the scheduler's policy must accept it too.
     */
    force_host: v.optional(v.boolean(), true),
    /** An evacuated server ends stopped on its new host (compute 2.95) instead of running. */
    stop_on_destination: v.optional(v.boolean(), false),
  }),
  {},
);

export const MoveInput = v.object({
  migration_id: v.pipe(v.number(), v.integer(), v.minValue(1)),
  options: MoveOptions,
  /** The last host command's output, when the step follows one. */
  result: v.optional(v.record(v.string(), v.unknown()), {}),
});

export async function loadMigration(db: PrimaryDb, migrationId: number): Promise<MigrationRow> {
  const [migration] = await db
    .select()
    .from(migrations)
    .where(and(eq(migrations.id, migrationId), eq(migrations.deleted, 0)));
  if (!migration) throw new NotFound(`Migration ${migrationId} could not be found.`);
  return migration;
}

export async function loadMove(db: PrimaryDb, migrationId: number): Promise<Move> {
  const migration = await loadMigration(db, migrationId);
  const kind = KIND_OF_TYPE[migration.migration_type];
  if (!kind) throw new Error(`Migration ${migrationId} has unknown type ${migration.migration_type}`);
  const instance = await loadLiveInstance(db, migration.instance_uuid);
  return { migration, instance, kind };
}

/** What a step hands the workflow: the next host command (null: nothing for that host to do). */
export interface MovePlan {
  command: PreparedCommand | null;
}

export function noCommand(): MovePlan {
  return { command: null };
}

/** A command for `host` about `instance` as that host must see it (its flavor, host and node). */
export async function planCommand(
  ctx: ConductorContext,
  name: ComputeCommandName,
  instance: InstanceRow,
  host: string,
  params: Record<string, unknown> = {},
): Promise<MovePlan> {
  const service = await loadHostService(ctx.db, host);
  return { command: await prepareCommand(ctx.db, name, instance, host, service, params) };
}

/** The instance as it is on one side of the move. */
export function onSide(
  instance: InstanceRow,
  side: { host: string | null; node: string | null; flavor: FlavorSnapshot | null },
): InstanceRow {
  return { ...instance, host: side.host, node: side.node, flavor: side.flavor ?? instance.flavor };
}

export function sourceSide(move: Move): InstanceRow {
  const { migration } = move;
  return onSide(move.instance, {
    host: migration.source_compute,
    node: migration.source_node,
    flavor: migration.old_flavor,
  });
}

export function destinationSide(move: Move): InstanceRow {
  const { migration } = move;
  return onSide(move.instance, {
    host: migration.dest_compute,
    node: migration.dest_node,
    flavor: migration.new_flavor,
  });
}

/** The columns that say where the instance is. */
export interface Location {
  host: string | null;
  node: string | null;
  /** Absent when the node is gone: the zone recorded last stands. */
  availability_zone?: string;
}

/**
 * Where the instance is once it is on `side`: its host and node, and the zone that host is in, so the
 * server shows the zone it moved to (a server that named no zone at boot may move to any).
 */
export async function locationOf(
  db: PrimaryDb,
  side: { host: string | null; node: string | null },
): Promise<Location> {
  const { host, node } = side;
  if (!host || !node) return { host, node };
  const [found] = await db
    .select({ availability_zone: computeNodes.availability_zone })
    .from(computeNodes)
    .where(
      and(
        eq(computeNodes.host, host),
        eq(computeNodes.hypervisor_hostname, node),
        eq(computeNodes.deleted, 0),
      ),
    );
  return found ? { host, node, availability_zone: found.availability_zone } : { host, node };
}

/**
 * Binds the server's ports (and nova-network addresses) to the host it is moving to, owned from that
 * host's zone, and rewrites its cache.
 */
export async function bindNetworksTo(
  ctx: ConductorContext,
  instance: { uuid: string; project_id: string; availability_zone: string | null },
  side: { host: string | null; node: string | null },
): Promise<void> {
  const host = requireHost(side.host, 'target');
  const location = await locationOf(ctx.db, side);
  await bindInstanceNetworks(
    ctx.db,
    ctx.config,
    { ...instance, availability_zone: location.availability_zone ?? instance.availability_zone },
    host,
  );
}

export function requireHost(host: string | null, what: string): string {
  if (!host) throw new Error(`The migration has no ${what} host`);
  return host;
}

/**
 * A resize's quota settles with the move: the growth reserved at the request goes back when it does
 * not happen (revert, failure), the shrink goes back once it is confirmed.
 */
export async function settleResizeQuota(
  db: PrimaryDb,
  migration: MigrationRow,
  outcome: 'kept' | 'undone',
): Promise<void> {
  if (migration.migration_type !== 'resize' || !migration.old_flavor || !migration.new_flavor) return;
  const { growth, shrink } = resizeQuotaDeltas(migration.old_flavor, migration.new_flavor);
  // Deleted rows too: a server deleted while its failed resize was being cleaned up gave back its
  // flavor's quota when it was deleted, and the growth reserved for the resize is still to go back.
  const [owner] = await db
    .select({ project_id: instances.project_id })
    .from(instances)
    .where(eq(instances.uuid, migration.instance_uuid));
  if (!owner) throw new NotFound(`Instance ${migration.instance_uuid} could not be found.`);
  await releaseQuota(db, owner.project_id, outcome === 'kept' ? shrink : growth);
}

/**
 * Releases every claim of the instance except the one on the node it is on now: a move ends with
 * exactly one claim, wherever the guest lives (a failed or errored move holds nothing elsewhere).
 */
export async function keepOnlyCurrentClaim(db: PrimaryDb, instanceUuid: string): Promise<void> {
  const instance = await loadLiveInstance(db, instanceUuid);
  const [current] =
    instance.host && instance.node
      ? await db
          .select({ id: computeNodes.id })
          .from(computeNodes)
          .where(
            and(
              eq(computeNodes.host, instance.host),
              eq(computeNodes.hypervisor_hostname, instance.node),
              eq(computeNodes.deleted, 0),
            ),
          )
      : [];
  const claims = await db
    .select({ node: resourceClaims.compute_node_id })
    .from(resourceClaims)
    .where(eq(resourceClaims.instance_uuid, instanceUuid));
  for (const node of new Set(claims.map((claim) => claim.node))) {
    if (node !== current?.id) await releaseClaims(db, instanceUuid, node);
  }
}
