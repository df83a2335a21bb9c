import { sql } from 'drizzle-orm';
import { computeNodes } from '../../../schema/tables/index.ts';
import type { HostFilter } from './filter.ts';

// Free RAM counts the allocation ratio: memory_mb * ram_allocation_ratio - memory_mb_used.
export const ramFilter: HostFilter = {
  name: 'RamFilter',
  sql: (spec) =>
    sql`${computeNodes.memory_mb} * ${computeNodes.ram_allocation_ratio} - ${computeNodes.memory_mb_used} >= ${spec.memory_mb}`,
};
