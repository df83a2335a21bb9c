import { and, eq, type SQL, sql } from 'drizzle-orm';
import {
  computeNodes,
  hostCapabilities,
  resourceClaims,
  schedulerPolicyBindings,
  services,
} from '../../schema/tables/index.ts';
import type { Reader } from './host-facts.ts';
import type { RequestSpec } from './request-spec.ts';

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
  cpu_allocation_ratio: effectiveRatio.cpu.mapWith(Number),
  ram_allocation_ratio: effectiveRatio.ram.mapWith(Number),
  disk_allocation_ratio: effectiveRatio.disk.mapWith(Number),
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
  declared_capabilities: sql`(SELECT ${hostCapabilities.capabilities} FROM ${hostCapabilities}
    WHERE ${hostCapabilities.host} = ${computeNodes.host})`.mapWith(hostCapabilities.capabilities),
};

/**
 * Live compute nodes with their service, placement facts and declared capabilities, narrowed by `where`.
 * Ordered by an indexed column of compute_nodes, the query reads the index and stops at its LIMIT.
 */
export function selectHosts(db: Reader, where: SQL | undefined) {
  return db
    .select(HOST_FIELDS)
    .from(computeNodes)
    .innerJoin(services, and(eq(services.id, computeNodes.service_id), eq(services.deleted, 0)))
    .where(and(eq(computeNodes.deleted, 0), where))
    .$dynamic();
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

function probeFields(spec: RequestSpec) {
  return {
    live_bindings: sql`(SELECT COUNT(*) FROM ${schedulerPolicyBindings}
      WHERE ${schedulerPolicyBindings.deleted} = 0)`.mapWith(Number),
    held_node: sql<number | null>`(SELECT MIN(${resourceClaims.compute_node_id}) FROM ${resourceClaims}
      JOIN ${held.table} ON ${held.column('id')} = ${resourceClaims.compute_node_id} AND ${held.column('deleted')} = 0
      WHERE ${resourceClaims.instance_uuid} = ${spec.instance_uuid} AND ${resourceClaims.pending} = FALSE${
        spec.ignore_hosts.length > 0
          ? sql` AND ${held.column('host')} NOT IN (${sql.join(
              spec.ignore_hosts.map((host) => sql`${host}`),
              sql`, `,
            )})`
          : sql``
      })`.mapWith(Number),
  };
}

/**
 * selectHosts whose rows also answer the request probe. Its subqueries name no column of the row, so
 * the database computes them once per query, not per row.
 */
export function selectHostsWithProbe(db: Reader, where: SQL | undefined, spec: RequestSpec) {
  return db
    .select({ ...HOST_FIELDS, ...probeFields(spec) })
    .from(computeNodes)
    .innerJoin(services, and(eq(services.id, computeNodes.service_id), eq(services.deleted, 0)))
    .where(and(eq(computeNodes.deleted, 0), where))
    .$dynamic();
}
