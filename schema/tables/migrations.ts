import { sql } from 'drizzle-orm';
import { index, int, json, mysqlTable, uniqueIndex, varchar } from 'drizzle-orm/mysql-core';
import { id, softDelete, timestamps } from './columns.ts';
import type { FlavorSnapshot } from './instances.ts';

/** What an admin asked of an in-flight live migration; the source host's agent reads it with its heartbeat. */
export type MigrationControl = 'cancel' | 'force_complete';

/** Every move of an instance (cold migrate, resize, live migrate, evacuate) is one row here. */
export const migrations = mysqlTable(
  'migrations',
  {
    id: id(),
    /** The v2.1 API's migration id from 2.59 on; the database draws it (migration 0019). */
    uuid: varchar('uuid', { length: 36 }).notNull().default(sql`(uuid())`),
    instance_uuid: varchar('instance_uuid', { length: 36 }).notNull(),
    migration_type: varchar('migration_type', { length: 32 }).notNull(),
    status: varchar('status', { length: 255 }).notNull(),
    source_compute: varchar('source_compute', { length: 255 }),
    source_node: varchar('source_node', { length: 255 }),
    dest_compute: varchar('dest_compute', { length: 255 }),
    dest_node: varchar('dest_node', { length: 255 }),
    dest_host: varchar('dest_host', { length: 255 }),
    old_flavorid: varchar('old_flavorid', { length: 255 }),
    new_flavorid: varchar('new_flavorid', { length: 255 }),
    progress: int('progress').notNull().default(0),
    execution_arn: varchar('execution_arn', { length: 2048 }),
    old_flavor: json('old_flavor').$type<FlavorSnapshot>(),
    new_flavor: json('new_flavor').$type<FlavorSnapshot>(),
    control: varchar('control', { length: 16 }).$type<MigrationControl>(),
    error_message: varchar('error_message', { length: 1024 }),
    /** Who started the move (compute 2.80); null on rows written before it was recorded (migration 0022). */
    user_id: varchar('user_id', { length: 64 }),
    project_id: varchar('project_id', { length: 64 }),
    ...timestamps,
    ...softDelete,
  },
  (t) => [
    uniqueIndex('uniq_migrations0uuid').on(t.uuid),
    index('migrations_instance_uuid_idx').on(t.instance_uuid, t.deleted),
    index('migrations_by_host_and_status_idx').on(t.source_compute, t.dest_compute, t.status, t.deleted),
    index('migrations_by_dest_and_status_idx').on(t.dest_compute, t.status, t.deleted),
  ],
);
