import { getTableColumns } from 'drizzle-orm';
import {
  getTableConfig,
  index,
  type MySqlColumn,
  type MySqlColumnBuilderBase,
  type MySqlTable,
  type MySqlTableWithColumns,
  mysqlTable,
} from 'drizzle-orm/mysql-core';
import { aggregateHosts, aggregateMetadata, aggregates } from './aggregates.ts';
import { computeNodes } from './compute-nodes.ts';
import { flavorExtraSpecs, flavorProjects, flavors } from './flavors.ts';
import { images } from './images.ts';
import {
  instanceActionEvents,
  instanceActions,
  instanceFaults,
  instances,
  instanceTags,
} from './instances.ts';
import { keyPairs } from './key-pairs.ts';
import { migrations } from './migrations.ts';
import { fixedIps, floatingIps, novaNetworks, virtualInterfaces } from './nova-network.ts';
import { quotaClasses, quotas, quotaUsages } from './quotas.ts';
import { dedicatedHosts, schedulerPolicies, schedulerPolicyBindings } from './scheduler.ts';
import { services } from './services.ts';

// A shadow table holds the rows archived from its live table (schema/archive.ts): the same columns,
// so `INSERT INTO shadow_x SELECT ... FROM x` copies a row as it was. It drops every unique key (the
// natural keys of many archived rows collide: several deleted `m1.tiny` flavors) and AUTO_INCREMENT
// (a shadow row always keeps the id it had while live). Its own indexes serve the purge: by
// deletion time, and by the column that ties a row to the parent it was archived with (or, for a
// parent, the key its children refer to).

type AnyMySqlTable = MySqlTable & { _: { columns: Record<string, MySqlColumn> } };

export type ShadowTable<Live extends AnyMySqlTable> = MySqlTableWithColumns<{
  name: `shadow_${Live['_']['name']}`;
  schema: undefined;
  columns: Live['_']['columns'];
  dialect: 'mysql';
}>;

/** What `mysqlTable` asks of a column builder; drizzle has no public way to copy a built column. */
interface ColumnCopy {
  setName(name: string): void;
  build(table: MySqlTable): MySqlColumn;
  buildForeignKeys(): [];
}

type ColumnClass = new (table: MySqlTable, config: Record<string, unknown>) => MySqlColumn;

// A built column keeps the builder's config (type, length, mode, nullability, default) and its class
// (which maps values to and from the driver); building the same class from that config on the shadow
// table gives a column that reads and writes exactly like the live one.
function copyColumn(column: MySqlColumn): ColumnCopy {
  const { config } = column as unknown as { config: Record<string, unknown> };
  const shadowConfig = { ...config, autoIncrement: false, isUnique: false, uniqueName: undefined };
  return {
    setName: () => undefined,
    build: (table) => new (column.constructor as ColumnClass)(table, shadowConfig),
    buildForeignKeys: () => [],
  };
}

/**
 * The shadow of a soft-deletable live table, derived from its declaration so that a column added to
 * the live table appears here too (its migration must still add it to both).
 */
export function shadowTable<Live extends AnyMySqlTable>(
  live: Live,
  /** The column the purge looks rows up by: the parent a row was archived with, or the key children refer to. */
  lookupColumn?: keyof Live['_']['columns'] & string,
): ShadowTable<Live> {
  const { name, columns } = getTableConfig(live);
  const copies = Object.fromEntries(
    Object.entries(getTableColumns(live)).map(([key, column]) => [key, copyColumn(column)]),
  ) as unknown as Record<string, MySqlColumnBuilderBase>;
  if (!columns.some((column) => column.name === 'deleted_at'))
    throw new Error(`${name} is not soft-deletable: it has no deleted_at column`);
  const table = mysqlTable(`shadow_${name}`, copies, (t) => {
    const deletedAt = t.deleted_at;
    const lookup = lookupColumn ? t[lookupColumn] : undefined;
    if (!deletedAt) return [];
    return [
      index(`shadow_${name}_deleted_at_idx`).on(deletedAt),
      ...(lookup ? [index(`shadow_${name}_${lookupColumn}_idx`).on(lookup)] : []),
    ];
  });
  return table as unknown as ShadowTable<Live>;
}

// Actions, faults, tags and migrations name their instance by uuid, so the purge looks instances up by it.
export const shadowInstances = shadowTable(instances, 'uuid');
export const shadowInstanceFaults = shadowTable(instanceFaults, 'instance_uuid');
export const shadowInstanceTags = shadowTable(instanceTags, 'instance_uuid');
export const shadowInstanceActions = shadowTable(instanceActions, 'instance_uuid');
export const shadowInstanceActionEvents = shadowTable(instanceActionEvents, 'action_id');
export const shadowMigrations = shadowTable(migrations, 'instance_uuid');
export const shadowFlavors = shadowTable(flavors);
export const shadowFlavorExtraSpecs = shadowTable(flavorExtraSpecs, 'flavor_id');
export const shadowFlavorProjects = shadowTable(flavorProjects, 'flavor_id');
export const shadowAggregates = shadowTable(aggregates);
export const shadowAggregateHosts = shadowTable(aggregateHosts, 'aggregate_id');
export const shadowAggregateMetadata = shadowTable(aggregateMetadata, 'aggregate_id');
export const shadowServices = shadowTable(services);
export const shadowComputeNodes = shadowTable(computeNodes, 'service_id');
export const shadowKeyPairs = shadowTable(keyPairs);
export const shadowImages = shadowTable(images);
export const shadowQuotas = shadowTable(quotas);
export const shadowQuotaClasses = shadowTable(quotaClasses);
export const shadowQuotaUsages = shadowTable(quotaUsages);
export const shadowSchedulerPolicies = shadowTable(schedulerPolicies);
// nova-network's Havana tables: fixed IPs go with their network, which the purge looks up by id.
export const shadowNovaNetworks = shadowTable(novaNetworks);
export const shadowFixedIps = shadowTable(fixedIps, 'network_id');
export const shadowFloatingIps = shadowTable(floatingIps);
export const shadowVirtualInterfaces = shadowTable(virtualInterfaces, 'instance_uuid');
export const shadowSchedulerPolicyBindings = shadowTable(schedulerPolicyBindings, 'policy_id');
export const shadowDedicatedHosts = shadowTable(dedicatedHosts, 'aggregate_id');
