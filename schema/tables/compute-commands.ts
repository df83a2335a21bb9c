import { datetime, index, mysqlTable, text, varchar } from 'drizzle-orm/mysql-core';
import { timestamps } from './columns.ts';

/**
 * Commands the API has handed to an agent. The row is written when the API receives the command
 * from the host's own queue, which is what proves the command (and its task token) is that host's.
 */
export const computeCommands = mysqlTable(
  'compute_commands',
  {
    command_id: varchar('command_id', { length: 64 }).primaryKey(),
    host: varchar('host', { length: 255 }).notNull(),
    name: varchar('name', { length: 64 }).notNull(),
    instance_uuid: varchar('instance_uuid', { length: 36 }).notNull(),
    task_token: text('task_token').notNull(),
    /** The latest SQS receipt, needed to delete the message once the result is in. */
    receipt_handle: text('receipt_handle').notNull(),
    status: varchar('status', { length: 16 }).notNull(),
    delivered_at: datetime('delivered_at', { mode: 'date', fsp: 3 }).notNull(),
    completed_at: datetime('completed_at', { mode: 'date', fsp: 3 }),
    ...timestamps,
  },
  (t) => [index('compute_commands_host_idx').on(t.host, t.status)],
);
