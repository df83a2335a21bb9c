import { and, asc, eq, gt, isNull, lt, or } from 'drizzle-orm';
import type { Context } from 'hono';
import * as v from 'valibot';
import { eqIfGiven } from '../../../schema/conditions.ts';
import { instances } from '../../../schema/tables/index.ts';
import { BadRequest, NotFound } from '../../shared/errors.ts';
import type { AppEnv } from '../context.ts';
import { authorize } from '../policy.ts';
import { route } from '../route.ts';
import { defineExtension } from './extension.ts';

// Havana's os-simple-tenant-usage: what each project's servers used over a period, in hours of
// servers, vCPUs, RAM and disk. Deleted servers count for the time they ran (their soft-deleted rows
// keep launched_at and terminated_at until db:archive moves them to the shadow tables).
/** Only servers that were launched ran, so only they used anything. */
export type LaunchedInstance = typeof instances.$inferSelect & { launched_at: Date };

// Havana took naive timestamps as UTC (`2012-10-08T21:00:00`, `2012-10-08 21:00:00.000000`).
export const Timestamp = v.pipe(
  v.string(),
  v.transform((text) => {
    const iso = text.trim().replace(' ', 'T');
    return new Date(/[zZ]|[+-]\d{2}:?\d{2}$/.test(iso) ? iso : `${iso}Z`);
  }),
  v.check((date) => !Number.isNaN(date.getTime()), 'must be an ISO 8601 timestamp'),
);

const UsageQuery = v.object({
  start: Timestamp,
  /** Defaults to now. */
  end: v.optional(Timestamp),
  detailed: v.optional(v.picklist(['0', '1'], "detailed must be '0' or '1'"), '0'),
});

export interface Period {
  start: Date;
  stop: Date;
  now: Date;
}

export function period(query: { start: Date; end?: Date }, now = new Date()): Period {
  const stop = query.end ?? now;
  if (query.start.getTime() >= stop.getTime()) {
    throw new BadRequest('Invalid start time. The start time cannot occur after the end time.');
  }
  return { start: query.start, stop, now };
}

/** Hours the server ran within the period; never beyond now (a report about the future charges nothing). */
function hoursWithin(instance: LaunchedInstance, { start, stop, now }: Period): number {
  const from = Math.max(instance.launched_at.getTime(), start.getTime());
  const to = Math.min(stop.getTime(), now.getTime(), instance.terminated_at?.getTime() ?? Infinity);
  return Math.max(0, to - from) / 3_600_000;
}

function serverUsage(instance: LaunchedInstance, within: Period) {
  const endedAt = instance.terminated_at;
  const startedAt = instance.launched_at;
  return {
    instance_id: instance.uuid,
    name: instance.display_name,
    tenant_id: instance.project_id,
    flavor: instance.flavor.name,
    vcpus: instance.flavor.vcpus,
    memory_mb: instance.flavor.memory_mb,
    local_gb: instance.flavor.root_gb + instance.flavor.ephemeral_gb,
    hours: hoursWithin(instance, within),
    started_at: startedAt.toISOString(),
    ended_at: endedAt?.toISOString() ?? null,
    state: endedAt ? 'terminated' : instance.vm_state,
    uptime: Math.floor(((endedAt ?? within.now).getTime() - startedAt.getTime()) / 1000),
  };
}

/** One project's usage: totals over its servers, and each server's own when `detailed`. */
export function tenantUsage(projectId: string, rows: LaunchedInstance[], within: Period, detailed: boolean) {
  const servers = rows.map((row) => serverUsage(row, within));
  const sum = (amount: (server: ReturnType<typeof serverUsage>) => number) =>
    servers.reduce((total, server) => total + amount(server), 0);
  return {
    tenant_id: projectId,
    start: within.start.toISOString(),
    stop: within.stop.toISOString(),
    total_hours: sum((server) => server.hours),
    total_vcpus_usage: sum((server) => server.hours * server.vcpus),
    total_memory_mb_usage: sum((server) => server.hours * server.memory_mb),
    total_local_gb_usage: sum((server) => server.hours * server.local_gb),
    ...(detailed ? { server_usages: servers } : {}),
  };
}

