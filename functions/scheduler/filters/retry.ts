import { notInArray } from 'drizzle-orm';
import { computeNodes } from '../../../schema/tables/index.ts';
import type { HostFilter } from './filter.ts';

// Hosts already tried for this request (a reschedule), or that the request must leave (a move's source).
export const retryFilter: HostFilter = {
  name: 'RetryFilter',
  description: 'The host is not one the request already tried or must move away from (ignore_hosts).',
  hints: [],
  sql: (spec) =>
    spec.ignore_hosts.length > 0 ? notInArray(computeNodes.host, spec.ignore_hosts) : undefined,
  passes: (host, spec) =>
    spec.ignore_hosts.includes(host.host) ? 'the request already tried this host, or is leaving it' : null,
};
