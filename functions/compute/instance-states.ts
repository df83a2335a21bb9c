import { and, eq, inArray, isNull, or, type SQL } from 'drizzle-orm';
import type { MySqlUpdateSetSource } from 'drizzle-orm/mysql-core';
import type { PrimaryWriter } from '../../schema/db.ts';
import { instances } from '../../schema/tables/index.ts';
import { StateConflict } from '../shared/errors.ts';

// The instance lifecycle as data: every (vm_state, task_state) change is one line of this table,
// and `transitionInstance` is the only code that writes those columns. The write is conditional on
// the expected current state, so of two concurrent actions exactly one wins.
export type VmState =
  | 'building'
  | 'active'
  | 'stopped'
  | 'paused'
  | 'suspended'
  | 'resized'
  | 'error'
  | 'deleted';
export type TaskState =
  | 'scheduling'
  | 'spawning'
  | 'deleting'
  | 'rebooting'
  | 'rebooting_hard'
  | 'powering-off'
  | 'powering-on'
  | 'pausing'
  | 'unpausing'
  | 'suspending'
  | 'resuming'
  | 'rebuilding'
  | 'resize_prep'
  | 'resize_migrating'
  | 'resize_migrated'
  | 'resize_confirming'
  | 'resize_reverting'
  | 'migrating'
  | null;

