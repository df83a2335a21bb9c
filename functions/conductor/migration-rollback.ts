import { and, eq } from 'drizzle-orm';
import * as v from 'valibot';
import { instances } from '../../schema/tables/index.ts';
import { finishAction, recordEvent } from '../compute/instance-actions.ts';
import { failInstance } from '../compute/instance-faults.ts';
import type { InstanceEvent } from '../compute/instance-states.ts';
import { type MigrationStatus, transitionMigration } from '../compute/migration-states.ts';
import { StateConflict } from '../shared/errors.ts';
import type { ConductorContext } from './context.ts';
import { loadLiveInstance } from './host-commands.ts';
import {
  bindNetworksTo,
  destinationSide,
  keepOnlyCurrentClaim,
  loadMigration,
  loadMove,
  locationOf,
  type Move,
  type MoveKind,
  type MovePlan,
  noCommand,
  planCommand,
  settleResizeQuota,
  sourceSide,
} from './migration-move.ts';
import { CaughtError, describeCaughtError } from './step-errors.ts';

// Where a failed move leaves things, by how far it got (the migration's status) and its kind. The
// guest ends on exactly one host, which holds the instance's only claim; the instance leaves its task
// state and its action ends; the migration ends in `error` (or `cancelled`) once the destination's
// cleanup is done.
//
//   status          | cold / resize                     | live                              | evacuate
//   pre-migrating   | unchanged, on source              | unchanged; dest drops incoming    | unchanged, on (down) source
//   migrating       | ERROR on source (it powered off)  | unchanged; dest drops incoming    | unchanged, on (down) source
//   post-migrating  | ERROR on source; dest drops copy  | ERROR on source; dest drops copy  | ERROR on source; dest drops copy
//     (settled)     | -                                 | stays on dest (source cleanup failed) | stays on dest
//   finished        | stays in VERIFY_RESIZE on dest (the step after finish failed)
//   confirming      | ERROR on dest (source cleanup failed)
//   reverting       | ERROR on source, old flavor (dest or source failed the revert)
type Outcome = {
  /** The instance event, or null to leave the instance as it is. */
  event: InstanceEvent | null;
  /** Which side the instance is recorded on afterwards (null: leave host/node/flavor as they are). */
  side: 'source' | 'destination' | null;
  /** A host to tell to drop its copy of the guest. */
  cleanup: 'destination' | null;
};

function outcomeFor(status: string, kind: MoveKind, settled: boolean): Outcome {
  const leave: Outcome = { event: null, side: null, cleanup: null };
  switch (status as MigrationStatus) {
    case 'pre-migrating':
    case 'migrating':
      if (kind === 'cold' && status === 'migrating')
        return { event: 'move_failed', side: 'source', cleanup: null };
      return {
        event: 'move_rolled_back',
        side: 'source',
        cleanup: kind === 'live' ? 'destination' : null,
      };
    case 'post-migrating':
      if (settled) return leave;
      return { event: 'move_failed', side: 'source', cleanup: 'destination' };
    case 'confirming':
      return { event: 'move_failed', side: 'destination', cleanup: null };
    case 'reverting':
      return { event: 'move_failed', side: 'source', cleanup: null };
    default:
      return leave;
  }
}

const RollbackInput = v.object({
  migration_id: v.pipe(v.number(), v.integer(), v.minValue(1)),
  error: CaughtError,
});

async function placeInstance(ctx: ConductorContext, move: Move, outcome: Outcome, message: string) {
  if (!outcome.event) return;
  const side =
    outcome.side === 'source'
      ? sourceSide(move)
      : outcome.side === 'destination'
        ? destinationSide(move)
        : null;
  try {
    await failInstance(
      ctx.db,
      move.instance.uuid,
      outcome.event,
      {
        code: outcome.event === 'move_failed' ? 500 : 400,
        message,
        details: `migration ${move.migration.id} (${move.migration.migration_type}) failed while ${move.migration.status}`,
      },
      side ? { ...(await locationOf(ctx.db, side)), flavor: side.flavor } : {},
    );
  } catch (conflict) {
    // An admin's reset_state took the instance over; the rest of the rollback still applies.
    if (!(conflict instanceof StateConflict)) throw conflict;
  }
}

