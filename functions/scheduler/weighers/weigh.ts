import type { FilterContext } from '../filters/filter.ts';
import type { HostFacts } from '../host-facts.ts';
import type { HostState, RequestSpec } from '../request-spec.ts';
import type { HostWeigher } from './weigher.ts';

export interface WeigherInPolicy {
  weigher: HostWeigher;
  multiplier: number;
}

export interface Destination {
  host: HostState;
  /** Σ multiplier × normalised value over the policy's weighers. */
  weight: number;
  /** Each weigher's contribution to `weight`. */
  weights: Record<string, number>;
}

/**
 * Ranks hosts best first. Each weigher's raw values are min-max normalised to [0, 1] over the hosts
 * (Nova 2014.1), so multipliers are comparable across weighers. A host with no usable value (null: a
 * missing or stale metric) gets |multiplier| less than the worst contribution a host with a value can
 * get, whatever the multiplier's sign.
 */
export function weighHosts(
  hosts: HostState[],
  spec: RequestSpec,
  context: FilterContext,
  weighers: WeigherInPolicy[],
  facts: HostFacts,
): Destination[] {
  const destinations = hosts.map((host) => ({ host, weight: 0, weights: {} as Record<string, number> }));
  for (const { weigher, multiplier } of weighers) {
    const raw = hosts.map((host) => weigher.weigh(host, spec, context, facts));
    const known = raw.filter((value): value is number => value !== null);
    const min = Math.min(...known);
    const max = Math.max(...known);
    const worst = Math.min(0, multiplier);
    raw.forEach((value, index) => {
      const contribution =
        value === null
          ? worst - Math.abs(multiplier)
          : multiplier * (max > min ? (value - min) / (max - min) : 0);
      const destination = destinations[index];
      if (!destination) return;
      destination.weights[weigher.name] = contribution;
      destination.weight += contribution;
    });
  }
  // Stable sort: equal weights keep the candidate query's order.
  return destinations.sort((a, b) => b.weight - a.weight);
}
