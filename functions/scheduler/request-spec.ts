import type { computeNodes, services } from '../../schema/tables/index.ts';

/** What a request needs from a host; built by the workflow step from the instance row. */
export interface RequestSpec {
  instance_uuid: string;
  project_id: string;
  memory_mb: number;
  vcpus: number;
  disk_gb: number;
  availability_zone: string | null;
  /** Hosts that must not be chosen (already tried, or the source of a move). */
  ignore_hosts: string[];
}

export type HostState = Pick<
  typeof computeNodes.$inferSelect,
  | 'id'
  | 'host'
  | 'hypervisor_hostname'
  | 'availability_zone'
  | 'vcpus'
  | 'vcpus_used'
  | 'memory_mb'
  | 'memory_mb_used'
  | 'local_gb'
  | 'local_gb_used'
  | 'cpu_allocation_ratio'
  | 'ram_allocation_ratio'
  | 'disk_allocation_ratio'
> &
  Pick<typeof services.$inferSelect, 'queue_url' | 'supported_objects'>;
