import { Hono } from 'hono';
import { honouredHints, loadActivePolicies } from '../../scheduler/policies.ts';
import type { AppEnv } from '../context.ts';
import { authorize } from '../policy.ts';
import type { ExtensionInfo } from './extension.ts';

export const SCHEDULER_HINTS_EXTENSION = {
  alias: 'os-scheduler-hints',
  name: 'SchedulerHints',
  description:
    'Scheduler hints on server create (os-scheduler-hints:scheduler_hints), discoverable: every hint the active policies honour, with its JSON schema and the filters that read it.',
  version: 1,
  core: false,
} as const satisfies ExtensionInfo;

export const schedulerHintRoutes = new Hono<AppEnv>().get('/', async (c) => {
  authorize(c.var.caller, 'compute_extension:os-scheduler-hints');
  // The primary: a client that just bound a policy must see its hints at once.
  const active = await loadActivePolicies(c.var.db.$primary);
  return c.json({ scheduler_hints: honouredHints(active) });
});
