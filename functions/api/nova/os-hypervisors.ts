import { and, asc, eq, gt, inArray, isNotNull, like, sql } from 'drizzle-orm';
import type { Context } from 'hono';
import * as v from 'valibot';
import { computeNodes, instances } from '../../../schema/tables/index.ts';
import { NotFound } from '../../shared/errors.ts';
import type { AppEnv } from '../context.ts';
import { authorize } from '../policy.ts';
import { route } from '../route.ts';
import { defineExtension } from './extension.ts';

export type NodeRow = typeof computeNodes.$inferSelect;

/** Which live nodes to list, in id order: those whose hostname contains a text, or one page of them. */
export interface NodeSelection {
  hostnameContains?: string;
  afterId?: number;
  limit?: number;
}

export async function liveNodes(c: Context<AppEnv>, selection: NodeSelection = {}) {
  const { hostnameContains, afterId, limit } = selection;
  const query = c.var.db
    .select()
    .from(computeNodes)
    .where(
      and(
        eq(computeNodes.deleted, 0),
        hostnameContains === undefined
          ? undefined
          : like(computeNodes.hypervisor_hostname, `%${hostnameContains.replace(/[\\%_]/g, '\\$&')}%`),
        afterId === undefined ? undefined : gt(computeNodes.id, afterId),
      ),
    )
    .orderBy(asc(computeNodes.id));
  return limit === undefined ? query : query.limit(limit);
}

async function findNode(c: Context<AppEnv>): Promise<NodeRow> {
  const raw = c.req.param('hypervisor_id') ?? '';
  const [node] = /^\d+$/.test(raw)
    ? await c.var.db
        .select()
        .from(computeNodes)
        .where(and(eq(computeNodes.id, Number(raw)), eq(computeNodes.deleted, 0)))
    : [];
  if (!node) throw new NotFound(`Hypervisor ${raw} could not be found.`);
  return node;
}

/** Instances with a task in flight count as the host's current workload, as in Havana. */
export async function workloads(c: Context<AppEnv>): Promise<Map<string, number>> {
  const rows = await c.var.db
    .select({ host: instances.host, busy: sql<number>`count(*)`.mapWith(Number) })
    .from(instances)
    .where(and(eq(instances.deleted, 0), isNotNull(instances.task_state), isNotNull(instances.host)))
    .groupBy(instances.host);
  return new Map(rows.map((row) => [row.host ?? '', row.busy]));
}

function hypervisorSummary(node: NodeRow) {
  return { id: node.id, hypervisor_hostname: node.hypervisor_hostname };
}

export function hypervisorDetail(node: NodeRow, workload: number) {
  const freeDisk = node.local_gb - node.local_gb_used;
  return {
    ...hypervisorSummary(node),
    hypervisor_type: node.hypervisor_type,
    hypervisor_version: node.hypervisor_version,
    cpu_info: '?',
    vcpus: node.vcpus,
    vcpus_used: node.vcpus_used,
    memory_mb: node.memory_mb,
    memory_mb_used: node.memory_mb_used,
    free_ram_mb: node.memory_mb - node.memory_mb_used,
    local_gb: node.local_gb,
    local_gb_used: node.local_gb_used,
    free_disk_gb: freeDisk,
    disk_available_least: freeDisk,
    running_vms: node.running_vms,
    current_workload: workload,
    service: { host: node.host, id: node.service_id },
  };
}

/** The servers on each of `nodes`, oldest first, by node id. */
export async function serversOnNodes(
  c: Context<AppEnv>,
  nodes: NodeRow[],
): Promise<Map<number, Array<{ id: string; name: string }>>> {
  const rows =
    nodes.length === 0
      ? []
      : await c.var.db
          .select({
            id: instances.uuid,
            name: instances.display_name,
            host: instances.host,
            node: instances.node,
          })
          .from(instances)
          .where(
            and(
              eq(instances.deleted, 0),
              inArray(
                instances.host,
                nodes.map((node) => node.host),
              ),
            ),
          )
          .orderBy(asc(instances.created_at), asc(instances.id));
  return new Map(
    nodes.map((node) => [
      node.id,
      rows
        .filter((row) => row.host === node.host && row.node === node.hypervisor_hostname)
        .map(({ id, name }) => ({ id, name })),
    ]),
  );
}

