import { and, eq, inArray } from 'drizzle-orm';
import type { MySqlUpdateSetSource } from 'drizzle-orm/mysql-core';
import type { PrimaryWriter } from '../../../schema/db.ts';
import { networkMigrations } from '../../../schema/tables/index.ts';
import { StateConflict } from '../../shared/errors.ts';

// The life of one nova-network → networking service migration as data: every status change of a
// network_migrations row is one line here, and `transitionNetworkMigration` is the only code that
// writes `status`, conditional on the statuses the event may start from.
//
//   planning ──dry run──> planned                 (the report is all a dry run writes)
//   planning ──conflicts / plan error──> refused  (nothing was written)
//   planning ──freeze──> migrating ──verified──> cutting_over ──> completed
//   migrating ──any failure, or a difference──> failed ──resume──> migrating
//   planning | migrating | failed ──rollback──> rolling_back ──> rolled_back
//
// From `migrating` until the run ends in completed or rolled_back, the legacy API refuses writes
// (FROZEN_STATUSES): the networking service holds a copy of the legacy state, and a legacy write would
// make the copy wrong. A failed run keeps the freeze: its copy is still there, to resume or roll back.
export type NetworkMigrationStatus =
  | 'planning'
  | 'planned'
  | 'refused'
  | 'migrating'
  | 'failed'
  | 'cutting_over'
  | 'completed'
  | 'rolling_back'
  | 'rolled_back';

/** The run has ended; no event leaves these. */
export const FINAL_STATUSES: readonly NetworkMigrationStatus[] = [
  'planned',
  'refused',
  'completed',
  'rolled_back',
];

/** The legacy network API refuses writes while a migration is in one of these. */
export const FROZEN_STATUSES: readonly NetworkMigrationStatus[] = [
  'migrating',
  'failed',
  'cutting_over',
  'rolling_back',
];

/** A new execution may pick the run up from these (after a crash, a stop, or a failure). */
export const RESUMABLE_STATUSES: readonly NetworkMigrationStatus[] = [
  'planning',
  'migrating',
  'failed',
  'cutting_over',
  'rolling_back',
];

interface NetworkMigrationTransition {
  from: readonly NetworkMigrationStatus[];
  to: NetworkMigrationStatus;
}

export const NETWORK_MIGRATION_TRANSITIONS = {
  // the plan of a dry run is written: the report is the result
  dry_run_planned: { from: ['planning'], to: 'planned' },
  // the plan found conflicts, the plan step failed, or the workflow could not be started
  refused: { from: ['planning'], to: 'refused' },
  // no conflicts: the legacy API freezes and the run starts creating
  frozen: { from: ['planning'], to: 'migrating' },
  // a step failed, a host could not re-plug, or verify found a difference
  failed: { from: ['migrating'], to: 'failed' },
  // an admin resumed a failed run
  resumed: { from: ['failed'], to: 'migrating' },
  // verify found zero differences: the deployment switches to the networking service
  cut_over_started: { from: ['migrating'], to: 'cutting_over' },
  // every migrated server's network cache is rebuilt from the networking service
  completed: { from: ['cutting_over'], to: 'completed' },
  // an admin rolled back before cut-over
  rollback_started: { from: ['planning', 'migrating', 'failed'], to: 'rolling_back' },
  // everything the run created is deleted
  rolled_back: { from: ['rolling_back'], to: 'rolled_back' },
} as const satisfies Record<string, NetworkMigrationTransition>;

export type NetworkMigrationEvent = keyof typeof NETWORK_MIGRATION_TRANSITIONS;

/**
 * Applies `event` to migration `uuid`, with extra column updates in the same conditional write. A run
 * that reaches a final status gives up its `unfinished` slot in that same write, so a new run may
 * start. Any status the event may not start from is a StateConflict naming it.
 */
export async function transitionNetworkMigration(
  db: PrimaryWriter,
  uuid: string,
  event: NetworkMigrationEvent,
  extra: MySqlUpdateSetSource<typeof networkMigrations> = {},
): Promise<void> {
  const transition: NetworkMigrationTransition = NETWORK_MIGRATION_TRANSITIONS[event];
  const now = new Date();
  const ends = FINAL_STATUSES.includes(transition.to);
  const result = await db
    .update(networkMigrations)
    .set({
      ...extra,
      status: transition.to,
      updated_at: now,
      ...(ends ? { unfinished: null, finished_at: now } : {}),
    })
    .where(and(eq(networkMigrations.uuid, uuid), inArray(networkMigrations.status, transition.from)));
  if (result.rowsAffected === 1) return;
  const [current] = await db
    .select({ status: networkMigrations.status })
    .from(networkMigrations)
    .where(eq(networkMigrations.uuid, uuid));
  throw new StateConflict(
    `Cannot '${event}' network migration ${uuid} while it is ${current ? current.status : 'gone'}`,
  );
}

/**
 * Inside a transaction: locks migration `uuid` and checks that it is in one of `statuses`, else a
 * StateConflict. Every write a step makes on the migration's behalf runs after this in one
 * transaction, so a rollback (a transition, which waits for the lock) and a step's writes never
 * interleave: a step either commits before the rollback starts, and the rollback sees what it created,
 * or finds the run rolling back and writes nothing. A locking read, not an UPDATE, because the row's
 * columns may already hold what an UPDATE would write, and the driver counts only changed rows.
 */
export async function holdNetworkMigration(
  tx: PrimaryWriter,
  uuid: string,
  statuses: readonly NetworkMigrationStatus[],
): Promise<void> {
  const [row] = await tx
    .select({ status: networkMigrations.status })
    .from(networkMigrations)
    .where(eq(networkMigrations.uuid, uuid))
    .for('update');
  if (row && (statuses as readonly string[]).includes(row.status)) return;
  throw new StateConflict(
    `Network migration ${uuid} is ${row ? row.status : 'gone'}, not ${statuses.join(' or ')}`,
  );
}

/** Whether `event` may fire from `status`; lets the API refuse before it writes anything. */
export function networkMigrationTransitionAllowed(event: NetworkMigrationEvent, status: string): boolean {
  return (NETWORK_MIGRATION_TRANSITIONS[event].from as readonly string[]).includes(status);
}
