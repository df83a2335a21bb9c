import * as v from 'valibot';
import type { HostMetric } from '../../schema/tables/index.ts';

const Count = v.pipe(v.number(), v.integer(), v.minValue(0));
const Name = v.pipe(v.string(), v.minLength(1), v.maxLength(255));

/**
 * What one scheduling request needs, for a boot or any move. Workflows and the admin dry run build it;
 * the same schema validates both.
 */
export const RequestSpecSchema = v.object({
  instance_uuid: v.pipe(v.string(), v.uuid()),
  project_id: v.pipe(v.string(), v.minLength(1), v.maxLength(64)),
  memory_mb: Count,
  vcpus: Count,
  disk_gb: Count,
  flavor_name: v.optional(Name),
  flavor_extra_specs: v.optional(v.record(Name, v.pipe(v.string(), v.maxLength(255))), {}),
  /** From the image catalogue: `architecture` (x86_64, tilegx...), `hypervisor_type`, `vm_mode`. */
  image_properties: v.optional(v.record(Name, v.pipe(v.string(), v.maxLength(255))), {}),
  availability_zone: v.optional(v.nullable(Name), null),
  scheduler_hints: v.optional(v.record(Name, v.unknown()), {}),
  /** Hosts that must not be chosen: already tried (retry), or the source of a move. */
  ignore_hosts: v.optional(v.array(Name), []),
  /** Host commands the chosen host's agent must run (a move's, during a rolling upgrade); none for a boot. */
  required_commands: v.optional(v.array(Name)),
  /**
   * The host and/or node a boot named (compute 2.74): candidates are only those, every filter still
   * applies. A boot's alone: a move of the server is as free as any other's.
   */
  requested_destination: v.optional(
    v.pipe(
      v.strictObject({ host: v.optional(Name), node: v.optional(Name) }),
      v.check(
        (destination) => destination.host !== undefined || destination.node !== undefined,
        'requested_destination names a host, a node or both',
      ),
    ),
  ),
  /** How many instances the request places; each gets its own destination. */
  num_instances: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(1000)), 1),
});

export type RequestSpec = v.InferOutput<typeof RequestSpecSchema>;

/** One compute node as the scheduler sees it: resources, liveness and what the policy needs to decide. */
export interface HostState {
  id: number;
  host: string;
  hypervisor_hostname: string;
  hypervisor_type: string;
  hypervisor_version: number;
  availability_zone: string;
  vcpus: number;
  vcpus_used: number;
  memory_mb: number;
  memory_mb_used: number;
  local_gb: number;
  local_gb_used: number;
  running_vms: number;
  /** Allocation ratios in effect: the lowest of the host's aggregates' metadata, else the node's own. */
  cpu_allocation_ratio: number;
  ram_allocation_ratio: number;
  disk_allocation_ratio: number;
  metrics: HostMetric[];
  /** Bumped by every claim, release and dedication; a claim is conditional on the value it decided on. */
  generation: number;
  disabled: boolean;
  forced_down: boolean;
  last_seen_at: Date | null;
  /** The project this host is dedicated to (directly or through an aggregate), if any. */
  dedicated_to: string | null;
  /** The projects its aggregates' `filter_tenant_id` admit, comma-separated; null when it takes any. */
  filter_tenant_ids: string | null;
  /** What an admin declared the host can run (`architecture`, `vm_mode`, `cpu_features`...); null: nothing. */
  declared_capabilities: Record<string, string> | null;
  /** The commands the host's agent registered; null for an agent from before moves (the legacy set). */
  supported_commands: string[] | null;
}

export function freeRamMb(host: HostState): number {
  return host.memory_mb * host.ram_allocation_ratio - host.memory_mb_used;
}

export function freeVcpus(host: HostState): number {
  return host.vcpus * host.cpu_allocation_ratio - host.vcpus_used;
}

export function freeDiskGb(host: HostState): number {
  return host.local_gb * host.disk_allocation_ratio - host.local_gb_used;
}

/** Extra specs of the flavor that ask for a host dedicated to the project. */
export function wantsDedicatedHost(spec: RequestSpec): boolean {
  return spec.flavor_extra_specs.dedicated === 'true';
}
