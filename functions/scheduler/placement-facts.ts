import { and, asc, eq, inArray, type SQL, sql } from 'drizzle-orm';
import type { PrimaryDb } from '../../schema/db.ts';
import {
  aggregateHosts,
  aggregateMetadata,
  computeNodes,
  dedicatedHosts,
  services,
} from '../../schema/tables/index.ts';

// What aggregates and dedications decide about a host lives on its compute node (allocation ratios,
// zone, dedication, tenant isolation), so the candidate query reads one row per host instead of joining
// tables derived from aggregates, which MariaDB ran as block nested loops over every host. Whatever
// changes aggregate membership, aggregate metadata or dedications, or (re)registers a node, refreshes
// the facts of the hosts it touched; schema/migrations/2026.1/0012 computed them for existing hosts.

type Writer = Pick<PrimaryDb, 'select' | 'update'>;

/** Metadata `key` of every aggregate the node's host is in, reduced by `reduce` (MIN, GROUP_CONCAT...). */
function fromAggregates(key: string, reduce: (value: SQL) => SQL): SQL {
  return sql`(SELECT ${reduce(sql`${aggregateMetadata.value}`)} FROM ${aggregateHosts}
    JOIN ${aggregateMetadata} ON ${aggregateMetadata.aggregate_id} = ${aggregateHosts.aggregate_id}
      AND ${aggregateMetadata.deleted} = 0
    WHERE ${aggregateHosts.host} = ${computeNodes.host} AND ${aggregateHosts.deleted} = 0
      AND ${aggregateMetadata.key} = ${key})`;
}

/** Nova's Aggregate{Core,Ram,Disk}Filter: the lowest ratio any of the host's aggregates sets. */
const lowestRatio = (key: string) => fromAggregates(key, (value) => sql`MIN(${value} + 0)`);

/** Dedicated directly, or through an aggregate the host is in. */
const dedication = sql`(SELECT MIN(${dedicatedHosts.project_id}) FROM ${dedicatedHosts}
  WHERE ${dedicatedHosts.deleted} = 0 AND (${dedicatedHosts.host} = ${computeNodes.host}
    OR ${dedicatedHosts.aggregate_id} IN (SELECT ${aggregateHosts.aggregate_id} FROM ${aggregateHosts}
      WHERE ${aggregateHosts.host} = ${computeNodes.host} AND ${aggregateHosts.deleted} = 0)))`;

const serviceZone = sql`(SELECT ${services.availability_zone} FROM ${services}
  WHERE ${services.id} = ${computeNodes.service_id})`;

/**
 * Recomputes the facts of `hosts` in one statement, and bumps their generation so that a claim decided
 * on the old facts re-checks the host under its lock. For callers already holding the nodes' locks in
 * their own transaction (a dedication); others call refreshHostPlacementFacts.
 */
export async function writeHostPlacementFacts(db: Writer, hosts: string[]): Promise<void> {
  if (hosts.length === 0) return;
  await db
    .update(computeNodes)
    .set({
      aggregate_cpu_allocation_ratio: lowestRatio('cpu_allocation_ratio'),
      aggregate_ram_allocation_ratio: lowestRatio('ram_allocation_ratio'),
      aggregate_disk_allocation_ratio: lowestRatio('disk_allocation_ratio'),
      // Nova: a host in several isolating aggregates admits a project any of them lists.
      filter_tenant_ids: fromAggregates(
        'filter_tenant_id',
        (value) => sql`GROUP_CONCAT(REPLACE(${value}, ' ', '') ORDER BY ${aggregateMetadata.aggregate_id})`,
      ),
      dedicated_to: dedication,
      // A host is in at most one aggregate zone (os-aggregates refuses a second one).
      availability_zone: sql`COALESCE(${fromAggregates('availability_zone', (value) => sql`MIN(${value})`)}, ${serviceZone})`,
      generation: sql`${computeNodes.generation} + 1`,
    })
    .where(and(inArray(computeNodes.host, hosts), eq(computeNodes.deleted, 0)));
}

/**
 * Recomputes the placement facts of `hosts` after a change to their aggregates or dedications. The node
 * rows are locked first, so two refreshes of one host run one after the other and the later one reads
 * every change committed before it: the last write is never computed from an older view.
 */
export async function refreshHostPlacementFacts(db: PrimaryDb, hosts: string[]): Promise<void> {
  const unique = [...new Set(hosts)];
  if (unique.length === 0) return;
  await db.transaction(async (tx) => {
    await tx
      .select({ id: computeNodes.id })
      .from(computeNodes)
      .where(and(inArray(computeNodes.host, unique), eq(computeNodes.deleted, 0)))
      .orderBy(asc(computeNodes.id))
      .for('update');
    await writeHostPlacementFacts(tx, unique);
  });
}
