import { sql } from 'drizzle-orm';
import { computeNodes } from '../../../schema/tables/index.ts';
import type { HostFilter } from './filter.ts';

export const diskFilter: HostFilter = {
  name: 'DiskFilter',
  sql: (spec) =>
    sql`${computeNodes.local_gb} * ${computeNodes.disk_allocation_ratio} - ${computeNodes.local_gb_used} >= ${spec.disk_gb}`,
};
