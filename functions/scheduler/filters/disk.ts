import { sql } from 'drizzle-orm';
import { computeNodes } from '../../../schema/tables/index.ts';
import { effectiveRatio } from '../host-query.ts';
import { freeDiskGb } from '../request-spec.ts';
import type { HostFilter } from './filter.ts';

export const diskFilter: HostFilter = {
  name: 'DiskFilter',
  description:
    'local_gb × disk_allocation_ratio (per aggregate, else per node) − used ≥ root + ephemeral disk.',
  hints: [],
  sql: (spec) =>
    sql`${computeNodes.local_gb} * ${effectiveRatio.disk} - ${computeNodes.local_gb_used} >= ${spec.disk_gb}`,
  passes: (host, spec) =>
    freeDiskGb(host) >= spec.disk_gb
      ? null
      : `${spec.disk_gb} GB of disk requested, ${freeDiskGb(host)} GB free (ratio ${host.disk_allocation_ratio})`,
};
