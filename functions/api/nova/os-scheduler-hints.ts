import { honouredHints, loadActivePolicies } from '../../scheduler/policies.ts';
import { authorize } from '../policy.ts';
import { route } from '../route.ts';
import { defineExtension } from './extension.ts';

export const SCHEDULER_HINTS_ALIAS = 'os-scheduler-hints';

export const schedulerHintsExtension = defineExtension({
  alias: SCHEDULER_HINTS_ALIAS,
  name: 'SchedulerHints',
  description:
    'Scheduler hints on server create (os-scheduler-hints:scheduler_hints), discoverable: every hint the active policies honour, with its JSON schema and the filters that read it.',
  version: 1,
  core: false,
  history: [{ version: 1, change: 'list the hints the active policies honour' }],
  routes: [
    route({
      method: 'get',
      path: '/v3/os-scheduler-hints',
      summary: 'List every scheduler hint the active policies honour, with its JSON schema and filters',
      responses: { 200: 'scheduler_hints [{name, description, schema, filters, policies}]' },
      handler: async (c) => {
        authorize(c.var.caller, 'compute_extension:os-scheduler-hints');
        // The primary: a client that just bound a policy must see its hints at once.
        const active = await loadActivePolicies(c.var.db.$primary);
        return c.json({ scheduler_hints: honouredHints(active) });
      },
    }),
  ],
});
