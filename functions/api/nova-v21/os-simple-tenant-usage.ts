import { and, eq, isNotNull } from 'drizzle-orm';
import type { Context } from 'hono';
import * as v from 'valibot';
import { instances } from '../../../schema/tables/index.ts';
import { BadRequest } from '../../shared/errors.ts';
import type { AppEnv } from '../context.ts';
import { parseOrBadRequest } from '../middleware/validate.ts';
import {
  type LaunchedInstance,
  type Period,
  period,
  requireOwnUsage,
  type ServerPage,
  serversInPeriod,
  Timestamp,
  usageByProject,
} from '../nova/os-simple-tenant-usage.ts';
import { authorize } from '../policy.ts';
import { route } from '../route.ts';
import { defineFace } from './face.ts';
import { atLeast } from './microversion.ts';
import { novaTime, novaTimeOrNull } from './nova-time.ts';
import { adminPageLimit, nextPageLinks, PAGING } from './paging.ts';
import { queryOf } from './query.ts';

// os-simple-tenant-usage (clients-and-microversions.md §2, 2.40): v3's usage report in Nova's v2.1
// shape. `start` and `end` default to now, a period reaching past now stops now, times have no zone,
// and one project's report is `{}` when none of its servers ran. 2.40 pages by server (limit, marker:
// the last server's uuid) with a `next` link; 2.75 refuses unknown parameters.

const PERIOD = { start: v.optional(Timestamp), end: v.optional(Timestamp) };
const LIST = { ...PERIOD, detailed: v.optional(v.string()) };

/** The query of the list (`detailed`) or of one project's report, at this microversion. */
function usageQuery(c: Context<AppEnv>, list: boolean) {
  const strict = atLeast(c, 75);
  if (atLeast(c, 40))
    return list ? queryOf({ ...LIST, ...PAGING }, strict) : queryOf({ ...PERIOD, ...PAGING }, strict);
  return queryOf(list ? LIST : PERIOD, strict);
}

interface UsageQuery {
  start?: Date;
  end?: Date;
  detailed?: string;
  limit?: number;
  marker?: string;
}

/** The period asked for; Nova reports a period reaching past now as stopping now. */
function reportPeriod(query: UsageQuery): Period {
  const now = new Date();
  // Nova reads a missing bound as now, so a request naming neither reports an empty period (200).
  if (query.start === undefined && query.end === undefined) return { start: now, stop: now, now };
  const within = period({ start: query.start ?? now, end: query.end }, now);
  return { ...within, stop: within.stop > now ? now : within.stop };
}

/** The server a paging marker names: one that was launched, deleted or not. */
async function markerServer(c: Context<AppEnv>, marker: string): Promise<ServerPage['after']> {
  const [found] = await c.var.db
    .select({ project_id: instances.project_id, launched_at: instances.launched_at, id: instances.id })
    .from(instances)
    .where(and(eq(instances.uuid, marker), isNotNull(instances.launched_at)));
  if (!found?.launched_at) throw new BadRequest(`marker [${marker}] not found`);
  return { ...found, launched_at: found.launched_at };
}

/** The servers of the report (or of one page of it from 2.40), and the page size. */
async function reportedServers(c: Context<AppEnv>, query: UsageQuery, within: Period, projectId?: string) {
  if (!atLeast(c, 40)) return { rows: await serversInPeriod(c, within, projectId), size: undefined };
  const size = adminPageLimit(query.limit);
  const after = query.marker === undefined ? undefined : await markerServer(c, query.marker);
  return { rows: await serversInPeriod(c, within, projectId, { limit: size, after }), size };
}

type Usage = ReturnType<typeof usageByProject>[number];

function usageV21(usage: Usage) {
  return {
    ...usage,
    start: novaTime(usage.start),
    stop: novaTime(usage.stop),
    ...(usage.server_usages
      ? {
          server_usages: usage.server_usages.map((server) => ({
            ...server,
            started_at: novaTime(server.started_at),
            ended_at: novaTimeOrNull(server.ended_at),
          })),
        }
      : {}),
  };
}

/** `{[key]: [next link]}` when the page of servers is full, its marker the page's last server. */
function usageLinks<TKey extends string>(
  c: Context<AppEnv>,
  key: TKey,
  size: number | undefined,
  rows: LaunchedInstance[],
) {
  return size === undefined
    ? {}
    : nextPageLinks(c, key, { limit: size, items: rows, markerOf: (row) => row.uuid });
}

export const simpleTenantUsageFace = defineFace({
  alias: 'os-simple-tenant-usage',
  routes: [
    route({
      method: 'get',
      path: '/v2.1/os-simple-tenant-usage',
      summary: 'Usage of every project with servers in the period (admin)',
      responses: { 200: 'tenant_usages (+ server_usages when detailed=1)[, tenant_usages_links (2.40+)]' },
      handler: async (c) => {
        authorize(c.var.caller, 'compute_extension:simple_tenant_usage:list');
        const query: UsageQuery = parseOrBadRequest(usageQuery(c, true), c.req.query());
        const within = reportPeriod(query);
        const { rows, size } = await reportedServers(c, query, within);
        return c.json({
          tenant_usages: usageByProject(rows, within, query.detailed === '1').map(usageV21),
          ...usageLinks(c, 'tenant_usages_links', size, rows),
        });
      },
    }),
    route({
      method: 'get',
      path: '/v2.1/os-simple-tenant-usage/:tenant_id',
      summary: "One project's usage over the period, with each server's",
      responses: { 200: 'tenant_usage ({} when none of its servers ran)[, tenant_usage_links (2.40+)]' },
      handler: async (c) => {
        authorize(c.var.caller, 'compute_extension:simple_tenant_usage:show');
        const projectId = c.req.param('tenant_id') ?? '';
        requireOwnUsage(c, projectId);
        const query: UsageQuery = parseOrBadRequest(usageQuery(c, false), c.req.query());
        const within = reportPeriod(query);
        const { rows, size } = await reportedServers(c, query, within, projectId);
        const [usage] = usageByProject(rows, within, true);
        return c.json({
          tenant_usage: usage ? usageV21(usage) : {},
          ...usageLinks(c, 'tenant_usage_links', size, rows),
        });
      },
    }),
  ],
  microversions: [
    {
      minor: 40,
      change: 'limit/marker paging by server (marker: a server uuid) with tenant_usage(s)_links',
      routes: ['/v2.1/os-simple-tenant-usage', '/v2.1/os-simple-tenant-usage/{tenant_id}'],
    },
    {
      minor: 75,
      change: 'unknown query parameters are a 400',
      routes: ['/v2.1/os-simple-tenant-usage', '/v2.1/os-simple-tenant-usage/{tenant_id}'],
    },
    {
      minor: 102,
      change: 'unknown query parameters are a 400 on every GET (both refuse them from 2.75)',
      routes: ['/v2.1/os-simple-tenant-usage', '/v2.1/os-simple-tenant-usage/{tenant_id}'],
    },
  ],
});
