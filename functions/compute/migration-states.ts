import { and, eq, inArray } from 'drizzle-orm';
import type { MySqlUpdateSetSource } from 'drizzle-orm/mysql-core';
import type { PrimaryDb } from '../../schema/db.ts';
import { migrations } from '../../schema/tables/index.ts';
import { StateConflict } from '../shared/errors.ts';

// The life of one move as data (nova-havana.md §4.5 vocabulary): every status change of a migrations
// row is one line here, and `transitionMigration` is the only code that writes `status`, conditional on
// the statuses the event may start from. `finished` is the one resting state (VERIFY_RESIZE); the
// terminal ones are listed in TERMINAL_MIGRATION_STATUSES and no event leaves them.
export type MigrationStatus =
  | 'pre-migrating'
  | 'migrating'
  | 'post-migrating'
  | 'finished'
  | 'confirming'
  | 'confirmed'
  | 'reverting'
  | 'reverted'
  | 'done'
  | 'cancelled'
  | 'error';

export const TERMINAL_MIGRATION_STATUSES: readonly MigrationStatus[] = [
  'confirmed',
  'reverted',
  'done',
  'cancelled',
  'error',
];

/** Statuses in which a move is still under way (the destination claim is held). */
export const IN_PROGRESS_MIGRATION_STATUSES: readonly MigrationStatus[] = [
  'pre-migrating',
  'migrating',
  'post-migrating',
  'finished',
  'confirming',
  'reverting',
];

interface MigrationTransition {
  from: readonly MigrationStatus[];
  to: MigrationStatus;
}

export const MIGRATION_TRANSITIONS = {
  // the source host starts acting: powering off and copying the disk, or copying memory (live)
  source_started: { from: ['pre-migrating'], to: 'migrating' },
  // the source is done; the destination finishes (finish_resize, post_live_migration, rebuild)
  source_done: { from: ['migrating'], to: 'post-migrating' },
  // resize and cold migration: running on the destination, waiting for confirm or revert
  resize_finished: { from: ['post-migrating'], to: 'finished' },
  // confirm_resize (API or the auto-confirm window)
  confirm_started: { from: ['finished'], to: 'confirming' },
  confirmed: { from: ['confirming'], to: 'confirmed' },
  // revert_resize (API)
  revert_started: { from: ['finished'], to: 'reverting' },
  // a confirm or revert that could not go ahead (its instance write lost, its workflow did not
  // start): the resize waits in VERIFY_RESIZE again, to be decided once more
  decision_withdrawn: { from: ['confirming', 'reverting'], to: 'finished' },
  reverted: { from: ['reverting'], to: 'reverted' },
  // live migration and evacuation end here
  completed: { from: ['post-migrating'], to: 'done' },
  // an admin cancelled a live migration before the destination took over
  cancelled: { from: ['pre-migrating', 'migrating'], to: 'cancelled' },
  // any failure; the conductor's rollback has put claims and the instance in a defined state
  failed: { from: IN_PROGRESS_MIGRATION_STATUSES, to: 'error' },
} as const satisfies Record<string, MigrationTransition>;

export type MigrationEvent = keyof typeof MIGRATION_TRANSITIONS;

/**
 * Applies `event` to migration `id`, with extra column updates in the same conditional write. Any
 * status the event may not start from, its own target included, is a StateConflict naming it: of two
 * concurrent requests (a confirm and a revert, two confirms) exactly one moves the row.
 */
export async function transitionMigration(
  db: PrimaryDb,
  id: number,
  event: MigrationEvent,
  extra: MySqlUpdateSetSource<typeof migrations> = {},
): Promise<void> {
  const transition: MigrationTransition = MIGRATION_TRANSITIONS[event];
  const result = await db
    .update(migrations)
    .set({ ...extra, status: transition.to, updated_at: new Date() })
    .where(
      and(eq(migrations.id, id), eq(migrations.deleted, 0), inArray(migrations.status, transition.from)),
    );
  if (result.rowsAffected === 1) return;
  const [current] = await db
    .select({ status: migrations.status })
    .from(migrations)
    .where(and(eq(migrations.id, id), eq(migrations.deleted, 0)));
  throw new StateConflict(
    `Cannot '${event}' migration ${id} while it is ${current ? current.status : 'gone'}`,
  );
}

/** Whether `event` may fire from `status`; lets the API refuse before it writes anything. */
export function migrationTransitionAllowed(event: MigrationEvent, status: string): boolean {
  return (MIGRATION_TRANSITIONS[event].from as readonly string[]).includes(status);
}
