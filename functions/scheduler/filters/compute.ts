import { and, eq, gte } from 'drizzle-orm';
import { services } from '../../../schema/tables/index.ts';
import { isServiceUp, oldestLiveReport } from '../../compute/service-liveness.ts';
import type { HostFilter } from './filter.ts';

// Only hosts whose compute service is enabled and up (compute/service-liveness.ts: not forced down,
// reported within the service down time).
export const computeFilter: HostFilter = {
  name: 'ComputeFilter',
  description: 'The compute service is enabled, not forced down, and reported within the service down time.',
  hints: [],
  sql: (_spec, { now, serviceDownTimeSeconds }) =>
    and(
      eq(services.disabled, false),
      eq(services.forced_down, false),
      gte(services.last_seen_at, oldestLiveReport(now, serviceDownTimeSeconds)),
    ),
  passes(host, _spec, { now, serviceDownTimeSeconds }) {
    if (host.disabled) return 'the compute service is disabled';
    if (host.forced_down) return 'the compute service is forced down';
    if (!isServiceUp(host, now, serviceDownTimeSeconds))
      return `the compute service has not reported for more than ${serviceDownTimeSeconds} s`;
    return null;
  },
};
