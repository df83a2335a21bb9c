import { matchesRequirement, scopedSpecs } from '../extra-specs-ops.ts';
import type { HostFilter } from './filter.ts';

const SCOPE = 'aggregate_instance_extra_specs';

// Scoped keys only: unscoped extra specs (`dedicated`, `hw:*`...) mean other things to other filters.
export const aggregateInstanceExtraSpecsFilter: HostFilter = {
  name: 'AggregateInstanceExtraSpecsFilter',
  description:
    'Every flavor extra spec `aggregate_instance_extra_specs:<key>` matches the metadata <key> of one of the host aggregates.',
  hints: [],
  needs: (spec) => (scopedSpecs(spec.flavor_extra_specs, SCOPE).length > 0 ? ['aggregate_metadata'] : []),
  passes(host, spec, _context, facts) {
    const metadata = facts.aggregateMetadata.get(host.host);
    for (const [key, requirement] of scopedSpecs(spec.flavor_extra_specs, SCOPE)) {
      const values = metadata?.get(key) ?? [];
      if (!values.some((value) => matchesRequirement(value, requirement)))
        return `no aggregate of the host has ${key} matching '${requirement}'`;
    }
    return null;
  },
};
