import { type SQL, sql } from 'drizzle-orm';
import { aggregateHosts, aggregateMetadata, computeNodes } from '../../../schema/tables/index.ts';
import type { HostFilter } from './filter.ts';

const KEY = 'filter_tenant_id';

/** Hosts in an aggregate carrying `filter_tenant_id` (only those listing `condition`, when given). */
function tenantHosts(condition?: SQL): SQL {
  return sql`SELECT ${aggregateHosts.host} FROM ${aggregateHosts} JOIN ${aggregateMetadata}
    ON ${aggregateMetadata.aggregate_id} = ${aggregateHosts.aggregate_id} AND ${aggregateMetadata.deleted} = 0
    WHERE ${aggregateHosts.deleted} = 0 AND ${aggregateMetadata.key} = ${KEY}${condition ? sql` AND ${condition}` : sql``}`;
}

// Nova's semantics: a host in several such aggregates takes a project listed by any of them.
export const aggregateMultiTenancyIsolation: HostFilter = {
  name: 'AggregateMultiTenancyIsolation',
  description:
    'A host in an aggregate with filter_tenant_id metadata (comma-separated projects) takes only those projects.',
  hints: [],
  needs: () => ['aggregate_metadata'],
  sql: (spec) =>
    sql`(${computeNodes.host} NOT IN (${tenantHosts()}) OR ${computeNodes.host} IN (${tenantHosts(
      sql`FIND_IN_SET(${spec.project_id}, REPLACE(${aggregateMetadata.value}, ' ', '')) > 0`,
    )}))`,
  passes(host, spec, _context, facts) {
    const lists = facts.aggregateMetadata.get(host.host)?.get(KEY);
    if (!lists) return null;
    const allowed = lists.flatMap((list) => list.split(',').map((project) => project.trim()));
    return allowed.includes(spec.project_id)
      ? null
      : `the host's aggregates are reserved for projects ${allowed.join(', ')}`;
  },
};
