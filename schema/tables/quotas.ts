import { bigint, int, mysqlTable, uniqueIndex, varchar } from 'drizzle-orm/mysql-core';
import { id, softDelete, timestamps } from './columns.ts';

/** Per-project overrides of the default limits (resource = instances, cores, ram, key_pairs, metadata_items). */
export const quotas = mysqlTable(
  'quotas',
  {
    id: id(),
    project_id: varchar('project_id', { length: 64 }).notNull(),
    resource: varchar('resource', { length: 255 }).notNull(),
    hard_limit: int('hard_limit').notNull(),
    ...timestamps,
    ...softDelete,
  },
  (t) => [uniqueIndex('uniq_quotas0project_id0resource0deleted').on(t.project_id, t.resource, t.deleted)],
);

/** Default limits by quota class (`default` applies to every project without an override). */
export const quotaClasses = mysqlTable(
  'quota_classes',
  {
    id: id(),
    class_name: varchar('class_name', { length: 255 }).notNull(),
    resource: varchar('resource', { length: 255 }).notNull(),
    hard_limit: int('hard_limit').notNull(),
    ...timestamps,
    ...softDelete,
  },
  (t) => [
    uniqueIndex('uniq_quota_classes0class_name0resource0deleted').on(t.class_name, t.resource, t.deleted),
  ],
);

/**
 * What a project uses, kept with the reservation in one conditional write (`in_use + n <= limit`),
 * so concurrent requests cannot together exceed a quota.
 */
export const quotaUsages = mysqlTable(
  'quota_usages',
  {
    id: id(),
    project_id: varchar('project_id', { length: 64 }).notNull(),
    resource: varchar('resource', { length: 255 }).notNull(),
    in_use: bigint('in_use', { mode: 'number' }).notNull().default(0),
    ...timestamps,
    ...softDelete,
  },
  (t) => [
    uniqueIndex('uniq_quota_usages0project_id0resource0deleted').on(t.project_id, t.resource, t.deleted),
  ],
);
