import { and, eq, type SQL, sql } from 'drizzle-orm';
import {
  aggregateHosts,
  aggregateMetadata,
  computeNodes,
  dedicatedHosts,
  services,
} from '../../schema/tables/index.ts';
import type { Reader } from './host-facts.ts';
import type { HostState } from './request-spec.ts';

// The host rows the scheduler decides on, with what aggregates and dedications change about them.
// Both come from small derived tables joined once per query (not correlated per host), so the
// candidate query stays one scan of compute_nodes however many hosts there are.

/** The lowest allocation ratio any of a host's aggregates sets (Nova's Aggregate{Ram,Core,Disk}Filter). */
const aggregateRatios = sql`(SELECT ${aggregateHosts.host} AS host,
    MIN(CASE WHEN ${aggregateMetadata.key} = 'cpu_allocation_ratio' THEN ${aggregateMetadata.value} + 0 END) AS cpu,
    MIN(CASE WHEN ${aggregateMetadata.key} = 'ram_allocation_ratio' THEN ${aggregateMetadata.value} + 0 END) AS ram,
    MIN(CASE WHEN ${aggregateMetadata.key} = 'disk_allocation_ratio' THEN ${aggregateMetadata.value} + 0 END) AS disk
  FROM ${aggregateHosts} JOIN ${aggregateMetadata}
    ON ${aggregateMetadata.aggregate_id} = ${aggregateHosts.aggregate_id} AND ${aggregateMetadata.deleted} = 0
  WHERE ${aggregateHosts.deleted} = 0
    AND ${aggregateMetadata.key} IN ('cpu_allocation_ratio', 'ram_allocation_ratio', 'disk_allocation_ratio')
  GROUP BY ${aggregateHosts.host}) AS agg_ratios`;

/** host → the project it is dedicated to, directly or through one of its aggregates. */
const dedications = sql`(SELECT dedicated.host AS host, MIN(dedicated.project_id) AS project_id FROM (
    SELECT ${dedicatedHosts.host} AS host, ${dedicatedHosts.project_id} AS project_id FROM ${dedicatedHosts}
    WHERE ${dedicatedHosts.deleted} = 0 AND ${dedicatedHosts.host} IS NOT NULL
    UNION ALL
    SELECT ${aggregateHosts.host} AS host, ${dedicatedHosts.project_id} AS project_id
    FROM ${dedicatedHosts} JOIN ${aggregateHosts}
      ON ${aggregateHosts.aggregate_id} = ${dedicatedHosts.aggregate_id} AND ${aggregateHosts.deleted} = 0
    WHERE ${dedicatedHosts.deleted} = 0
  ) AS dedicated GROUP BY dedicated.host) AS dedications`;

export const effectiveRatio = {
  cpu: sql`COALESCE(agg_ratios.cpu, ${computeNodes.cpu_allocation_ratio})`,
  ram: sql`COALESCE(agg_ratios.ram, ${computeNodes.ram_allocation_ratio})`,
  disk: sql`COALESCE(agg_ratios.disk, ${computeNodes.disk_allocation_ratio})`,
};

export const dedicatedTo = sql`dedications.project_id`;

export const freeRamSql = sql`${computeNodes.memory_mb} * ${effectiveRatio.ram} - ${computeNodes.memory_mb_used}`;

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
  queue_url: services.queue_url,
  supported_objects: services.supported_objects,
  dedicated_to: sql<string | null>`${dedicatedTo}`,
};

/** Live compute nodes with their service, effective ratios and dedication, narrowed by `where`. */
export function selectHosts(db: Reader, where: SQL | undefined) {
  return db
    .select(HOST_FIELDS)
    .from(computeNodes)
    .innerJoin(services, and(eq(services.id, computeNodes.service_id), eq(services.deleted, 0)))
    .leftJoin(aggregateRatios, sql`agg_ratios.host = ${computeNodes.host}`)
    .leftJoin(dedications, sql`dedications.host = ${computeNodes.host}`)
    .where(and(eq(computeNodes.deleted, 0), where))
    .$dynamic();
}

/** Rows come back typed by the driver; this only pins the shape for the rest of the scheduler. */
export function toHostState(row: Awaited<ReturnType<typeof selectHosts>>[number]): HostState {
  return row;
}
