import type { SQL } from 'drizzle-orm';
import type { FilterContext } from '../filters/filter.ts';
import type { FactKind, HostFacts } from '../host-facts.ts';
import type { HostState, RequestSpec } from '../request-spec.ts';

/**
 * One preference between hosts that passed. `weigh` gives a raw value (higher wins under a positive
 * multiplier); the scheduler normalises each weigher's values to [0, 1] over the candidates before
 * multiplying, so multipliers of different weighers are comparable. null means "no usable value"
 * (a missing or stale metric): the host then ranks below every host that has one.
 */
export interface HostWeigher {
  name: string;
  description: string;
  defaultMultiplier: number;
  needs?(spec: RequestSpec): FactKind[];
  /** The raw value as SQL, when SQL can compute it: the candidate query is pre-ordered by it. */
  sql?: SQL;
  weigh(host: HostState, spec: RequestSpec, context: FilterContext, facts: HostFacts): number | null;
}
