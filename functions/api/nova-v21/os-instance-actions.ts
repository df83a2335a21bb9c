import type { Context } from 'hono';
import * as v from 'valibot';
import { BadRequest, NotFound } from '../../shared/errors.ts';
import type { AppEnv } from '../context.ts';
import { parseOrBadRequest } from '../middleware/validate.ts';
import {
  type ActionEventRow,
  type ActionRow,
  findAction,
  findActionServer,
  listActions,
  listEvents,
} from '../nova/os-instance-actions.ts';
import { hostId } from '../nova/server-view.ts';
import { authorize, isAllowed } from '../policy.ts';
import { route } from '../route.ts';
import { defineFace } from './face.ts';
import { atLeast } from './microversion.ts';
import { novaTime, novaTimeOrNull } from './nova-time.ts';
import { nextPageLinks, PAGING, pageLimit } from './paging.ts';
import { ChangeTime, strictQuery } from './query.ts';

// os-instance-actions under v2.1's names (clients-and-microversions.md §4.1): `instanceActions` and
// `instanceAction`, read with the v3 extension's queries. The microversions add deleted servers
// (2.21), paging, changes-since and updated_at (2.58), where each event ran (2.62) and why a failed
// one failed (2.84).

/** The list's query from 2.58 (Nova refuses any other parameter); changes-before from 2.66. */
function pageQuery(c: Context<AppEnv>) {
  return v.strictObject({
    ...PAGING,
    'changes-since': v.optional(ChangeTime),
    'changes-before': v.optional(
      atLeast(c, 66) ? ChangeTime : v.never('changes-before is accepted from microversion 2.66'),
    ),
  });
}

function serverOf(c: Context<AppEnv>) {
  authorize(c.var.caller, 'compute_extension:os-instance-actions');
  return findActionServer(c, { withDeleted: atLeast(c, 21) });
}

function actionView(c: Context<AppEnv>, row: ActionRow) {
  return {
    action: row.action,
    instance_uuid: row.instance_uuid,
    request_id: row.request_id,
    user_id: row.user_id,
    project_id: row.project_id,
    start_time: novaTime(row.start_time),
    message: row.message,
    // An action nothing has updated since it started was last changed when it started.
    ...(atLeast(c, 58) ? { updated_at: novaTime(row.updated_at ?? row.created_at) } : {}),
  };
}

async function eventView(
  c: Context<AppEnv>,
  event: ActionEventRow,
  projectId: string,
  show: { traceback: boolean; host: boolean; details: boolean },
) {
  return {
    event: event.event,
    start_time: novaTime(event.start_time),
    finish_time: novaTimeOrNull(event.finish_time),
    result: event.result,
    ...(show.traceback ? { traceback: event.traceback } : {}),
    ...(show.host ? { host: event.host } : {}),
    ...(atLeast(c, 62) ? { hostId: event.host ? await hostId(projectId, event.host) : '' } : {}),
    ...(show.details ? { details: event.details } : {}),
  };
}

/** The actions of one page, and the link to the next when the page is full (from 2.58). */
async function listPage(c: Context<AppEnv>, uuid: string) {
  if (!atLeast(c, 58)) return { instanceActions: await listActions(c.var.db, uuid) };
  const page = parseOrBadRequest(pageQuery(c), c.req.query());
  const since = page['changes-since'];
  const before = page['changes-before'];
  if (since && before && before < since) {
    throw new BadRequest('The value of changes-since must be less than or equal to changes-before.');
  }
  const after = page.marker
    ? await findAction(c.var.db, uuid, page.marker).catch((error: unknown) => {
        if (error instanceof NotFound) throw new BadRequest(`Marker ${page.marker} could not be found.`);
        throw error;
      })
    : undefined;
  const limit = pageLimit(page.limit);
  const rows = await listActions(c.var.db, uuid, {
    after,
    changesSince: since,
    changesBefore: before,
    limit,
  });
  return {
    instanceActions: rows,
    ...nextPageLinks(c, 'links', { limit, items: rows, markerOf: (row) => row.request_id }),
  };
}

