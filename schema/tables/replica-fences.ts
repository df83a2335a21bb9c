import { datetime, mysqlTable, text, varchar } from 'drizzle-orm/mysql-core';

/**
 * A replica that may lack a write the API has already acknowledged: it serves no reads until it has
 * applied `position` (schema/consistency.ts). One row per fenced replica; none while all keep up.
 */
export const replicaFences = mysqlTable('replica_fences', {
  /** The replica's host, as in DATABASE_REPLICA_URLS. */
  replica: varchar('replica', { length: 255 }).primaryKey(),
  /** The primary's replication position (GTID set) the replica must reach before serving reads again. */
  position: text('position').notNull(),
  fenced_at: datetime('fenced_at', { mode: 'date', fsp: 3 }).notNull(),
});
