import { sql } from 'drizzle-orm';
import {
  bigint,
  boolean,
  datetime,
  index,
  json,
  mysqlTable,
  uniqueIndex,
  varchar,
} from 'drizzle-orm/mysql-core';
import { id, softDelete, timestamps } from './columns.ts';

export const services = mysqlTable(
  'services',
  {
    id: id(),
    /** The v2.1 API's id for the service from 2.53 on; the database draws it (migration 0021). */
    uuid: varchar('uuid', { length: 36 }).notNull().default(sql`(uuid())`),
    host: varchar('host', { length: 255 }).notNull(),
    binary: varchar('binary', { length: 255 }).notNull(),
    topic: varchar('topic', { length: 255 }).notNull(),
    availability_zone: varchar('availability_zone', { length: 255 }).notNull().default('nova'),
    disabled: boolean('disabled').notNull().default(false),
    disabled_reason: varchar('disabled_reason', { length: 255 }),
    forced_down: boolean('forced_down').notNull().default(false),
    report_count: bigint('report_count', { mode: 'number', unsigned: true }).notNull().default(0),
    /** Set by every agent report; a service is up while this is recent enough. */
    last_seen_at: datetime('last_seen_at', { mode: 'date', fsp: 3 }),
    queue_url: varchar('queue_url', { length: 1024 }),
    /** Object versions the host's agent understands, e.g. {"Instance": "1.0"}; commands are backported to them. */
    supported_objects: json('supported_objects').$type<Record<string, string>>().notNull(),
    /**
     * Command names the host's agent runs (schema/objects/compute-command.ts); null for an agent from
     * before moves existed, which runs only the legacy set. A mixed fleet is sent only what each runs.
     */
    supported_commands: json('supported_commands').$type<string[]>(),
    ...timestamps,
    ...softDelete,
  },
  (t) => [
    uniqueIndex('uniq_services0host0binary0deleted').on(t.host, t.binary, t.deleted),
    uniqueIndex('uniq_services0uuid').on(t.uuid),
    index('services_last_seen_idx').on(t.last_seen_at),
  ],
);

/** One credential per compute host, for the API only: agents never hold cloud credentials. */
export const hostCredentials = mysqlTable('host_credentials', {
  host: varchar('host', { length: 255 }).primaryKey(),
  /** SHA-256 of the secret, hex. */
  secret_hash: varchar('secret_hash', { length: 64 }).notNull(),
  ...timestamps,
});