/**
 * migration.rollback: puts the instance and its claims in the state the table above gives, and plans
 * the destination's cleanup when its copy of the guest must go. The migration itself stays where it
 * got to until migration.end_rollback, after that cleanup: a move reads `cancelled` or `error` only
 * once nothing of it is left on the destination.
 */
export async function rollback(ctx: ConductorContext, input: unknown): Promise<MovePlan> {
  const { migration_id, error } = v.parse(RollbackInput, input);
  const message = describeCaughtError(error);
  const move = await loadMove(ctx.db, migration_id);
  const { migration, instance, kind } = move;
  const settled = instance.task_state === null && instance.host === migration.dest_compute;
  const outcome = outcomeFor(migration.status, kind, settled);
  await placeInstance(ctx, move, outcome, message);
  await keepOnlyCurrentClaim(ctx.db, instance.uuid);
  // The ports follow the guest: back to the source when the move is undone (idempotent when they
  // never left it).
  const placed = await loadLiveInstance(ctx.db, instance.uuid);
  if (placed.host) await bindNetworksTo(ctx, placed, placed);
  await recordEvent(ctx.db, instance.uuid, {
    event: `conductor_${kind}_rollback`,
    result: 'Error',
    traceback: message,
  });
  // The instance's part ends here, with its task state: an action asked of it during the cleanup
  // below is another action, which must not be the one marked finished.
  await finishAction(ctx.db, instance.uuid, error.Error === 'MigrationCancelled' ? 'Cancelled' : 'Error');
  // A destination the schedule step did not record (no dest_node: only the host the request named)
  // was never sent anything, so it has nothing to drop; asking a host that is down would only delay
  // the migration's end by the command's timeout.
  if (outcome.cleanup === 'destination' && migration.dest_compute && migration.dest_node) {
    const [current] = await ctx.db
      .select({ host: instances.host })
      .from(instances)
      .where(and(eq(instances.uuid, instance.uuid), eq(instances.deleted, 0)));
    // Never tell the host the guest now lives on to destroy it.
    if (current?.host !== migration.dest_compute) {
      // A destination that is gone altogether gets no cleanup; its agent never runs the guest again.
      return planCommand(ctx, 'terminate', destinationSide(move), migration.dest_compute).catch(() =>
        noCommand(),
      );
    }
  }
  return noCommand();
}

const EndRollbackInput = v.object({
  migration_id: v.pipe(v.number(), v.integer(), v.minValue(1)),
  error: CaughtError,
  /** The rollback's plan; the workflow adds `cleanup_error` when the destination failed its cleanup. */
  plan: v.object({ cleanup_error: v.optional(CaughtError) }),
});

/**
 * migration.end_rollback: once the destination's cleanup is done (or none was needed), the migration
 * ends: `cancelled` when an admin cancelled it and the destination dropped its copy, else `error`
 * (a failed cleanup says so in error_message), and the resize's quota settles. It reads no instance:
 * the server may have been deleted during the cleanup, and its migration must end all the same.
 */
export async function endRollback(ctx: ConductorContext, input: unknown): Promise<null> {
  const { migration_id, error, plan } = v.parse(EndRollbackInput, input);
  const migration = await loadMigration(ctx.db, migration_id);
  const cleanupFailed = plan.cleanup_error
    ? `; the destination could not remove its copy: ${describeCaughtError(plan.cleanup_error)}`
    : '';
  const cancelled = error.Error === 'MigrationCancelled' && !cleanupFailed;
  try {
    await transitionMigration(ctx.db, migration_id, cancelled ? 'cancelled' : 'failed', {
      error_message: `${describeCaughtError(error)}${cleanupFailed}`.slice(0, 1024),
      control: null,
    });
    // The resize is off: a failed confirm still leaves the server on its new flavor's host, the rest
    // leave it with its old flavor.
    await settleResizeQuota(ctx.db, migration, migration.status === 'confirming' ? 'kept' : 'undone');
  } catch (conflict) {
    // Already terminal (a retried step): nothing more to record.
    if (!(conflict instanceof StateConflict)) throw conflict;
  }
  return null;
}
