import { notInArray } from 'drizzle-orm';
import { computeNodes } from '../../../schema/tables/index.ts';
import type { HostFilter } from './filter.ts';

// Hosts already tried for this request (retry) or that the request must leave (a move's source).
export const ignoreHostsFilter: HostFilter = {
  name: 'RetryFilter',
  sql: (spec) =>
    spec.ignore_hosts.length > 0 ? notInArray(computeNodes.host, spec.ignore_hosts) : undefined,
};
