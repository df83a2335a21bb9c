import {
  bigint,
  boolean,
  double,
  index,
  int,
  mediumtext,
  mysqlTable,
  uniqueIndex,
  varchar,
} from 'drizzle-orm/mysql-core';
import { id, softDelete, timestamps } from './columns.ts';

export const flavors = mysqlTable(
  'flavors',
  {
    id: id(),
    /** The API-visible id (`flavor_ref`), a string so operators can choose names like `m1.tiny` or uuids. */
    flavorid: varchar('flavorid', { length: 255 }).notNull(),
    name: varchar('name', { length: 255 }).notNull(),
    memory_mb: int('memory_mb').notNull(),
    vcpus: int('vcpus').notNull(),
    root_gb: int('root_gb').notNull(),
    ephemeral_gb: int('ephemeral_gb').notNull().default(0),
    swap: int('swap').notNull().default(0),
    rxtx_factor: double('rxtx_factor').notNull().default(1),
    is_public: boolean('is_public').notNull().default(true),
    disabled: boolean('disabled').notNull().default(false),
    /**
     * The operator's words about the flavor (v2.1 from 2.55), up to 65535 characters: MEDIUMTEXT because
     * TEXT holds 65535 bytes and a utf8mb4 character takes up to four. NULL when it has none.
     */
    description: mediumtext('description'),
    ...timestamps,
    ...softDelete,
  },
  (t) => [
    uniqueIndex('uniq_flavors0name0deleted').on(t.name, t.deleted),
    uniqueIndex('uniq_flavors0flavorid0deleted').on(t.flavorid, t.deleted),
  ],
);

export const flavorExtraSpecs = mysqlTable(
  'flavor_extra_specs',
  {
    id: id(),
    flavor_id: bigint('flavor_id', { mode: 'number', unsigned: true }).notNull(),
    key: varchar('key', { length: 255 }).notNull(),
    value: varchar('value', { length: 255 }).notNull(),
    ...timestamps,
    ...softDelete,
  },
  (t) => [uniqueIndex('uniq_flavor_extra_specs0flavor_id0key0deleted').on(t.flavor_id, t.key, t.deleted)],
);

export const flavorProjects = mysqlTable(
  'flavor_projects',
  {
    id: id(),
    flavor_id: bigint('flavor_id', { mode: 'number', unsigned: true }).notNull(),
    project_id: varchar('project_id', { length: 64 }).notNull(),
    ...timestamps,
    ...softDelete,
  },
  (t) => [
    uniqueIndex('uniq_flavor_projects0flavor_id0project_id0deleted').on(t.flavor_id, t.project_id, t.deleted),
    index('flavor_projects_project_idx').on(t.project_id),
  ],
);
