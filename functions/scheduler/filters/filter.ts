import type { SQL } from 'drizzle-orm';
import type { RequestSpec } from '../request-spec.ts';

export interface FilterContext {
  now: Date;
  serviceDownTimeSeconds: number;
}

/**
 * One question about a host. Filters that SQL can answer narrow the candidate query itself, so a
 * decision never loads hosts that cannot pass.
 */
export interface HostFilter {
  name: string;
  sql(spec: RequestSpec, context: FilterContext): SQL | undefined;
}
