import { and, eq } from 'drizzle-orm';
import * as v from 'valibot';
import { computeNodes, instances, migrations } from '../../schema/tables/index.ts';
import { finishAction, recordEvent } from '../compute/instance-actions.ts';
import { transitionInstance } from '../compute/instance-states.ts';
import { transitionMigration } from '../compute/migration-states.ts';
import { moveCommands } from '../compute/move-commands.ts';
import { isServiceUp } from '../compute/service-liveness.ts';
import { type Placement, releaseClaims } from '../scheduler/claims.ts';
import { claimForMove } from '../scheduler/move-claims.ts';
import type { HostState, RequestSpec } from '../scheduler/request-spec.ts';
import { requestSpecFor } from '../scheduler/spec-from-instance.ts';
import { BadRequest, Conflict, ServiceUnavailable, StateConflict } from '../shared/errors.ts';
import type { ConductorContext } from './context.ts';
import { loadHostService, type PreparedCommand } from './host-commands.ts';
import {
  bindNetworksTo,
  destinationSide,
  keepOnlyCurrentClaim,
  loadMove,
  locationOf,
  type Move,
  MoveInput,
  type MovePlan,
  noCommand,
  POWER_PAUSED,
  POWER_RUNNING,
  planCommand,
  requireHost,
  settleResizeQuota,
  sourceSide,
} from './migration-move.ts';

// The steps of workflows/migrate-server.ts. Each one checks the migration is where the workflow
// expects it (a conditional write through the migrations state table), moves the instance through its
// own state table, records an instance action event, and plans the next host command.

/** An admin cancelled the live migration before the source started copying. */
export class MigrationCancelled extends Error {
  override readonly name = 'MigrationCancelled';
}

const ScheduleInput = v.object({
  migration_id: MoveInput.entries.migration_id,
  options: MoveInput.entries.options,
});

async function sourceNode(ctx: ConductorContext, move: Move) {
  const [node] = await ctx.db
    .select()
    .from(computeNodes)
    .where(
      and(
        eq(computeNodes.host, requireHost(move.migration.source_compute, 'source')),
        eq(computeNodes.hypervisor_hostname, move.migration.source_node ?? ''),
        eq(computeNodes.deleted, 0),
      ),
    );
  return node;
}

/** Live migration's pre-checks on the instance and the source (nova-havana.md §4.3 step 2). */
function checkLiveMigratable(move: Move): void {
  const { power_state: power } = move.instance;
  if (power !== POWER_RUNNING && power !== POWER_PAUSED) {
    throw new BadRequest(`Instance ${move.instance.uuid} is not running (power_state ${power})`);
  }
  if (move.migration.control === 'cancel') throw new MigrationCancelled('Cancelled before it started');
}

type Node = typeof computeNodes.$inferSelect;

/** Why `dest` cannot take a live migration from `source` (a hypervisor of another type, or older), or null. */
function liveIncompatibility(source: Node | undefined, dest: HostState): string | null {
  if (!source) return null;
  if (source.hypervisor_type === dest.hypervisor_type && dest.hypervisor_version >= source.hypervisor_version)
    return null;
  return `Destination ${dest.host} (${dest.hypervisor_type} ${dest.hypervisor_version}) cannot take a live migration from ${source.host} (${source.hypervisor_type} ${source.hypervisor_version})`;
}

/**
 * How many destinations the scheduler may offer a live migration that turn out unable to take it from
 * its source before the move gives up (Nova's migrate_max_retries; NoValidHost comes first when the
 * hosts run out).
 */
const LIVE_DESTINATION_TRIES = 5;

/**
 * Selects and claims the destination: the admin's host, forced (up with room is enough) or checked by
 * the scheduler's policy like any candidate, else the scheduler's choice. A live migration needs a
 * hypervisor that can take the guest from the source; the admin's host that cannot is refused, while a
 * host the scheduler chose that cannot is let go and the scheduler asked again without it (Nova's
 * LiveMigrationTask._find_destination).
 */
async function claimDestination(
  ctx: ConductorContext,
  move: Move,
  spec: RequestSpec,
  now: Date,
  forceHost: boolean,
): Promise<Placement> {
  const { migration, instance, kind } = move;
  const named = migration.dest_compute;
  const options = {
    ...(forceHost ? { forcedHost: named } : { requestedHost: named }),
    now,
    serviceDownTimeSeconds: ctx.config.SERVICE_DOWN_TIME_SECONDS,
  };
  const source = kind === 'live' ? await sourceNode(ctx, move) : undefined;
  let ignoreHosts = spec.ignore_hosts;
  for (let tries = 1; ; tries++) {
    const placement = await claimForMove(ctx.db, { ...spec, ignore_hosts: ignoreHosts }, options);
    const refusal = liveIncompatibility(source, placement.host);
    if (refusal === null) return placement;
    // The claim just made goes with the rollback when the move gives up.
    if (named || tries >= LIVE_DESTINATION_TRIES) throw new BadRequest(refusal);
    await releaseClaims(ctx.db, instance.uuid, placement.host.id);
    await recordEvent(ctx.db, instance.uuid, {
      event: 'conductor_select_destination',
      result: 'Error',
      host: placement.host.host,
      traceback: refusal,
    });
    ignoreHosts = [...ignoreHosts, placement.host.host];
  }
}

