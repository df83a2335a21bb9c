import * as v from 'valibot';
import { BadRequest } from '../../shared/errors.ts';
import { authorize } from '../policy.ts';
import { type Route, route } from '../route.ts';
import { ADMIN_ACTIONS } from './os-admin-actions.ts';
import { EVACUATE_ACTIONS } from './os-evacuate.ts';
import { FLOATING_IP_ACTIONS } from './os-floating-ips.ts';
import { loadServerForAction, type ServerAction } from './server-action-kit.ts';
import { SERVER_CORE_ACTIONS } from './server-core-actions.ts';
import { requireUnlocked } from './server-lock.ts';

// POST /v3/servers/{id}/action: the body names exactly one action, `{"<name>": <value>}`. Each action
// family (servers core, os-admin-actions, os-evacuate) declares its actions; this module only
// dispatches: validate, check the extension is enabled, policy, the lock, then run.
export const SERVER_ACTIONS: ReadonlyMap<string, ServerAction> = new Map(
  [...SERVER_CORE_ACTIONS, ...ADMIN_ACTIONS, ...EVACUATE_ACTIONS, ...FLOATING_IP_ACTIONS].map((action) => [
    action.name,
    action,
  ]),
);

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Why a body matched no action: the one message a client can act on. */
function actionBodyProblem(input: unknown): string {
  if (!isRecord(input) || Object.keys(input).length !== 1) {
    return 'Malformed request body: expected exactly one action, e.g. {"reboot": {"type": "SOFT"}}';
  }
  const [name = ''] = Object.keys(input);
  const action = SERVER_ACTIONS.get(name);
  if (!action) return `There is no such action: ${name}`;
  const result = v.safeParse(action.body, input[name], { abortPipeEarly: true });
  const issue = result.issues?.[0];
  if (!issue) return 'Malformed request body';
  const path = v.getDotPath(issue);
  return `Invalid input for field '${path ? `${name}.${path}` : name}': ${issue.message}`;
}

// One variant per action, so the OpenAPI document lists every action's body.
const ActionBody = v.union(
  [...SERVER_ACTIONS.values()].map((action) => v.strictObject({ [action.name]: action.body })),
  (issue) => actionBodyProblem(issue.input),
);

export const serverActionRoute: Route = route({
  method: 'post',
  path: '/v3/servers/:server_id/action',
  summary: 'Run a server action (reboot, start, stop, pause, lock, resize, migrate, reset_state, ...)',
  body: ActionBody,
  responses: {
    200: 'evacuate: admin_password',
    202: 'action accepted (rebuild: the server)',
    204: 'confirm_resize done',
  },
  handler: async (c, { body }) => {
    const [name = ''] = Object.keys(body);
    const action = SERVER_ACTIONS.get(name);
    // A disabled extension's actions do not exist for this deployment.
    if (!action || !c.var.extensions.some((extension) => extension.alias === action.extension)) {
      throw new BadRequest(`There is no such action: ${name}`);
    }
    authorize(c.var.caller, action.policy);
    const instance = await loadServerForAction(c, c.req.param('server_id') ?? '');
    if (!action.ignoresLock) requireUnlocked(c.var.caller, instance);
    return action.run(c, instance, body[name]);
  },
});