const ANY_LIVE_VM_STATE: VmState[] = [
  'building',
  'active',
  'stopped',
  'paused',
  'suspended',
  'resized',
  'error',
];
/** Task states of the server actions that run on the host (workflows/server-action.ts). */
const SERVER_ACTION_TASK_STATES: TaskState[] = [
  'rebooting',
  'rebooting_hard',
  'powering-off',
  'powering-on',
  'pausing',
  'unpausing',
  'suspending',
  'resuming',
  'rebuilding',
];
/** Task states set when a move starts (the migrate-server workflow takes them from there). */
const MIGRATION_TASK_STATES: TaskState[] = [
  'resize_prep',
  'resize_migrating',
  'resize_migrated',
  'resize_confirming',
  'resize_reverting',
  'migrating',
];

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
  // DELETE /v3/servers/{id}: allowed from any live state unless a delete is already running. A server
  // in VERIFY_RESIZE (resized) has a copy on each of two hosts: it is confirmed or reverted first
  // (or by the confirm window), so that no copy and no claim is left behind.
  delete_requested: {
    from: {
      vm_state: ANY_LIVE_VM_STATE.filter((state) => state !== 'resized'),
      task_state: ['scheduling', 'spawning', null, ...SERVER_ACTION_TASK_STATES],
    },
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
  // action reboot {type: SOFT}
  reboot_requested: {
    from: { vm_state: ['active'], task_state: [null] },
    to: { vm_state: 'keep', task_state: 'rebooting' },
  },
  // action reboot {type: HARD}: also recovers a guest that is stopped, paused, suspended or in error
  hard_reboot_requested: {
    from: { vm_state: ['active', 'stopped', 'paused', 'suspended', 'error'], task_state: [null] },
    to: { vm_state: 'keep', task_state: 'rebooting_hard' },
  },
  // server-action workflow: the host rebooted the guest
  rebooted: {
    from: {
      vm_state: ['active', 'stopped', 'paused', 'suspended', 'error'],
      task_state: ['rebooting', 'rebooting_hard'],
    },
    to: { vm_state: 'active', task_state: null },
  },
  // action stop
  stop_requested: {
    from: { vm_state: ['active', 'error'], task_state: [null] },
    to: { vm_state: 'keep', task_state: 'powering-off' },
  },
  // server-action workflow: the host powered the guest off
  stopped: {
    from: { vm_state: ['active', 'error'], task_state: ['powering-off'] },
    to: { vm_state: 'stopped', task_state: null },
  },
  // action start
  start_requested: {
    from: { vm_state: ['stopped'], task_state: [null] },
    to: { vm_state: 'keep', task_state: 'powering-on' },
  },
  // server-action workflow: the host powered the guest on
  started: {
    from: { vm_state: ['stopped'], task_state: ['powering-on'] },
    to: { vm_state: 'active', task_state: null },
  },
  // action pause
  pause_requested: {
    from: { vm_state: ['active'], task_state: [null] },
    to: { vm_state: 'keep', task_state: 'pausing' },
  },
  // server-action workflow: the host paused the guest
  paused: {
    from: { vm_state: ['active'], task_state: ['pausing'] },
    to: { vm_state: 'paused', task_state: null },
  },
  // action unpause
  unpause_requested: {
    from: { vm_state: ['paused'], task_state: [null] },
    to: { vm_state: 'keep', task_state: 'unpausing' },
  },
  // server-action workflow: the host unpaused the guest
  unpaused: {
    from: { vm_state: ['paused'], task_state: ['unpausing'] },
    to: { vm_state: 'active', task_state: null },
  },
  // action suspend
  suspend_requested: {
    from: { vm_state: ['active'], task_state: [null] },
    to: { vm_state: 'keep', task_state: 'suspending' },
  },
  // server-action workflow: the host suspended the guest
  suspended: {
    from: { vm_state: ['active'], task_state: ['suspending'] },
    to: { vm_state: 'suspended', task_state: null },
  },
  // action resume
  resume_requested: {
    from: { vm_state: ['suspended'], task_state: [null] },
    to: { vm_state: 'keep', task_state: 'resuming' },
  },
  // server-action workflow: the host resumed the guest
  resumed: {
    from: { vm_state: ['suspended'], task_state: ['resuming'] },
    to: { vm_state: 'active', task_state: null },
  },
  // action rebuild
  rebuild_requested: {
    from: { vm_state: ['active', 'stopped', 'error'], task_state: [null] },
    to: { vm_state: 'keep', task_state: 'rebuilding' },
  },
  // server-action workflow: the host rebuilt the guest from its (new) image and started it
  rebuilt: {
    from: { vm_state: ['active', 'stopped', 'error'], task_state: ['rebuilding'] },
    to: { vm_state: 'active', task_state: null },
  },
  // server-action workflow: the host failed the operation (or timed out); the fault says why
  server_action_failed: {
    from: { vm_state: ANY_LIVE_VM_STATE, task_state: SERVER_ACTION_TASK_STATES },
    to: { vm_state: 'error', task_state: null },
  },
  // POST .../action: the server-action workflow could not be started, so nothing will act on the task
  server_action_abandoned: {
    from: {
      vm_state: ANY_LIVE_VM_STATE,
      task_state: [...SERVER_ACTION_TASK_STATES, ...MIGRATION_TASK_STATES],
    },
    to: { vm_state: 'keep', task_state: null },
  },
  // action resize (the migrate-server workflow runs it)
  resize_requested: {
    from: { vm_state: ['active', 'stopped'], task_state: [null] },
    to: { vm_state: 'keep', task_state: 'resize_prep' },
  },
  // action migrate (cold): the same path as a resize to the same flavor
  migrate_requested: {
    from: { vm_state: ['active', 'stopped'], task_state: [null] },
    to: { vm_state: 'keep', task_state: 'resize_prep' },
  },
  // action confirm_resize
  confirm_resize_requested: {
    from: { vm_state: ['resized'], task_state: [null] },
    to: { vm_state: 'keep', task_state: 'resize_confirming' },
  },
  // action revert_resize
  revert_resize_requested: {
    from: { vm_state: ['resized'], task_state: [null] },
    to: { vm_state: 'keep', task_state: 'resize_reverting' },
  },
  // action migrate_live
  live_migrate_requested: {
    from: { vm_state: ['active', 'paused'], task_state: [null] },
    to: { vm_state: 'keep', task_state: 'migrating' },
  },
  // action evacuate (the source host is down): rebuild the server elsewhere
  evacuate_requested: {
    from: { vm_state: ['active', 'stopped', 'error'], task_state: [null] },
    to: { vm_state: 'keep', task_state: 'rebuilding' },
  },
  // migrate-server workflow (cold migrate / resize): the source powers off and copies the disk
  resize_source_started: {
    from: { vm_state: ['active', 'stopped'], task_state: ['resize_prep'] },
    to: { vm_state: 'keep', task_state: 'resize_migrating' },
  },
  // migrate-server workflow: the source is done; host/node now name the destination
  resize_source_done: {
    from: { vm_state: ['active', 'stopped'], task_state: ['resize_migrating'] },
    to: { vm_state: 'keep', task_state: 'resize_migrated' },
  },
  // migrate-server workflow: running on the destination with the new flavor (VERIFY_RESIZE)
  resize_finished: {
    from: { vm_state: ['active', 'stopped'], task_state: ['resize_migrated'] },
    to: { vm_state: 'resized', task_state: null },
  },
  // migrate-server workflow: confirmed (source cleaned up); the guest runs, or stays off if it was off
  resize_confirmed: {
    from: { vm_state: ['resized'], task_state: ['resize_confirming'] },
    to: { vm_state: 'active', task_state: null },
  },
  resize_confirmed_stopped: {
    from: { vm_state: ['resized'], task_state: ['resize_confirming'] },
    to: { vm_state: 'stopped', task_state: null },
  },
  // migrate-server workflow: reverted to the source and the old flavor
  resize_reverted: {
    from: { vm_state: ['resized'], task_state: ['resize_reverting'] },
    to: { vm_state: 'active', task_state: null },
  },
  resize_reverted_stopped: {
    from: { vm_state: ['resized'], task_state: ['resize_reverting'] },
    to: { vm_state: 'stopped', task_state: null },
  },
  // migrate-server workflow: the live migration completed; host/node name the destination
  live_migrated: {
    from: { vm_state: ['active', 'paused'], task_state: ['migrating'] },
    to: { vm_state: 'keep', task_state: null },
  },
  // migrate-server workflow: rebuilt on the destination after its host failed
  evacuated: {
    from: { vm_state: ['active', 'stopped', 'error'], task_state: ['rebuilding'] },
    to: { vm_state: 'active', task_state: null },
  },
  // migrate-server workflow: the move failed before anything changed for the guest; it stays as it was
  move_rolled_back: {
    from: { vm_state: ANY_LIVE_VM_STATE, task_state: [...MIGRATION_TASK_STATES, 'rebuilding'] },
    to: { vm_state: 'keep', task_state: null },
  },
  // migrate-server workflow: the move failed after the guest was touched; the fault says why
  move_failed: {
    from: { vm_state: ANY_LIVE_VM_STATE, task_state: [...MIGRATION_TASK_STATES, 'rebuilding'] },
    to: { vm_state: 'error', task_state: null },
  },
  // action reset_state {state: active} (admin): clears whatever task was stuck
  reset_to_active: {
    from: { vm_state: ANY_LIVE_VM_STATE, task_state: 'any' },
    to: { vm_state: 'active', task_state: null },
  },
  // action reset_state {state: error} (admin)
  reset_to_error: {
    from: { vm_state: ANY_LIVE_VM_STATE, task_state: 'any' },
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

/** Whether `event` may fire now; lets a caller validate before it writes anything. */
export function transitionAllowed(event: InstanceEvent, vmState: string, taskState: string | null): boolean {
  const transition: Transition = INSTANCE_TRANSITIONS[event];
  const tasks = transition.from.task_state;
  return (
    (transition.from.vm_state as readonly string[]).includes(vmState) &&
    (tasks === 'any' || (tasks as readonly (string | null)[]).includes(taskState))
  );
}

/** The 409 every refused transition answers with, naming the state the instance is in. */
export function stateConflict(event: InstanceEvent, uuid: string, vmState: string, taskState: string | null) {
  return new StateConflict(
    `Cannot '${event}' instance ${uuid} while it is in vm_state ${vmState}, task_state ${taskState ?? 'None'}`,
  );
}

/**
 * Applies `event` to the live instance `uuid`, with extra column updates in the same write.
 * Throws StateConflict (409) naming the state when the instance is not in a state the event allows.
 */
export async function transitionInstance(
  db: PrimaryWriter,
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
  throw stateConflict(event, uuid, current.vm_state, current.task_state);
}
