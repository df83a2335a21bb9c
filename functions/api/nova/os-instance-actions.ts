import { and, asc, desc, eq } from 'drizzle-orm';
import type { Context } from 'hono';
import { instanceActionEvents, instanceActions, instances } from '../../../schema/tables/index.ts';
import { NotFound } from '../../shared/errors.ts';
import type { AppEnv } from '../context.ts';
import { authorize, isAllowed } from '../policy.ts';
import { route } from '../route.ts';
import { defineExtension } from './extension.ts';

type ActionRow = typeof instanceActions.$inferSelect;

/** The server, if the caller may see it: members only their own project's (another's is a 404). */
async function findServer(c: Context<AppEnv>): Promise<string> {
  const serverId = c.req.param('server_id') ?? '';
  const caller = c.var.caller;
  const [server] = await c.var.db
    .select({ uuid: instances.uuid })
    .from(instances)
    .where(
      and(
        eq(instances.uuid, serverId),
        eq(instances.deleted, 0),
        caller.isAdmin ? undefined : eq(instances.project_id, caller.projectId),
      ),
    );
  if (!server) throw new NotFound(`Instance ${serverId} could not be found.`);
  return server.uuid;
}

function actionView(row: ActionRow) {
  return {
    action: row.action,
    instance_uuid: row.instance_uuid,
    request_id: row.request_id,
    user_id: row.user_id,
    project_id: row.project_id,
    start_time: row.start_time.toISOString(),
    message: row.message,
  };
}

export const instanceActionsExtension = defineExtension({
  alias: 'os-instance-actions',
  name: 'InstanceActions',
  description: 'View a log of actions and events taken on an instance.',
  version: 1,
  core: false,
  history: [{ version: 1, change: 'list actions of a server, show one with its events' }],
  routes: [
    route({
      method: 'get',
      path: '/v3/servers/:server_id/os-instance-actions',
      summary: 'List the actions taken on a server, newest first',
      responses: { 200: 'instance_actions' },
      handler: async (c) => {
        authorize(c.var.caller, 'compute_extension:os-instance-actions');
        const uuid = await findServer(c);
        const rows = await c.var.db
          .select()
          .from(instanceActions)
          .where(and(eq(instanceActions.instance_uuid, uuid), eq(instanceActions.deleted, 0)))
          .orderBy(desc(instanceActions.start_time), desc(instanceActions.id));
        return c.json({ instance_actions: rows.map(actionView) });
      },
    }),
    route({
      method: 'get',
      path: '/v3/servers/:server_id/os-instance-actions/:request_id',
      summary: 'Show one action with its events (tracebacks for admins only)',
      responses: { 200: 'instance_action with events' },
      handler: async (c) => {
        authorize(c.var.caller, 'compute_extension:os-instance-actions');
        const uuid = await findServer(c);
        const requestId = c.req.param('request_id') ?? '';
        const [action] = await c.var.db
          .select()
          .from(instanceActions)
          .where(
            and(
              eq(instanceActions.instance_uuid, uuid),
              eq(instanceActions.request_id, requestId),
              eq(instanceActions.deleted, 0),
            ),
          );
        if (!action) throw new NotFound(`Action ${requestId} not found on instance ${uuid}.`);
        const events = await c.var.db
          .select()
          .from(instanceActionEvents)
          .where(and(eq(instanceActionEvents.action_id, action.id), eq(instanceActionEvents.deleted, 0)))
          .orderBy(asc(instanceActionEvents.start_time), asc(instanceActionEvents.id));
        const showTraceback = isAllowed(
          c.var.caller,
          'compute_extension:os-instance-actions:events:traceback',
        );
        return c.json({
          instance_action: {
            ...actionView(action),
            events: events.map((event) => ({
              event: event.event,
              start_time: event.start_time.toISOString(),
              finish_time: event.finish_time?.toISOString() ?? null,
              result: event.result,
              ...(showTraceback ? { traceback: event.traceback } : {}),
            })),
          },
        });
      },
    }),
  ],
});
