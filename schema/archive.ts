import { getTableColumns, getTableName, type SQL, sql } from 'drizzle-orm';
import type { MySqlColumn, MySqlTable } from 'drizzle-orm/mysql-core';
import type { PrimaryDb } from './db.ts';
import * as tables from './tables/index.ts';

// Archiving moves soft-deleted rows out of the hot tables into their shadows (schema/tables/shadow.ts);
// purging drops shadow rows past a retention. Nova archived table by table and skipped a table when a
// foreign key refused; we have no foreign keys, so the order and the guards below keep the integrity.
//
// Which rows go (the rule):
//   * a row is archived when it was soft-deleted before the cut-off (`deleted <> 0 AND deleted_at < before`),
//     or when the row it belongs to is archived (`belongsTo`, recursively): an instance takes its actions,
//     their events, its faults, tags and migrations with it, although those rows are typically never
//     soft-deleted themselves. They are the deleted instance's history, not live data.
//   * any other row with `deleted = 0` stays: a live row is never archived.
//   * a row leaves only once nothing that belongs to it is left in the live table, and nothing that
//     `heldBy` names still points at it. Tables are visited children first, so a run moves the children
//     and then the parent; a run cut short (budget, crash) leaves parents behind, never orphans.
// Each batch is one transaction: select the ids (locking them), copy them to the shadow, delete them;
// both counts must match the ids or the batch rolls back. Nothing is remembered between runs, so a
// run after a crash simply finds what is still left.

type Table = MySqlTable;
/** The primary, or a transaction on it. */
type Executor = Pick<PrimaryDb, 'execute'>;

export interface ArchivedTable {
  live: Table;
  shadow: Table;
  /** This table's column that names the row it belongs to, as `[column, parent key]`. */
  belongsTo?: readonly [MySqlColumn, MySqlColumn];
  /** Rows of tables that are not archived (released by their own code) that keep a row in place. */
  heldBy?: readonly (readonly [MySqlColumn, MySqlColumn])[];
}

/** Children before parents: every table comes before the table it belongs to. */
export const ARCHIVE_PLAN: readonly ArchivedTable[] = [
  {
    live: tables.instanceActionEvents,
    shadow: tables.shadowInstanceActionEvents,
    belongsTo: [tables.instanceActionEvents.action_id, tables.instanceActions.id],
  },
  {
    live: tables.instanceActions,
    shadow: tables.shadowInstanceActions,
    belongsTo: [tables.instanceActions.instance_uuid, tables.instances.uuid],
  },
  {
    live: tables.instanceFaults,
    shadow: tables.shadowInstanceFaults,
    belongsTo: [tables.instanceFaults.instance_uuid, tables.instances.uuid],
  },
  {
    live: tables.instanceTags,
    shadow: tables.shadowInstanceTags,
    belongsTo: [tables.instanceTags.instance_uuid, tables.instances.uuid],
  },
  {
    live: tables.migrations,
    shadow: tables.shadowMigrations,
    belongsTo: [tables.migrations.instance_uuid, tables.instances.uuid],
  },
  {
    live: tables.instances,
    shadow: tables.shadowInstances,
    // Claims are released before an instance is soft-deleted; one left behind means the guest may run.
    heldBy: [[tables.resourceClaims.instance_uuid, tables.instances.uuid]],
  },
  {
    live: tables.flavorExtraSpecs,
    shadow: tables.shadowFlavorExtraSpecs,
    belongsTo: [tables.flavorExtraSpecs.flavor_id, tables.flavors.id],
  },
  {
    live: tables.flavorProjects,
    shadow: tables.shadowFlavorProjects,
    belongsTo: [tables.flavorProjects.flavor_id, tables.flavors.id],
  },
  { live: tables.flavors, shadow: tables.shadowFlavors },
  {
    live: tables.dedicatedHosts,
    shadow: tables.shadowDedicatedHosts,
    belongsTo: [tables.dedicatedHosts.aggregate_id, tables.aggregates.id],
  },
  {
    live: tables.aggregateHosts,
    shadow: tables.shadowAggregateHosts,
    belongsTo: [tables.aggregateHosts.aggregate_id, tables.aggregates.id],
  },
  {
    live: tables.aggregateMetadata,
    shadow: tables.shadowAggregateMetadata,
    belongsTo: [tables.aggregateMetadata.aggregate_id, tables.aggregates.id],
  },
  { live: tables.aggregates, shadow: tables.shadowAggregates },
  {
    live: tables.computeNodes,
    shadow: tables.shadowComputeNodes,
    belongsTo: [tables.computeNodes.service_id, tables.services.id],
    heldBy: [[tables.resourceClaims.compute_node_id, tables.computeNodes.id]],
  },
  { live: tables.services, shadow: tables.shadowServices },
  {
    live: tables.schedulerPolicyBindings,
    shadow: tables.shadowSchedulerPolicyBindings,
    belongsTo: [tables.schedulerPolicyBindings.policy_id, tables.schedulerPolicies.id],
  },
  { live: tables.schedulerPolicies, shadow: tables.shadowSchedulerPolicies },
  { live: tables.keyPairs, shadow: tables.shadowKeyPairs },
  { live: tables.images, shadow: tables.shadowImages },
  { live: tables.quotas, shadow: tables.shadowQuotas },
  { live: tables.quotaClasses, shadow: tables.shadowQuotaClasses },
  { live: tables.quotaUsages, shadow: tables.shadowQuotaUsages },
  {
    live: tables.fixedIps,
    shadow: tables.shadowFixedIps,
    belongsTo: [tables.fixedIps.network_id, tables.novaNetworks.id],
  },
  { live: tables.novaNetworks, shadow: tables.shadowNovaNetworks },
  { live: tables.floatingIps, shadow: tables.shadowFloatingIps },
  { live: tables.virtualInterfaces, shadow: tables.shadowVirtualInterfaces },
];

