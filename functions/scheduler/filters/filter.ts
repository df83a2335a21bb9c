import type { SQL } from 'drizzle-orm';
import type { HintName } from '../hints.ts';
import type { FactKind, HostFacts } from '../host-facts.ts';
import type { ResolvedSettings } from '../policies.ts';
import type { HostState, RequestSpec } from '../request-spec.ts';

export interface FilterContext {
  now: Date;
  serviceDownTimeSeconds: number;
  settings: ResolvedSettings;
}

/**
 * One question about a host: does it pass? `passes` answers it for a host in memory and says why not;
 * filters that SQL can answer also give `sql`, the same question as a condition of the candidate query,
 * so a decision never loads hosts that cannot pass. The two must agree (test/e2e/scheduler-sql-filters).
 */
export interface HostFilter {
  name: string;
  description: string;
  /** The scheduler hints this filter reads. */
  hints: readonly HintName[];
  /** The facts `passes` reads beyond the host row, for this request (none when it has nothing to check). */
  needs?(spec: RequestSpec): FactKind[];
  sql?(spec: RequestSpec, context: FilterContext): SQL | undefined;
  /** null when the host passes, otherwise the reason it does not. */
  passes(host: HostState, spec: RequestSpec, context: FilterContext, facts: HostFacts): string | null;
}
