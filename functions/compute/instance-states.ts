import { and, eq, inArray, isNull, or, type SQL } from 'drizzle-orm';
import type { MySqlUpdateSetSource } from 'drizzle-orm/mysql-core';
import type { PrimaryDb } from '../../schema/db.ts';
import { instances } from '../../schema/tables/index.ts';
import { StateConflict } from '../shared/errors.ts';

// The instance lifecycle as data: every (vm_state, task_state) change is one line of this table,
// and `transitionInstance` is the only code that writes those columns. The write is conditional on
// the expected current state, so of two concurrent actions exactly one wins.
export type VmState = 'building' | 'active' | 'stopped' | 'error' | 'deleted';
export type TaskState = 'scheduling' | 'spawning' | 'deleting' | null;

const ANY_LIVE_VM_STATE: VmState[] = ['building', 'active', 'stopped', 'error'];

interface Transition {
  from: { vm_state: VmState[]; task_state: TaskState[] | 'any' };
  /** `keep` leaves vm_state as it was (task_state changes only). */
  to: { vm_state: VmState | 'keep'; task_state: TaskState };
}

export const INSTANCE_TRANSITIONS = {
  // boot workflow: the scheduler found a host and the claim on it succeeded
  claimed: {
    from: { vm_state: ['building'], task_state: ['scheduling'] },
    to: { vm_state: 'building', task_state: 'spawning' },
  },
  // boot workflow: the host's agent reports the guest running
  spawned: {
    from: { vm_state: ['building'], task_state: ['spawning'] },
    to: { vm_state: 'active', task_state: null },
  },
  // boot workflow: no valid host, a failed claim, or the agent failed/timed out
  build_failed: {
    from: { vm_state: ['building'], task_state: ['scheduling', 'spawning'] },
    to: { vm_state: 'error', task_state: null },
  },
  // DELETE /v3/servers/{id}: allowed from any live state unless a delete is already running
  delete_requested: {
    from: { vm_state: ANY_LIVE_VM_STATE, task_state: ['scheduling', 'spawning', null] },
    to: { vm_state: 'keep', task_state: 'deleting' },
  },
  // delete workflow: the host destroyed the guest (or the host was down: local delete)
  deleted: {
    from: { vm_state: ANY_LIVE_VM_STATE, task_state: ['deleting'] },
    to: { vm_state: 'deleted', task_state: null },
  },
  // delete workflow: the agent failed to destroy the guest
  delete_failed: {
    from: { vm_state: ANY_LIVE_VM_STATE, task_state: ['deleting'] },
    to: { vm_state: 'error', task_state: null },
  },
} as const satisfies Record<string, Transition>;

export type InstanceEvent = keyof typeof INSTANCE_TRANSITIONS;

function taskStateCondition(allowed: readonly TaskState[] | 'any'): SQL | undefined {
  if (allowed === 'any') return undefined;
  const named = allowed.filter((state): state is Exclude<TaskState, null> => state !== null);
  return or(
    named.length > 0 ? inArray(instances.task_state, named) : undefined,
    allowed.includes(null) ? isNull(instances.task_state) : undefined,
  );
}

/**
 * Applies `event` to the live instance `uuid`, with extra column updates in the same write.
 * Throws StateConflict (409) naming the state when the instance is not in a state the event allows.
 */
export async function transitionInstance(
  db: PrimaryDb,
  uuid: string,
  event: InstanceEvent,
  extra: MySqlUpdateSetSource<typeof instances> = {},
): Promise<void> {
  const transition: Transition = INSTANCE_TRANSITIONS[event];
  const set: MySqlUpdateSetSource<typeof instances> = {
    ...extra,
    task_state: transition.to.task_state,
    updated_at: new Date(),
    ...(transition.to.vm_state === 'keep' ? {} : { vm_state: transition.to.vm_state }),
  };
  const result = await db
    .update(instances)
    .set(set)
    .where(
      and(
        eq(instances.uuid, uuid),
        eq(instances.deleted, 0),
        inArray(instances.vm_state, transition.from.vm_state),
        taskStateCondition(transition.from.task_state),
      ),
    );
  if (result.rowsAffected === 1) return;
  const [current] = await db
    .select({ vm_state: instances.vm_state, task_state: instances.task_state })
    .from(instances)
    .where(and(eq(instances.uuid, uuid), eq(instances.deleted, 0)));
  if (!current) throw new StateConflict(`Instance ${uuid} no longer exists`);
  throw new StateConflict(
    `Cannot '${event}' instance ${uuid} while it is in vm_state ${current.vm_state}, task_state ${current.task_state ?? 'None'}`,
  );
}
