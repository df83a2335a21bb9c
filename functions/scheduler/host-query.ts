import { and, eq, type SQL, sql } from 'drizzle-orm';
import { compileColumns, computed } from '../../schema/compiled-columns.ts';
import {
  computeNodes,
  hostCapabilities,
  resourceClaims,
  schedulerPolicyBindings,
  services,
} from '../../schema/tables/index.ts';
import type { Reader } from './host-facts.ts';
import type { HostState, RequestSpec } from './request-spec.ts';

// The host rows the scheduler decides on. What aggregates and dedications change about a host is kept
// on its compute node (functions/scheduler/placement-facts.ts), so the candidate query reads one node
// row and its service per host, in index order when it is ordered by free RAM.

export const effectiveRatio = {
  cpu: sql`COALESCE(${computeNodes.aggregate_cpu_allocation_ratio}, ${computeNodes.cpu_allocation_ratio})`,
  ram: sql`COALESCE(${computeNodes.aggregate_ram_allocation_ratio}, ${computeNodes.ram_allocation_ratio})`,
  disk: sql`COALESCE(${computeNodes.aggregate_disk_allocation_ratio}, ${computeNodes.disk_allocation_ratio})`,
};

/** The indexed column itself (not its expression), so that ordering by it can read the index. */
export const freeRamSql = sql`${computeNodes.free_ram_mb}`;

const HOST_FIELDS = {
  id: computeNodes.id,
  host: computeNodes.host,
  hypervisor_hostname: computeNodes.hypervisor_hostname,
  hypervisor_type: computeNodes.hypervisor_type,
  hypervisor_version: computeNodes.hypervisor_version,
  availability_zone: computeNodes.availability_zone,
  vcpus: computeNodes.vcpus,
  vcpus_used: computeNodes.vcpus_used,
  memory_mb: computeNodes.memory_mb,
  memory_mb_used: computeNodes.memory_mb_used,
  local_gb: computeNodes.local_gb,
  local_gb_used: computeNodes.local_gb_used,
  running_vms: computeNodes.running_vms,
  cpu_allocation_ratio: computed(effectiveRatio.cpu, Number),
  ram_allocation_ratio: computed(effectiveRatio.ram, Number),
  disk_allocation_ratio: computed(effectiveRatio.disk, Number),
  metrics: computeNodes.metrics,
  generation: computeNodes.generation,
  disabled: services.disabled,
  forced_down: services.forced_down,
  last_seen_at: services.last_seen_at,
  dedicated_to: computeNodes.dedicated_to,
  filter_tenant_ids: computeNodes.filter_tenant_ids,
  supported_commands: services.supported_commands,
  // A subquery, not a join: MariaDB buffers a third joined table, which loses the index order and sorts
  // every host; a select-list subquery runs only for the rows the LIMIT keeps.
  declared_capabilities: computed(
    sql`(SELECT ${hostCapabilities.capabilities} FROM ${hostCapabilities}
    WHERE ${hostCapabilities.host} = ${computeNodes.host})`,
    // The driver parses JSON columns, a subquery's included.
    (value) => value as Record<string, string> | null,
  ),
};

const HOST_COLUMNS = compileColumns(HOST_FIELDS);

export interface HostQuery {
  where?: SQL | undefined;
  /** Ordered by an indexed column of compute_nodes, the query reads the index and stops at its LIMIT. */
  orderBy?: SQL[];
  limit?: number;
  offset?: number;
}

function hostQuery(columns: SQL, { where, orderBy, limit, offset }: HostQuery): SQL {
  const ordered = orderBy && orderBy.length > 0 ? sql` ORDER BY ${sql.join(orderBy, sql`, `)}` : sql``;
  const limited = limit === undefined ? sql`` : sql` LIMIT ${limit}`;
  const skipped = offset ? sql` OFFSET ${offset}` : sql``;
  return sql`SELECT ${columns} FROM ${computeNodes}
    INNER JOIN ${services} ON ${services.id} = ${computeNodes.service_id} AND ${services.deleted} = 0
    WHERE ${and(eq(computeNodes.deleted, 0), where)}${ordered}${limited}${skipped}`;
}

/** Live compute nodes with their service, placement facts and declared capabilities, narrowed by `where`. */
export async function selectHosts(db: Reader, query: HostQuery = {}): Promise<HostState[]> {
  const result = await db.execute(hostQuery(HOST_COLUMNS.list, query));
  return result.rows.map((row) => HOST_COLUMNS.decode(row));
}

/** What a request needs to know besides its candidates (functions/scheduler/claims.ts, firstDecision). */
export interface RequestProbe {
  /** Live policy bindings: none means the built-in default policy decides every request. */
  liveBindings: number;
  /** A live node where the instance already holds a counted claim the request may keep, if any. */
  heldNode: number | null;
}

// The node a claim is on, under a name of its own: the outer query reads compute_nodes too.
const held = {
  table: sql`${computeNodes} AS ${sql.identifier('held')}`,
  column: (name: 'id' | 'host' | 'deleted') => sql`${sql.identifier('held')}.${sql.identifier(name)}`,
};

function probeColumns(spec: RequestSpec): SQL {
  return sql`(SELECT COUNT(*) FROM ${schedulerPolicyBindings}
      WHERE ${schedulerPolicyBindings.deleted} = 0) AS live_bindings,
    (SELECT MIN(${resourceClaims.compute_node_id}) FROM ${resourceClaims}
      JOIN ${held.table} ON ${held.column('id')} = ${resourceClaims.compute_node_id} AND ${held.column('deleted')} = 0
      WHERE ${resourceClaims.instance_uuid} = ${spec.instance_uuid} AND ${resourceClaims.pending} = FALSE${
        spec.ignore_hosts.length > 0
          ? sql` AND ${held.column('host')} NOT IN (${sql.join(
              spec.ignore_hosts.map((host) => sql`${host}`),
              sql`, `,
            )})`
          : sql``
      }) AS held_node`;
}

/**
 * selectHosts whose rows also answer the request probe (from the first row; undefined when no row came
 * back). Its subqueries name no column of the row, so the database computes them once per query.
 */
export async function selectHostsWithProbe(
  db: Reader,
  query: HostQuery,
  spec: RequestSpec,
): Promise<{ hosts: HostState[]; probe: RequestProbe | undefined }> {
  const result = await db.execute(hostQuery(sql`${HOST_COLUMNS.list}, ${probeColumns(spec)}`, query));
  const [first] = result.rows as Array<Record<string, unknown>>;
  return {
    hosts: result.rows.map((row) => HOST_COLUMNS.decode(row)),
    probe: first && {
      liveBindings: Number(first.live_bindings),
      heldNode: first.held_node === null ? null : Number(first.held_node),
    },
  };
}
