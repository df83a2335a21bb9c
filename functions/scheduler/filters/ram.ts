import { sql } from 'drizzle-orm';
import { freeRamSql } from '../host-query.ts';
import { freeRamMb } from '../request-spec.ts';
import type { HostFilter } from './filter.ts';

// Free RAM counts the allocation ratio in effect: the host's aggregates' lowest, else the node's own.
export const ramFilter: HostFilter = {
  name: 'RamFilter',
  description: 'memory_mb × ram_allocation_ratio (per aggregate, else per node) − used ≥ the flavor memory.',
  hints: [],
  sql: (spec) => sql`${freeRamSql} >= ${spec.memory_mb}`,
  passes: (host, spec) =>
    freeRamMb(host) >= spec.memory_mb
      ? null
      : `${spec.memory_mb} MB of RAM requested, ${freeRamMb(host)} MB free (ratio ${host.ram_allocation_ratio})`,
};
