import { mysqlTable, text, uniqueIndex, varchar } from 'drizzle-orm/mysql-core';
import { id, softDelete, timestamps } from './columns.ts';

export const keyPairs = mysqlTable(
  'key_pairs',
  {
    id: id(),
    name: varchar('name', { length: 255 }).notNull(),
    user_id: varchar('user_id', { length: 64 }).notNull(),
    fingerprint: varchar('fingerprint', { length: 255 }).notNull(),
    public_key: text('public_key').notNull(),
    type: varchar('type', { length: 16 }).notNull().default('ssh'),
    ...timestamps,
    ...softDelete,
  },
  (t) => [uniqueIndex('uniq_key_pairs0user_id0name0deleted').on(t.user_id, t.name, t.deleted)],
);
