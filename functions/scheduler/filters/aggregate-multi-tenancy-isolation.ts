import { sql } from 'drizzle-orm';
import { computeNodes } from '../../../schema/tables/index.ts';
import type { HostFilter } from './filter.ts';

// Nova's semantics: a host in several such aggregates takes a project listed by any of them. The
// lists are joined on the node (filter_tenant_ids, functions/scheduler/placement-facts.ts).
export const aggregateMultiTenancyIsolation: HostFilter = {
  name: 'AggregateMultiTenancyIsolation',
  description:
    'A host in an aggregate with filter_tenant_id metadata (comma-separated projects) takes only those projects.',
  hints: [],
  sql: (spec) =>
    sql`(${computeNodes.filter_tenant_ids} IS NULL OR FIND_IN_SET(${spec.project_id}, ${computeNodes.filter_tenant_ids}) > 0)`,
  passes(host, spec) {
    if (host.filter_tenant_ids === null) return null;
    const allowed = host.filter_tenant_ids.split(',');
    return allowed.includes(spec.project_id)
      ? null
      : `the host's aggregates are reserved for projects ${allowed.join(', ')}`;
  },
};
