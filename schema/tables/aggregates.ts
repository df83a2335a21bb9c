import { bigint, index, mysqlTable, uniqueIndex, varchar } from 'drizzle-orm/mysql-core';
import { id, softDelete, timestamps } from './columns.ts';

/** A named group of hosts with metadata; `availability_zone` metadata makes it a zone. */
export const aggregates = mysqlTable(
  'aggregates',
  {
    id: id(),
    uuid: varchar('uuid', { length: 36 }).notNull(),
    name: varchar('name', { length: 255 }).notNull(),
    ...timestamps,
    ...softDelete,
  },
  (t) => [
    uniqueIndex('uniq_aggregates0name0deleted').on(t.name, t.deleted),
    uniqueIndex('uniq_aggregates0uuid').on(t.uuid),
  ],
);

export const aggregateHosts = mysqlTable(
  'aggregate_hosts',
  {
    id: id(),
    aggregate_id: bigint('aggregate_id', { mode: 'number', unsigned: true }).notNull(),
    host: varchar('host', { length: 255 }).notNull(),
    ...timestamps,
    ...softDelete,
  },
  (t) => [
    uniqueIndex('uniq_aggregate_hosts0host0aggregate_id0deleted').on(t.host, t.aggregate_id, t.deleted),
    index('aggregate_hosts_host_idx').on(t.host, t.deleted),
  ],
);

export const aggregateMetadata = mysqlTable(
  'aggregate_metadata',
  {
    id: id(),
    aggregate_id: bigint('aggregate_id', { mode: 'number', unsigned: true }).notNull(),
    key: varchar('key', { length: 255 }).notNull(),
    value: varchar('value', { length: 255 }).notNull(),
    ...timestamps,
    ...softDelete,
  },
  (t) => [
    uniqueIndex('uniq_aggregate_metadata0aggregate_id0key0deleted').on(t.aggregate_id, t.key, t.deleted),
    index('aggregate_metadata_key_idx').on(t.key, t.deleted),
  ],
);
