import { and, desc, eq, sql } from 'drizzle-orm';
import type { PrimaryDb } from '../../schema/db.ts';
import { computeNodes, services } from '../../schema/tables/index.ts';
import { availabilityZoneFilter } from './filters/availability-zone.ts';
import { computeFilter } from './filters/compute.ts';
import { coreFilter } from './filters/core.ts';
import { diskFilter } from './filters/disk.ts';
import type { FilterContext, HostFilter } from './filters/filter.ts';
import { ignoreHostsFilter } from './filters/ignore-hosts.ts';
import { ramFilter } from './filters/ram.ts';
import type { HostState, RequestSpec } from './request-spec.ts';

export const DEFAULT_FILTERS: HostFilter[] = [
  computeFilter,
  availabilityZoneFilter,
  ramFilter,
  coreFilter,
  diskFilter,
  ignoreHostsFilter,
];

export interface SelectOptions extends FilterContext {
  /** How many ranked candidates to return; claims walk them in order. */
  limit: number;
}

/**
 * Ranks the hosts that can take `spec`, best first. The filters run inside one query on the primary
 * (the answer decides a claim), and the RAM weigher spreads load by ordering on free RAM.
 */
export async function selectDestinations(
  db: PrimaryDb,
  spec: RequestSpec,
  options: SelectOptions,
): Promise<HostState[]> {
  const freeRam = sql`${computeNodes.memory_mb} * ${computeNodes.ram_allocation_ratio} - ${computeNodes.memory_mb_used}`;
  return db
    .select({
      id: computeNodes.id,
      host: computeNodes.host,
      hypervisor_hostname: computeNodes.hypervisor_hostname,
      availability_zone: computeNodes.availability_zone,
      vcpus: computeNodes.vcpus,
      vcpus_used: computeNodes.vcpus_used,
      memory_mb: computeNodes.memory_mb,
      memory_mb_used: computeNodes.memory_mb_used,
      local_gb: computeNodes.local_gb,
      local_gb_used: computeNodes.local_gb_used,
      cpu_allocation_ratio: computeNodes.cpu_allocation_ratio,
      ram_allocation_ratio: computeNodes.ram_allocation_ratio,
      disk_allocation_ratio: computeNodes.disk_allocation_ratio,
      queue_url: services.queue_url,
      supported_objects: services.supported_objects,
    })
    .from(computeNodes)
    .innerJoin(services, and(eq(services.id, computeNodes.service_id), eq(services.deleted, 0)))
    .where(and(eq(computeNodes.deleted, 0), ...DEFAULT_FILTERS.map((filter) => filter.sql(spec, options))))
    .orderBy(desc(freeRam), computeNodes.id)
    .limit(options.limit);
}
