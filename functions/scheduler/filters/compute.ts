import { and, eq, gt } from 'drizzle-orm';
import { services } from '../../../schema/tables/index.ts';
import type { HostFilter } from './filter.ts';

// Only hosts whose compute service is enabled, not forced down, and has reported recently.
export const computeFilter: HostFilter = {
  name: 'ComputeFilter',
  sql: (_spec, { now, serviceDownTimeSeconds }) =>
    and(
      eq(services.disabled, false),
      eq(services.forced_down, false),
      gt(services.last_seen_at, new Date(now.getTime() - serviceDownTimeSeconds * 1000)),
    ),
};