/**
 * migration.schedule: checks the source, selects and claims the destination (claimDestination),
 * records it on the migration, and plans the destination's preparation.
 */
export async function schedule(ctx: ConductorContext, input: unknown): Promise<MovePlan> {
  const { migration_id, options } = v.parse(ScheduleInput, input);
  const move = await loadMove(ctx.db, migration_id);
  const { migration, instance, kind } = move;
  if (migration.status !== 'pre-migrating') {
    throw new StateConflict(`Migration ${migration_id} is ${migration.status}, not pre-migrating`);
  }
  const source = requireHost(migration.source_compute, 'source');
  const now = new Date();
  const sourceUp = isServiceUp(
    await loadHostService(ctx.db, source),
    now,
    ctx.config.SERVICE_DOWN_TIME_SECONDS,
  );
  if (kind === 'evacuate' && sourceUp) throw new Conflict(`Compute service of ${source} is still in use.`);
  if (kind !== 'evacuate' && !sourceUp) throw new ServiceUnavailable(`Compute host ${source} is down`);
  if (kind === 'live') checkLiveMigratable(move);

  const moving = destinationSide(move);
  // The spec keeps the server in a zone only if its boot request named one (spec-from-instance.ts).
  const spec = {
    ...(await requestSpecFor(ctx.db, moving, [source])),
    // In a fleet mid-upgrade, only a host whose agent runs this move's commands can receive it.
    required_commands: [...moveCommands(migration.migration_type, 'destination')],
  };
  const dest = (await claimDestination(ctx, move, spec, now, options.force_host)).host;
  await ctx.db
    .update(migrations)
    .set({
      dest_compute: dest.host,
      dest_node: dest.hypervisor_hostname,
      dest_host: dest.host,
      updated_at: new Date(),
    })
    .where(and(eq(migrations.id, migration_id), eq(migrations.status, 'pre-migrating')));
  await recordEvent(ctx.db, instance.uuid, {
    event: 'conductor_select_destination',
    result: 'Success',
    host: dest.host,
  });
  const atDest = destinationSide({
    ...move,
    migration: { ...migration, dest_compute: dest.host, dest_node: dest.hypervisor_hostname },
  });
  if (kind === 'cold') return planCommand(ctx, 'prep_resize', atDest, dest.host);
  if (kind === 'live') {
    return planCommand(ctx, 'pre_live_migration', atDest, dest.host, {
      block_migration: options.block_migration,
    });
  }
  // Evacuate: the destination rebuilds the guest once the source is written off (finish_destination).
  return noCommand();
}

/** migration.start_source: the source powers off and copies the disk, or copies memory; evacuate has no source. */
export async function startSource(ctx: ConductorContext, input: unknown): Promise<MovePlan> {
  const { migration_id, options } = v.parse(MoveInput, input);
  const move = await loadMove(ctx.db, migration_id);
  const { migration, instance, kind } = move;
  if (kind === 'live' && migration.control === 'cancel') {
    throw new MigrationCancelled('Cancelled before the memory copy started');
  }
  await transitionMigration(ctx.db, migration_id, 'source_started');
  const source = requireHost(migration.source_compute, 'source');
  await recordEvent(ctx.db, instance.uuid, {
    event: `conductor_${kind}_source`,
    result: 'Success',
    host: source,
  });
  if (kind === 'cold') {
    await transitionInstance(ctx.db, instance.uuid, 'resize_source_started');
    return planCommand(ctx, 'migrate_disk_and_power_off', sourceSide(move), source);
  }
  if (kind === 'live') {
    return planCommand(ctx, 'live_migration', sourceSide(move), source, {
      dest_host: migration.dest_compute,
      block_migration: options.block_migration,
    });
  }
  return noCommand();
}

export interface FinishPlan extends MovePlan {
  /** A command that powers the guest off on the destination once `command` is done, or null. */
  stop_command: PreparedCommand | null;
}

/**
 * migration.finish_destination: the destination takes over (finish_resize, post live migration,
 * rebuild). An evacuated server asked to end stopped is also powered off there once rebuilt, before
 * the move settles (Nova's rebuild stops it right after the spawn).
 */
