import { and, asc, desc, eq, gte, lt, lte, or, type SQL, sql } from 'drizzle-orm';
import type { Context } from 'hono';
import type { PrimaryDb } from '../../../schema/db.ts';
import { instanceActionEvents, instanceActions, instances } from '../../../schema/tables/index.ts';
import { NotFound } from '../../shared/errors.ts';
import type { AppEnv } from '../context.ts';
import { authorize, isAllowed } from '../policy.ts';
import { route } from '../route.ts';
import { defineExtension } from './extension.ts';

// The log of what was asked of a server. The queries are exported for the /v2.1 face, which reads
// the same rows with paging and, from 2.21, for deleted servers too.
export type ActionRow = typeof instanceActions.$inferSelect;
export type ActionEventRow = typeof instanceActionEvents.$inferSelect;
type Reader = Pick<PrimaryDb, 'select'>;

/**
 * The server whose actions are asked for, if the caller may see it: members only their own project's
 * (another's is a 404). `withDeleted` also finds a deleted server, whose actions outlive it.
 */
export async function findActionServer(
  c: Context<AppEnv>,
  { withDeleted }: { withDeleted: boolean },
): Promise<{ uuid: string }> {
  const serverId = c.req.param('server_id') ?? '';
  const caller = c.var.caller;
  const [server] = await c.var.db
    .select({ uuid: instances.uuid })
    .from(instances)
    .where(
      and(
        eq(instances.uuid, serverId),
        withDeleted ? undefined : eq(instances.deleted, 0),
        caller.isAdmin ? undefined : eq(instances.project_id, caller.projectId),
      ),
    );
  if (!server) throw new NotFound(`Instance ${serverId} could not be found.`);
  return server;
}

/**
 * A server's actions, newest first. `after` starts the page after that action, `changesSince` and
 * `changesBefore` keep those last changed (updated, or else started) within that time, and `limit`
 * caps the page.
 */
export function listActions(
  db: Reader,
  uuid: string,
  page: { after?: ActionRow; changesSince?: Date; changesBefore?: Date; limit?: number } = {},
): Promise<ActionRow[]> {
  const { after, changesSince, changesBefore, limit } = page;
  const lastChanged = sql`COALESCE(${instanceActions.updated_at}, ${instanceActions.created_at})`;
  const afterMarker: SQL | undefined = after
    ? or(
        lt(instanceActions.start_time, after.start_time),
        and(eq(instanceActions.start_time, after.start_time), lt(instanceActions.id, after.id)),
      )
    : undefined;
  const query = db
    .select()
    .from(instanceActions)
    .where(
      and(
        eq(instanceActions.instance_uuid, uuid),
        eq(instanceActions.deleted, 0),
        afterMarker,
        changesSince ? gte(lastChanged, changesSince) : undefined,
        changesBefore ? lte(lastChanged, changesBefore) : undefined,
      ),
    )
    .orderBy(desc(instanceActions.start_time), desc(instanceActions.id));
  return limit === undefined ? query : query.limit(limit);
}

/** One action of a server by the request id that started it, or 404. */
export async function findAction(db: Reader, uuid: string, requestId: string): Promise<ActionRow> {
  const [action] = await db
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
  return action;
}

/** The steps an action took, in the order they started. */
export function listEvents(db: Reader, actionId: number): Promise<ActionEventRow[]> {
  return db
    .select()
    .from(instanceActionEvents)
    .where(and(eq(instanceActionEvents.action_id, actionId), eq(instanceActionEvents.deleted, 0)))
    .orderBy(asc(instanceActionEvents.start_time), asc(instanceActionEvents.id));
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
        const { uuid } = await findActionServer(c, { withDeleted: false });
        return c.json({ instance_actions: (await listActions(c.var.db, uuid)).map(actionView) });
      },
    }),
    route({
      method: 'get',
      path: '/v3/servers/:server_id/os-instance-actions/:request_id',
      summary: 'Show one action with its events (tracebacks for admins only)',
      responses: { 200: 'instance_action with events' },
      handler: async (c) => {
        authorize(c.var.caller, 'compute_extension:os-instance-actions');
        const { uuid } = await findActionServer(c, { withDeleted: false });
        const action = await findAction(c.var.db, uuid, c.req.param('request_id') ?? '');
        const events = await listEvents(c.var.db, action.id);
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