export const DEFAULT_BATCH_SIZE = 500;

export interface ArchiveOptions {
  /** Rows soft-deleted at or after this instant stay. */
  before: Date;
  /** Budget for the whole run, over all tables. */
  maxRows: number;
  batchSize?: number;
}

export interface ArchiveReport {
  /** Rows moved (or purged) per table, every table of the plan listed. */
  tables: Record<string, number>;
  total: number;
  /** True when the run stopped because nothing was left, false when the budget ran out first. */
  finished: boolean;
}

type Source = 'live' | 'shadow';

const nameOf = (table: Table) => getTableName(table);

function parentEntry(entry: ArchivedTable): ArchivedTable | undefined {
  if (!entry.belongsTo) return undefined;
  const parentTable = entry.belongsTo[1].table;
  const parent = ARCHIVE_PLAN.find((candidate) => candidate.live === parentTable);
  if (!parent)
    throw new Error(`${nameOf(entry.live)} belongs to ${nameOf(parentTable)}, which is not archived`);
  return parent;
}

function childrenOf(entry: ArchivedTable): ArchivedTable[] {
  return ARCHIVE_PLAN.filter((candidate) => candidate.belongsTo?.[1].table === entry.live);
}

const tableIn = (entry: ArchivedTable, source: Source) =>
  sql.identifier(nameOf(source === 'live' ? entry.live : entry.shadow));
const col = (alias: string, column: MySqlColumn | string) =>
  sql`${sql.identifier(alias)}.${sql.identifier(typeof column === 'string' ? column : column.name)}`;

/**
 * Whether the row at `alias` goes: deleted before the cut-off itself, or belonging to a row that goes.
 * The chain of parents is walked with LEFT JOINs on their keys rather than nested EXISTS: MariaDB
 * turns such EXISTS into semi-joins that materialise the whole parent table for every batch, while
 * the joins stay primary/unique-key lookups for the few rows a batch reads.
 */
function goes(
  entry: ArchivedTable,
  source: Source,
  alias: string,
  before: Date,
): { joins: SQL[]; condition: SQL } {
  const own = (at: string) => sql`(${col(at, 'deleted')} <> 0 AND ${col(at, 'deleted_at')} < ${before})`;
  const joins: SQL[] = [];
  const conditions = [own(alias)];
  let child = entry;
  let childAlias = alias;
  for (
    let parent = parentEntry(child), depth = 0;
    parent && child.belongsTo;
    parent = parentEntry(parent), depth++
  ) {
    const parentAlias = `p${depth}`;
    const [column, key] = child.belongsTo;
    joins.push(
      sql`LEFT JOIN ${tableIn(parent, source)} AS ${sql.identifier(parentAlias)} ON ${col(parentAlias, key)} = ${col(childAlias, column)}`,
    );
    conditions.push(own(parentAlias));
    child = parent;
    childAlias = parentAlias;
  }
  return { joins, condition: sql`(${sql.join(conditions, sql` OR `)})` };
}

/** Nothing that belongs to the row (or, in the live tables, holds it) is left beside it. */
function leftAlone(entry: ArchivedTable, source: Source, alias: string): SQL[] {
  const children = childrenOf(entry).map((child, index) => {
    const [column, key] = child.belongsTo ?? [];
    if (!column || !key) throw new Error(`${nameOf(child.live)} has no parent column`);
    const childAlias = `c${index}`;
    return sql`NOT EXISTS (SELECT 1 FROM ${tableIn(child, source)} AS ${sql.identifier(childAlias)}
      WHERE ${col(childAlias, column)} = ${col(alias, key)})`;
  });
  if (source === 'shadow') return children;
  const holders = (entry.heldBy ?? []).map(([column, key], index) => {
    const holderAlias = `h${index}`;
    return sql`NOT EXISTS (SELECT 1 FROM ${sql.identifier(nameOf(column.table))} AS ${sql.identifier(holderAlias)}
      WHERE ${col(holderAlias, column)} = ${col(alias, key)})`;
  });
  return [...children, ...holders];
}

