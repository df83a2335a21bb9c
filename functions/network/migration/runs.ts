import { and, count, eq } from 'drizzle-orm';
import type { PrimaryWriter } from '../../../schema/db.ts';
import {
  type NetworkMigrationProgress,
  type NetworkMigrationReport,
  networkMigrationMap,
  networkMigrationPlugs,
  networkMigrations,
} from '../../../schema/tables/index.ts';
import { NotFound } from '../../shared/errors.ts';
import type { NetworkMigrationPlan } from './plan.ts';

// A migration run's row: loading it, and the progress and report each step writes on it.

export type NetworkMigrationRow = typeof networkMigrations.$inferSelect;

type Reader = Pick<PrimaryWriter, 'select'>;

export async function loadNetworkMigration(db: Reader, uuid: string): Promise<NetworkMigrationRow> {
  const [row] = await db.select().from(networkMigrations).where(eq(networkMigrations.uuid, uuid));
  if (!row) throw new NotFound(`Network migration ${uuid} could not be found.`);
  return row;
}

/** What the plan counts, before anything exists: the `total` of each progress counter. */
export function plannedProgress(plan: NetworkMigrationPlan): NetworkMigrationProgress {
  const total = (n: number) => ({ total: n, done: 0 });
  return {
    networks: total(plan.networks.length),
    subnets: total(plan.networks.length),
    ports: total(plan.ports.length),
    routers: total(plan.routers.length),
    floating_ips: total(plan.floating_ips.length),
    instances_plugged: total(plan.instances_to_plug),
  };
}

/**
 * Sets each counter's `done` from what exists (the map and the agents' answers), so a resumed run's
 * counters are right however often a batch ran, and records the step. Runs inside the step's
 * transaction, after its writes.
 */
export async function recordProgress(tx: PrimaryWriter, uuid: string, step: string): Promise<void> {
  const [row] = await tx
    .select({ progress: networkMigrations.progress })
    .from(networkMigrations)
    .where(eq(networkMigrations.uuid, uuid));
  const mapped = await tx
    .select({ kind: networkMigrationMap.kind, n: count() })
    .from(networkMigrationMap)
    .where(eq(networkMigrationMap.migration_uuid, uuid))
    .groupBy(networkMigrationMap.kind);
  const [plugged] = await tx
    .select({ n: count() })
    .from(networkMigrationPlugs)
    .where(and(eq(networkMigrationPlugs.migration_uuid, uuid), eq(networkMigrationPlugs.status, 'plugged')));
  const progress: NetworkMigrationProgress = { ...row?.progress };
  const done = (key: string, n: number) => {
    progress[key] = { total: progress[key]?.total ?? n, done: n };
  };
  const byKind = new Map(mapped.map((entry) => [entry.kind, entry.n]));
  done('networks', byKind.get('network') ?? 0);
  done('subnets', byKind.get('subnet') ?? 0);
  done('ports', byKind.get('port') ?? 0);
  done('routers', byKind.get('router') ?? 0);
  done('floating_ips', byKind.get('floatingip') ?? 0);
  done('instances_plugged', plugged?.n ?? 0);
  await tx
    .update(networkMigrations)
    .set({ progress, step, updated_at: new Date() })
    .where(eq(networkMigrations.uuid, uuid));
}

/** Sets one counter outright (the cut-over's caches, the rollback's deletions). */
export async function recordCounter(
  tx: PrimaryWriter,
  uuid: string,
  step: string,
  key: string,
  counter: { total: number; done: number },
): Promise<void> {
  const [row] = await tx
    .select({ progress: networkMigrations.progress })
    .from(networkMigrations)
    .where(eq(networkMigrations.uuid, uuid));
  await tx
    .update(networkMigrations)
    .set({ progress: { ...row?.progress, [key]: counter }, step, updated_at: new Date() })
    .where(eq(networkMigrations.uuid, uuid));
}

/** Merges `patch` into the report (each key replaced whole). */
export async function recordReport(
  tx: PrimaryWriter,
  uuid: string,
  patch: NetworkMigrationReport,
): Promise<void> {
  const [row] = await tx
    .select({ report: networkMigrations.report })
    .from(networkMigrations)
    .where(eq(networkMigrations.uuid, uuid));
  await tx
    .update(networkMigrations)
    .set({ report: { ...row?.report, ...patch }, updated_at: new Date() })
    .where(eq(networkMigrations.uuid, uuid));
}
