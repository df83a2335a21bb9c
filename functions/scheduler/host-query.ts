import { and, eq, type SQL, sql } from 'drizzle-orm';
import { computeNodes, hostCapabilities, services } from '../../schema/tables/index.ts';
import type { Reader } from './host-facts.ts';

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
