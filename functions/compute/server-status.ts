// The API's `status` is derived from vm_state, with some task states taking precedence (Havana's
// mapping, nova-havana.md §1.7). Only the states this control plane produces are listed.
const BY_VM_STATE: Record<string, string> = {
  active: 'ACTIVE',
  building: 'BUILD',
  stopped: 'SHUTOFF',
  paused: 'PAUSED',
  suspended: 'SUSPENDED',
  resized: 'VERIFY_RESIZE',
  error: 'ERROR',
  deleted: 'DELETED',
};

const BY_TASK_STATE: Record<string, string> = {
  deleting: 'DELETING',
  rebooting: 'REBOOT',
  rebooting_hard: 'HARD_REBOOT',
  rebuilding: 'REBUILD',
  resize_prep: 'RESIZE',
  resize_reverting: 'REVERT_RESIZE',
  migrating: 'MIGRATING',
};

export function serverStatus(vmState: string, taskState: string | null): string {
  return (taskState && BY_TASK_STATE[taskState]) || BY_VM_STATE[vmState] || 'UNKNOWN';
}

/** `progress` is shown only while it means something. */
export const STATUSES_WITH_PROGRESS = new Set(['ACTIVE', 'BUILD', 'REBUILD', 'RESIZE', 'VERIFY_RESIZE']);