export async function finishDestination(ctx: ConductorContext, input: unknown): Promise<FinishPlan> {
  const { migration_id, options } = v.parse(MoveInput, input);
  const move = await loadMove(ctx.db, migration_id);
  const { migration, instance, kind } = move;
  await transitionMigration(ctx.db, migration_id, 'source_done');
  const dest = requireHost(migration.dest_compute, 'destination');
  const atDest = destinationSide(move);
  // The destination takes the guest over now: its ports are bound there before it is told to, so the
  // command it gets carries them (Nova's migrate_instance_finish).
  await bindNetworksTo(ctx, instance, { host: dest, node: migration.dest_node });
  if (kind === 'cold') {
    // Nova: the guest comes back on unless it was stopped before the move (old_vm_state).
    const powerOn = instance.vm_state !== 'stopped';
    await transitionInstance(
      ctx.db,
      instance.uuid,
      'resize_source_done',
      await locationOf(ctx.db, { host: dest, node: migration.dest_node }),
    );
    return {
      ...(await planCommand(ctx, 'finish_resize', atDest, dest, { power_on: powerOn })),
      stop_command: null,
    };
  }
  if (kind === 'live') {
    return {
      ...(await planCommand(ctx, 'post_live_migration_at_destination', atDest, dest)),
      stop_command: null,
    };
  }
  const stop = options.stop_on_destination
    ? (await planCommand(ctx, 'power_off', atDest, dest)).command
    : null;
  return { ...(await planCommand(ctx, 'spawn', atDest, dest)), stop_command: stop };
}

const HostResult = v.looseObject({ power_state: v.optional(v.number()) });

export interface SettlePlan extends MovePlan {
  /** Seconds the execution waits before confirming a resize itself; 0 for every other kind. */
  confirm_window_seconds: number;
}

/**
 * migration.settle: the guest runs on the destination. A resize waits in VERIFY_RESIZE; a live
 * migration plans the source's cleanup; an evacuation has no source to clean (its agent does that
 * when the host comes back).
 */
export async function settle(ctx: ConductorContext, input: unknown): Promise<SettlePlan> {
  const { migration_id, options, result } = v.parse(MoveInput, input);
  const { power_state: powerState } = v.parse(HostResult, result);
  const move = await loadMove(ctx.db, migration_id);
  const { migration, instance, kind } = move;
  const dest = requireHost(migration.dest_compute, 'destination');
  const power = powerState === undefined ? {} : { power_state: powerState };
  await recordEvent(ctx.db, instance.uuid, {
    event: `compute_finish_${kind}`,
    result: 'Success',
    host: dest,
  });
  if (kind === 'cold') {
    await transitionInstance(ctx.db, instance.uuid, 'resize_finished', {
      ...power,
      flavor: migration.new_flavor ?? instance.flavor,
    });
    await transitionMigration(ctx.db, migration_id, 'resize_finished');
    await finishAction(ctx.db, instance.uuid);
    return { ...noCommand(), confirm_window_seconds: ctx.config.RESIZE_CONFIRM_WINDOW_SECONDS };
  }
  const moved = { ...power, ...(await locationOf(ctx.db, { host: dest, node: migration.dest_node })) };
  if (kind === 'live') {
    await transitionInstance(ctx.db, instance.uuid, 'live_migrated', moved);
    const source = requireHost(migration.source_compute, 'source');
    return { ...(await planCommand(ctx, 'terminate', sourceSide(move), source)), confirm_window_seconds: 0 };
  }
  await transitionInstance(ctx.db, instance.uuid, 'evacuated', { ...moved, launched_at: new Date() });
  if (options.stop_on_destination) await recordStoppedAfterEvacuation(ctx, instance.uuid, dest);
  return { ...noCommand(), confirm_window_seconds: 0 };
}

/**
 * The evacuated guest was powered off once rebuilt (compute 2.95): the server goes on from ACTIVE
 * through the stop action's own two transitions, as Nova's rebuild stops it. A request that took the
 * server over in between (a conflict) decides its state instead.
 */
async function recordStoppedAfterEvacuation(ctx: ConductorContext, uuid: string, host: string) {
  try {
    await transitionInstance(ctx.db, uuid, 'stop_requested');
    await transitionInstance(ctx.db, uuid, 'stopped');
  } catch (conflict) {
    if (conflict instanceof StateConflict) return;
    throw conflict;
  }
  await recordEvent(ctx.db, uuid, { event: 'compute_stop_instance', result: 'Success', host });
}

/** The source's cleanup once a resize is confirmed (through the API or by the window). */
async function planConfirm(ctx: ConductorContext, move: Move): Promise<MovePlan> {
  const source = requireHost(move.migration.source_compute, 'source');
  await recordEvent(ctx.db, move.instance.uuid, {
    event: 'conductor_confirm_resize',
    result: 'Success',
    host: source,
  });
  return planCommand(ctx, 'terminate', sourceSide(move), source);
}