export const instanceActionsFace = defineFace({
  alias: 'os-instance-actions',
  routes: [
    route({
      method: 'get',
      path: '/v2.1/servers/:server_id/os-instance-actions',
      summary: 'List the actions taken on a server, newest first',
      responses: { 200: 'instanceActions (links to the next page from 2.58)' },
      handler: async (c) => {
        const { uuid } = await serverOf(c);
        const { instanceActions, ...links } = await listPage(c, uuid);
        return c.json({ instanceActions: instanceActions.map((row) => actionView(c, row)), ...links });
      },
    }),
    strictQuery(
      route({
        method: 'get',
        path: '/v2.1/servers/:server_id/os-instance-actions/:request_id',
        summary: 'Show one action; its events for admins (for everyone from 2.51), tracebacks for admins',
        responses: { 200: 'instanceAction' },
        handler: async (c) => {
          const { uuid } = await serverOf(c);
          const requestId = c.req.param('request_id') ?? '';
          const action = await findAction(c.var.db, uuid, requestId).catch((error: unknown) => {
            if (error instanceof NotFound) throw new NotFound(`Action ${requestId} not found`);
            throw error;
          });
          // Nova shows events with their tracebacks to those its events policy allows (admins), and from
          // 2.51 the events without tracebacks to everyone else; event hosts only to the former, from 2.62;
          // from 2.84 a failed event's details to those its events:details policy allows: admins by
          // default, whom the traceback rule here names too.
          const privileged = isAllowed(
            c.var.caller,
            'compute_extension:os-instance-actions:events:traceback',
          );
          const showEvents = privileged || atLeast(c, 51);
          const events = showEvents ? await listEvents(c.var.db, action.id) : [];
          const show = {
            traceback: privileged,
            host: privileged && atLeast(c, 62),
            details: privileged && atLeast(c, 84),
          };
          return c.json({
            instanceAction: {
              ...actionView(c, action),
              ...(showEvents
                ? {
                    events: await Promise.all(
                      events.map((event) => eventView(c, event, action.project_id, show)),
                    ),
                  }
                : {}),
            },
          });
        },
      }),
      102,
    ),
  ],
  microversions: [
    {
      minor: 21,
      change: 'the actions of a deleted server can still be listed and shown',
      routes: ['/v2.1/servers/{server_id}/os-instance-actions[/{request_id}]'],
    },
    {
      minor: 51,
      change:
        "events of an action are shown to its server's owner too, without tracebacks (the volume-extended event concerns os-server-external-events, which is not served)",
      routes: ['/v2.1/servers/{server_id}/os-instance-actions/{request_id}'],
    },
    {
      minor: 58,
      change:
        'limit/marker (request id) paging with a next link, changes-since, and updated_at on every action',
      routes: ['/v2.1/servers/{server_id}/os-instance-actions[/{request_id}]'],
    },
    {
      minor: 62,
      change: 'events show hostId to everyone and host to admins',
      routes: ['/v2.1/servers/{server_id}/os-instance-actions/{request_id}'],
    },
    {
      minor: 66,
      change: 'changes-before filters the list (the servers list has no changes-before yet)',
      routes: ['/v2.1/servers/{server_id}/os-instance-actions'],
    },
    {
      minor: 84,
      change:
        "events show details to admins: a failed event's fault message (null for one that succeeded or was recorded before details were kept)",
      routes: ['/v2.1/servers/{server_id}/os-instance-actions/{request_id}'],
    },
    {
      minor: 102,
      change: 'unknown query parameters are a 400 on every GET (the list refuses them from 2.58)',
      routes: [
        '/v2.1/servers/{server_id}/os-instance-actions',
        '/v2.1/servers/{server_id}/os-instance-actions/{request_id}',
      ],
    },
  ],
});
