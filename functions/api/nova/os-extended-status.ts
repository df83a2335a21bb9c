import { defineExtension } from './extension.ts';

/** Havana's os-extended-status: the raw vm, task and power states behind a server's status. */
export const extendedStatusExtension = defineExtension({
  alias: 'os-extended-status',
  name: 'ExtendedStatus',
  description: 'Extended Status support: vm_state, task_state, power_state and locked_by of servers.',
  version: 1,
  core: false,
  history: [
    { version: 1, change: 'vm_state, task_state, power_state (integer), locked_by (admin/owner/null)' },
  ],
  routes: [],
  serverAttributes: (_c, instance) => ({
    'os-extended-status:vm_state': instance.vm_state,
    'os-extended-status:task_state': instance.task_state,
    'os-extended-status:power_state': instance.power_state,
    'os-extended-status:locked_by': instance.locked_by,
  }),
});
