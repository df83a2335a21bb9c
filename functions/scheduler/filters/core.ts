import { sql } from 'drizzle-orm';
import { computeNodes } from '../../../schema/tables/index.ts';
import { effectiveRatio } from '../host-query.ts';
import { freeVcpus } from '../request-spec.ts';
import type { HostFilter } from './filter.ts';

export const coreFilter: HostFilter = {
  name: 'CoreFilter',
  description: 'vcpus × cpu_allocation_ratio (per aggregate, else per node) − used ≥ the flavor vcpus.',
  hints: [],
  sql: (spec) =>
    sql`${computeNodes.vcpus} * ${effectiveRatio.cpu} - ${computeNodes.vcpus_used} >= ${spec.vcpus}`,
  passes: (host, spec) =>
    freeVcpus(host) >= spec.vcpus
      ? null
      : `${spec.vcpus} vCPUs requested, ${freeVcpus(host)} free (ratio ${host.cpu_allocation_ratio})`,
};