async function selectBatch(
  db: Executor,
  entry: ArchivedTable,
  source: Source,
  before: Date,
  afterId: number,
  limit: number,
): Promise<number[]> {
  const going = goes(entry, source, 't', before);
  const conditions = [sql`${col('t', 'id')} > ${afterId}`, going.condition, ...leftAlone(entry, source, 't')];
  const result = await db.execute(
    sql`SELECT ${col('t', 'id')} AS id FROM ${tableIn(entry, source)} AS t ${sql.join(going.joins, sql` `)}
      WHERE ${sql.join(conditions, sql` AND `)}
      ORDER BY ${col('t', 'id')} LIMIT ${limit} FOR UPDATE`,
  );
  return (result.rows as Array<{ id: number | string }>).map((row) => Number(row.id));
}

function idList(ids: number[]): SQL {
  return sql.join(
    ids.map((id) => sql`${id}`),
    sql`, `,
  );
}

function rowsAffected(result: { rowsAffected: number }): number {
  return Number(result.rowsAffected);
}

async function moveBatch(db: PrimaryDb, entry: ArchivedTable, before: Date, afterId: number, limit: number) {
  return db.transaction(async (tx) => {
    const ids = await selectBatch(tx, entry, 'live', before, afterId, limit);
    if (ids.length === 0) return ids;
    const columns = sql.join(
      Object.values(getTableColumns(entry.live)).map((column) => sql.identifier(column.name)),
      sql`, `,
    );
    const copied = await tx.execute(
      sql`INSERT INTO ${tableIn(entry, 'shadow')} (${columns})
        SELECT ${columns} FROM ${tableIn(entry, 'live')} WHERE id IN (${idList(ids)})`,
    );
    const deleted = await tx.execute(sql`DELETE FROM ${tableIn(entry, 'live')} WHERE id IN (${idList(ids)})`);
    if (rowsAffected(copied) !== ids.length || rowsAffected(deleted) !== ids.length)
      throw new Error(
        `archiving ${nameOf(entry.live)}: ${ids.length} rows selected, ${rowsAffected(copied)} copied, ${rowsAffected(deleted)} deleted`,
      );
    return ids;
  });
}

async function purgeBatch(db: PrimaryDb, entry: ArchivedTable, before: Date, afterId: number, limit: number) {
  return db.transaction(async (tx) => {
    const ids = await selectBatch(tx, entry, 'shadow', before, afterId, limit);
    if (ids.length === 0) return ids;
    const deleted = await tx.execute(
      sql`DELETE FROM ${tableIn(entry, 'shadow')} WHERE id IN (${idList(ids)})`,
    );
    if (rowsAffected(deleted) !== ids.length)
      throw new Error(
        `purging ${nameOf(entry.shadow)}: ${ids.length} rows selected, ${rowsAffected(deleted)} deleted`,
      );
    return ids;
  });
}

type Batch = (
  db: PrimaryDb,
  entry: ArchivedTable,
  before: Date,
  afterId: number,
  limit: number,
) => Promise<number[]>;

async function runPlan(db: PrimaryDb, batch: Batch, options: ArchiveOptions): Promise<ArchiveReport> {
  const batchSize = options.batchSize ?? DEFAULT_BATCH_SIZE;
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new Error('batch size must be a positive integer');
  if (!(options.maxRows >= 0)) throw new Error('max rows must not be negative');
  const report: ArchiveReport = { tables: {}, total: 0, finished: false };
  for (const entry of ARCHIVE_PLAN) report.tables[nameOf(entry.live)] = 0;
  for (const entry of ARCHIVE_PLAN) {
    // The cursor only saves rescanning rows this run already found held; a new run starts over.
    let afterId = 0;
    for (;;) {
      const budget = options.maxRows - report.total;
      if (budget <= 0) return report;
      const ids = await batch(db, entry, options.before, afterId, Math.min(batchSize, budget));
      if (ids.length === 0) break;
      afterId = ids[ids.length - 1] ?? afterId;
      report.tables[nameOf(entry.live)] = (report.tables[nameOf(entry.live)] ?? 0) + ids.length;
      report.total += ids.length;
    }
  }
  report.finished = true;
  return report;
}

/** Moves soft-deleted rows older than `before` (and the rows that belong to them) into the shadow tables. */
export function archiveDeletedRows(db: PrimaryDb, options: ArchiveOptions): Promise<ArchiveReport> {
  return runPlan(db, moveBatch, options);
}

/**
 * Drops shadow rows deleted before `options.before`, with the rows archived along with them (which
 * carry no deletion time of their own), children first like the archive.
 */
export function purgeShadowRows(db: PrimaryDb, options: ArchiveOptions): Promise<ArchiveReport> {
  return runPlan(db, purgeBatch, options);
}
