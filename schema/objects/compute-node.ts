import * as v from 'valibot';
import { defineObject, type ReceivedData } from './base.ts';
import { Count, Timestamp } from './fields.ts';

const Ratio = v.pipe(v.number(), v.minValue(0));

// A hypervisor's capacity and what claims hold of it (schema/tables/compute-nodes.ts).
export const ComputeNodeObject = defineObject({
  name: 'ComputeNode',
  version: '1.1',
  fields: v.object({
    host: v.string(),
    hypervisor_hostname: v.string(),
    hypervisor_type: v.string(),
    hypervisor_version: v.pipe(v.number(), v.integer()),
    availability_zone: v.string(),
    vcpus: Count,
    memory_mb: Count,
    local_gb: Count,
    vcpus_used: Count,
    memory_mb_used: Count,
    local_gb_used: Count,
    running_vms: Count,
    cpu_allocation_ratio: Ratio,
    ram_allocation_ratio: Ratio,
    disk_allocation_ratio: Ratio,
    metrics: v.array(
      v.object({ name: v.string(), value: v.number(), timestamp: Timestamp, source: v.string() }),
    ),
    generation: Count,
  }),
  history: [
    { version: '1.0', added: [], note: 'initial version: capacity, usage and allocation ratios' },
    {
      version: '1.1',
      added: ['metrics', 'generation'],
      note: 'host metrics for utilisation weighing, and the claim generation to spot a stale view',
    },
  ],
});

export type ComputeNodeData = ReceivedData<typeof ComputeNodeObject>;
