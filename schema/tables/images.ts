import { int, json, mysqlTable, uniqueIndex, varchar } from 'drizzle-orm/mysql-core';
import { id, softDelete, timestamps } from './columns.ts';

/**
 * The image catalogue: Glance-shaped metadata only (no image data). `properties` holds the free-form
 * ones the scheduler reads, e.g. `architecture` and `hypervisor_type`.
 */
export const images = mysqlTable(
  'images',
  {
    id: id(),
    uuid: varchar('uuid', { length: 36 }).notNull(),
    name: varchar('name', { length: 255 }).notNull(),
    /** Glance's lifecycle: only `active` images can boot. */
    status: varchar('status', { length: 30 }).notNull(),
    disk_format: varchar('disk_format', { length: 30 }).notNull(),
    container_format: varchar('container_format', { length: 30 }).notNull(),
    min_disk: int('min_disk').notNull().default(0),
    min_ram: int('min_ram').notNull().default(0),
    /** `public` images are everyone's; `private` ones only their owner project's. */
    visibility: varchar('visibility', { length: 20 }).notNull(),
    owner: varchar('owner', { length: 64 }),
    properties: json('properties').$type<Record<string, string>>().notNull(),
    ...timestamps,
    ...softDelete,
  },
  (t) => [uniqueIndex('uniq_images0uuid').on(t.uuid)],
);
