import { and, eq, gt } from 'drizzle-orm';
import { services } from '../../../schema/tables/index.ts';
import type { HostFilter } from './filter.ts';

function oldestLiveReport(now: Date, serviceDownTimeSeconds: number): Date {
  return new Date(now.getTime() - serviceDownTimeSeconds * 1000);
}

// Only hosts whose compute service is enabled, not forced down, and has reported recently.
export const computeFilter: HostFilter = {
  name: 'ComputeFilter',
  description: 'The compute service is enabled, not forced down, and reported within the service down time.',
  hints: [],
  sql: (_spec, { now, serviceDownTimeSeconds }) =>
    and(
      eq(services.disabled, false),
      eq(services.forced_down, false),
      gt(services.last_seen_at, oldestLiveReport(now, serviceDownTimeSeconds)),
    ),
  passes(host, _spec, { now, serviceDownTimeSeconds }) {
    if (host.disabled) return 'the compute service is disabled';
    if (host.forced_down) return 'the compute service is forced down';
    if (!host.last_seen_at || host.last_seen_at <= oldestLiveReport(now, serviceDownTimeSeconds))
      return `the compute service has not reported for more than ${serviceDownTimeSeconds} s`;
    return null;
  },
};