/** One page of servers: at most `limit`, after `after` in the report's order (project, launch, id). */
export interface ServerPage {
  limit: number;
  after?: Pick<LaunchedInstance, 'project_id' | 'launched_at' | 'id'>;
}

/** Servers that ran at some time in the period, deleted ones included (Havana's active-by-window). */
export async function serversInPeriod(
  c: Context<AppEnv>,
  within: Period,
  projectId?: string,
  page?: ServerPage,
): Promise<LaunchedInstance[]> {
  const after = page?.after;
  const query = c.var.db
    .select()
    .from(instances)
    .where(
      and(
        eqIfGiven(instances.project_id, projectId),
        lt(instances.launched_at, within.stop),
        or(isNull(instances.terminated_at), gt(instances.terminated_at, within.start)),
        after === undefined
          ? undefined
          : or(
              gt(instances.project_id, after.project_id),
              and(
                eq(instances.project_id, after.project_id),
                or(
                  gt(instances.launched_at, after.launched_at),
                  and(eq(instances.launched_at, after.launched_at), gt(instances.id, after.id)),
                ),
              ),
            ),
      ),
    )
    .orderBy(asc(instances.project_id), asc(instances.launched_at), asc(instances.id));
  const rows = await (page === undefined ? query : query.limit(page.limit));
  // The launched_at condition already left out servers never launched; this tells the type system.
  return rows.flatMap((row) => (row.launched_at ? [{ ...row, launched_at: row.launched_at }] : []));
}

/** Each project's usage over the period, in the order the servers came (by project). */
export function usageByProject(rows: LaunchedInstance[], within: Period, detailed: boolean) {
  const byProject = new Map<string, LaunchedInstance[]>();
  for (const row of rows) {
    const own = byProject.get(row.project_id);
    if (own) own.push(row);
    else byProject.set(row.project_id, [row]);
  }
  return [...byProject].map(([projectId, own]) => tenantUsage(projectId, own, within, detailed));
}

/** A member may see only its own project's usage; another project's is simply not there for it. */
export function requireOwnUsage(c: Context<AppEnv>, projectId: string): void {
  if (!c.var.caller.isAdmin && projectId !== c.var.caller.projectId) {
    throw new NotFound(`Usage for project ${projectId} could not be found.`);
  }
}

export const simpleTenantUsageExtension = defineExtension({
  alias: 'os-simple-tenant-usage',
  name: 'SimpleTenantUsage',
  description: 'Simple tenant usage extension: server hours, vCPU, RAM and disk usage per project.',
  version: 1,
  core: false,
  history: [{ version: 1, change: 'usage of every project (admin) or of one, over start..end, detailed' }],
  routes: [
    route({
      method: 'get',
      path: '/v3/os-simple-tenant-usage',
      summary: 'Usage of every project with servers in the period (admin)',
      query: UsageQuery,
      responses: { 200: 'tenant_usages: totals per project (+ server_usages when detailed=1)' },
      handler: async (c, { query }) => {
        authorize(c.var.caller, 'compute_extension:simple_tenant_usage:list');
        const within = period(query);
        const rows = await serversInPeriod(c, within);
        return c.json({ tenant_usages: usageByProject(rows, within, query.detailed === '1') });
      },
    }),
    route({
      method: 'get',
      path: '/v3/os-simple-tenant-usage/:tenant_id',
      summary: "One project's usage over the period, with each server's",
      query: v.object({ start: UsageQuery.entries.start, end: UsageQuery.entries.end }),
      responses: { 200: 'tenant_usage: totals and server_usages' },
      handler: async (c, { query }) => {
        authorize(c.var.caller, 'compute_extension:simple_tenant_usage:show');
        const projectId = c.req.param('tenant_id') ?? '';
        requireOwnUsage(c, projectId);
        const within = period(query);
        const rows = await serversInPeriod(c, within, projectId);
        return c.json({ tenant_usage: tenantUsage(projectId, rows, within, true) });
      },
    }),
  ],
});
