import { bigint, datetime } from 'drizzle-orm/mysql-core';

// Shared column sets. Soft delete sets `deleted = id` (0 while live) so that a natural key can be
// unique together with `deleted`: any number of deleted rows, at most one live one.
export const timestamps = {
  created_at: datetime('created_at', { mode: 'date', fsp: 3 }).notNull(),
  updated_at: datetime('updated_at', { mode: 'date', fsp: 3 }),
};

export const softDelete = {
  deleted_at: datetime('deleted_at', { mode: 'date', fsp: 3 }),
  deleted: bigint('deleted', { mode: 'number', unsigned: true }).notNull().default(0),
};

export const id = () => bigint('id', { mode: 'number', unsigned: true }).autoincrement().primaryKey();