const SearchQuery = v.object({
  query: v.pipe(v.string(), v.minLength(1, 'query must not be empty'), v.maxLength(255)),
});

export const hypervisorsExtension = defineExtension({
  alias: 'os-hypervisors',
  name: 'Hypervisors',
  description: 'Admin-only hypervisor administration.',
  version: 1,
  core: false,
  history: [{ version: 1, change: 'list, detail, show, statistics, search, servers' }],
  routes: [
    route({
      method: 'get',
      path: '/v3/os-hypervisors',
      summary: 'List hypervisors (admin)',
      responses: { 200: 'hypervisors: id, hypervisor_hostname' },
      handler: async (c) => {
        authorize(c.var.caller, 'compute_extension:os-hypervisors');
        return c.json({ hypervisors: (await liveNodes(c)).map(hypervisorSummary) });
      },
    }),
    route({
      method: 'get',
      path: '/v3/os-hypervisors/detail',
      summary: 'List hypervisors with their resources (admin)',
      responses: { 200: 'hypervisors with vcpus, memory, disk, running_vms, service, ...' },
      handler: async (c) => {
        authorize(c.var.caller, 'compute_extension:os-hypervisors');
        const [nodes, busy] = await Promise.all([liveNodes(c), workloads(c)]);
        return c.json({ hypervisors: nodes.map((node) => hypervisorDetail(node, busy.get(node.host) ?? 0)) });
      },
    }),
    route({
      method: 'get',
      path: '/v3/os-hypervisors/statistics',
      summary: 'Totals over every hypervisor (admin)',
      responses: { 200: 'hypervisor_statistics' },
      handler: async (c) => {
        authorize(c.var.caller, 'compute_extension:os-hypervisors');
        const [nodes, busy] = await Promise.all([liveNodes(c), workloads(c)]);
        const totals = {
          count: nodes.length,
          vcpus: 0,
          vcpus_used: 0,
          memory_mb: 0,
          memory_mb_used: 0,
          free_ram_mb: 0,
          local_gb: 0,
          local_gb_used: 0,
          free_disk_gb: 0,
          disk_available_least: 0,
          running_vms: 0,
          current_workload: 0,
        };
        for (const node of nodes) {
          const detail = hypervisorDetail(node, busy.get(node.host) ?? 0);
          for (const key of Object.keys(totals) as (keyof typeof totals)[]) {
            if (key !== 'count') totals[key] += detail[key];
          }
        }
        return c.json({ hypervisor_statistics: totals });
      },
    }),
    route({
      method: 'get',
      path: '/v3/os-hypervisors/search',
      summary: 'Hypervisors whose hostname contains `query` (admin)',
      query: SearchQuery,
      responses: { 200: 'hypervisors: id, hypervisor_hostname' },
      handler: async (c, { query }) => {
        authorize(c.var.caller, 'compute_extension:os-hypervisors');
        const nodes = await liveNodes(c, { hostnameContains: query.query });
        if (nodes.length === 0) throw new NotFound(`No hypervisor matching '${query.query}' could be found.`);
        return c.json({ hypervisors: nodes.map(hypervisorSummary) });
      },
    }),
    route({
      method: 'get',
      path: '/v3/os-hypervisors/:hypervisor_id',
      summary: 'Show a hypervisor (admin)',
      responses: { 200: 'hypervisor' },
      handler: async (c) => {
        authorize(c.var.caller, 'compute_extension:os-hypervisors');
        const node = await findNode(c);
        const busy = await workloads(c);
        return c.json({ hypervisor: hypervisorDetail(node, busy.get(node.host) ?? 0) });
      },
    }),
    route({
      method: 'get',
      path: '/v3/os-hypervisors/:hypervisor_id/servers',
      summary: 'The servers on a hypervisor, every project (admin)',
      responses: { 200: 'hypervisor: id, hypervisor_hostname, servers: [{id, name}]' },
      handler: async (c) => {
        authorize(c.var.caller, 'compute_extension:os-hypervisors');
        const node = await findNode(c);
        const servers = (await serversOnNodes(c, [node])).get(node.id) ?? [];
        return c.json({ hypervisor: { ...hypervisorSummary(node), servers } });
      },
    }),
  ],
});