/** migration.confirm: the API moved the migration to confirming; the source drops its copy. */
export async function confirm(ctx: ConductorContext, input: unknown): Promise<MovePlan> {
  return planConfirm(ctx, await moveDecided(ctx, input, 'confirming'));
}

/** The move the API has already moved on to `status` (confirm_resize or revert_resize). */
async function moveDecided(ctx: ConductorContext, input: unknown, status: 'confirming' | 'reverting') {
  const { migration_id } = v.parse(MoveInput, input);
  const move = await loadMove(ctx.db, migration_id);
  if (move.migration.status !== status) {
    throw new StateConflict(`Migration ${migration_id} is ${move.migration.status}, not ${status}`);
  }
  return move;
}

/**
 * migration.auto_confirm: the confirm window passed. Confirms only a migration still waiting
 * (`finished`); one confirmed or reverted through the API meanwhile is that request's business.
 */
export async function autoConfirm(
  ctx: ConductorContext,
  input: unknown,
): Promise<MovePlan & { confirming: boolean }> {
  const { migration_id } = v.parse(MoveInput, input);
  const move = await loadMove(ctx.db, migration_id);
  try {
    await transitionMigration(ctx.db, migration_id, 'confirm_started');
  } catch (error) {
    if (error instanceof StateConflict) return { ...noCommand(), confirming: false };
    throw error;
  }
  await transitionInstance(ctx.db, move.instance.uuid, 'confirm_resize_requested');
  return { ...(await planConfirm(ctx, move)), confirming: true };
}

/** migration.revert: the API moved the migration to reverting; the destination drops its copy first. */
export async function revert(ctx: ConductorContext, input: unknown): Promise<MovePlan> {
  const move = await moveDecided(ctx, input, 'reverting');
  const dest = requireHost(move.migration.dest_compute, 'destination');
  await recordEvent(ctx.db, move.instance.uuid, {
    event: 'conductor_revert_resize',
    result: 'Success',
    host: dest,
  });
  return planCommand(ctx, 'terminate', destinationSide(move), dest);
}

/** migration.revert_on_source: the instance is the source's again, with its old flavor; the source powers it on. */
export async function revertOnSource(ctx: ConductorContext, input: unknown): Promise<MovePlan> {
  const { migration_id } = v.parse(MoveInput, input);
  const move = await loadMove(ctx.db, migration_id);
  const atSource = sourceSide(move);
  const powerOn = move.instance.power_state === POWER_RUNNING;
  await ctx.db
    .update(instances)
    .set({ ...(await locationOf(ctx.db, atSource)), flavor: atSource.flavor, updated_at: new Date() })
    .where(and(eq(instances.uuid, move.instance.uuid), eq(instances.task_state, 'resize_reverting')));
  await bindNetworksTo(ctx, move.instance, atSource);
  return planCommand(ctx, 'finish_revert_resize', atSource, requireHost(atSource.host, 'source'), {
    power_on: powerOn,
  });
}

/** migration.complete: releases the claim on the side the guest left and ends the migration. */
export async function complete(ctx: ConductorContext, input: unknown): Promise<void> {
  const { migration_id, result } = v.parse(MoveInput, input);
  const { power_state: powerState } = v.parse(HostResult, result);
  const move = await loadMove(ctx.db, migration_id);
  const { migration, instance } = move;
  const uuid = instance.uuid;
  if (migration.status === 'confirming') {
    await transitionInstance(
      ctx.db,
      uuid,
      instance.power_state === POWER_RUNNING ? 'resize_confirmed' : 'resize_confirmed_stopped',
    );
    await keepOnlyCurrentClaim(ctx.db, uuid);
    // Quota before status: whoever sees the migration confirmed sees the project's usage settled.
    await settleResizeQuota(ctx.db, migration, 'kept');
    await transitionMigration(ctx.db, migration_id, 'confirmed');
  } else if (migration.status === 'reverting') {
    const running = (powerState ?? instance.power_state) === POWER_RUNNING;
    await transitionInstance(ctx.db, uuid, running ? 'resize_reverted' : 'resize_reverted_stopped', {
      ...(powerState === undefined ? {} : { power_state: powerState }),
    });
    await keepOnlyCurrentClaim(ctx.db, uuid);
    await settleResizeQuota(ctx.db, migration, 'undone');
    await transitionMigration(ctx.db, migration_id, 'reverted');
  } else {
    await keepOnlyCurrentClaim(ctx.db, uuid);
    await transitionMigration(ctx.db, migration_id, 'completed', { progress: 100 });
  }
  await recordEvent(ctx.db, uuid, {
    event: 'conductor_complete_migration',
    result: 'Success',
    host: instance.host,
  });
  await finishAction(ctx.db, uuid);
}
