import type { ComputeCommandName } from '../../schema/objects/compute-command.ts';
import type { InstanceEvent } from './instance-states.ts';

// The server actions a host carries out (workflows/server-action.ts): the command its agent runs and
// the transition that finishes the action once the agent succeeded. The transition that starts each
// one is the API's choice (reboot SOFT and HARD start differently and finish alike).
export const HOST_ACTIONS = {
  reboot: { command: 'reboot', done: 'rebooted' },
  start: { command: 'power_on', done: 'started' },
  stop: { command: 'power_off', done: 'stopped' },
  pause: { command: 'pause', done: 'paused' },
  unpause: { command: 'unpause', done: 'unpaused' },
  suspend: { command: 'suspend', done: 'suspended' },
  resume: { command: 'resume', done: 'resumed' },
  rebuild: { command: 'rebuild', done: 'rebuilt' },
} as const satisfies Record<string, { command: ComputeCommandName; done: InstanceEvent }>;

export type HostAction = keyof typeof HOST_ACTIONS;
export const HOST_ACTION_NAMES = Object.keys(HOST_ACTIONS) as HostAction[];
