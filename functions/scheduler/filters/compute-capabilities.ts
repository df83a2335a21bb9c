import { matchesRequirement, scopedSpecs } from '../extra-specs-ops.ts';
import type { HostState } from '../request-spec.ts';
import type { HostFilter } from './filter.ts';

const SCOPE = 'capabilities';

/** What `capabilities:<key>` can name: declared capabilities, then the node's own fields and reported metrics. */
function capability(
  host: HostState,
  declared: Record<string, string> | undefined,
  key: string,
): string | undefined {
  if (declared?.[key] !== undefined) return declared[key];
  const fields: Record<string, string | number> = {
    hypervisor_type: host.hypervisor_type,
    hypervisor_version: host.hypervisor_version,
    hypervisor_hostname: host.hypervisor_hostname,
    vcpus: host.vcpus,
    memory_mb: host.memory_mb,
    local_gb: host.local_gb,
  };
  if (fields[key] !== undefined) return String(fields[key]);
  const metric = host.metrics.find((candidate) => candidate.name === key);
  return metric === undefined ? undefined : String(metric.value);
}

export const computeCapabilitiesFilter: HostFilter = {
  name: 'ComputeCapabilitiesFilter',
  description:
    "Every flavor extra spec `capabilities:<key>` matches the host's declared capability, node field (hypervisor_type, vcpus...) or metric <key>.",
  hints: [],
  passes(host, spec) {
    const declared = host.declared_capabilities ?? undefined;
    for (const [key, requirement] of scopedSpecs(spec.flavor_extra_specs, SCOPE)) {
      const have = capability(host, declared, key);
      if (!matchesRequirement(have, requirement))
        return `capability ${key} is ${have ?? 'not set'}, the flavor asks for '${requirement}'`;
    }
    return null;
  },
};
