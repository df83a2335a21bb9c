import { sql } from 'drizzle-orm';
import { computeNodes } from '../../../schema/tables/index.ts';
import type { HostFilter } from './filter.ts';

export const coreFilter: HostFilter = {
  name: 'CoreFilter',
  sql: (spec) =>
    sql`${computeNodes.vcpus} * ${computeNodes.cpu_allocation_ratio} - ${computeNodes.vcpus_used} >= ${spec.vcpus}`,
};
