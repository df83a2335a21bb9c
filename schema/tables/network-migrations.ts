import {
  boolean,
  datetime,
  index,
  json,
  mysqlTable,
  tinyint,
  uniqueIndex,
  varchar,
} from 'drizzle-orm/mysql-core';
import { id, timestamps } from './columns.ts';

// The nova-network → networking service migration (workflows/network-migration.ts): one row per run,
// the map from each legacy object to what the run created for it, and what each host's agent reported
// after re-plugging a guest. Rows are kept after the run ends, as the record of what was done.

/** What the plan found, what it would create, what blocked it, and what verify found different. */
export interface NetworkMigrationReport {
  plan?: Record<string, unknown>;
  conflicts?: Array<Record<string, unknown>>;
  warnings?: Array<Record<string, unknown>>;
  differences?: Array<Record<string, unknown>>;
}

/** How far the run has come: for each kind of object, how many the plan counted and how many exist. */
export type NetworkMigrationProgress = Record<string, { total: number; done: number }>;

export const networkMigrations = mysqlTable(
  'network_migrations',
  {
    id: id(),
    uuid: varchar('uuid', { length: 36 }).notNull(),
    /** functions/network/migration/states.ts is the only writer. */
    status: varchar('status', { length: 16 }).notNull(),
    dry_run: boolean('dry_run').notNull(),
    /** The provider physical network the migrated networks are put on. */
    physical_network: varchar('physical_network', { length: 64 }).notNull(),
    /** The step the workflow ran last (plan, networks, ports, floating_ips, plug, verify, cut_over, rollback). */
    step: varchar('step', { length: 32 }),
    execution_arn: varchar('execution_arn', { length: 2048 }),
    user_id: varchar('user_id', { length: 64 }).notNull(),
    project_id: varchar('project_id', { length: 64 }).notNull(),
    /**
     * 1 while the run has not ended, NULL once it has: the unique key lets only one unfinished
     * migration exist, whatever the race between two starts.
     */
    unfinished: tinyint('unfinished'),
    progress: json('progress').$type<NetworkMigrationProgress>().notNull(),
    report: json('report').$type<NetworkMigrationReport>().notNull(),
    error: varchar('error', { length: 2048 }),
    finished_at: datetime('finished_at', { mode: 'date', fsp: 3 }),
    ...timestamps,
  },
  (t) => [
    uniqueIndex('uniq_network_migrations0uuid').on(t.uuid),
    uniqueIndex('uniq_network_migrations0unfinished').on(t.unfinished),
    index('network_migrations_status_idx').on(t.status),
  ],
);

export const NETWORK_MIGRATION_KINDS = ['network', 'subnet', 'router', 'port', 'floatingip'] as const;
export type NetworkMigrationKind = (typeof NETWORK_MIGRATION_KINDS)[number];

/**
 * What a run created for each legacy object, written in the same transaction as the object: the key
 * on (kind, legacy_id) is what makes a resumed run skip what an earlier attempt already created.
 */
export const networkMigrationMap = mysqlTable(
  'network_migration_map',
  {
    id: id(),
    migration_uuid: varchar('migration_uuid', { length: 36 }).notNull(),
    kind: varchar('kind', { length: 16 }).$type<NetworkMigrationKind>().notNull(),
    /** The legacy row's id (a network, VIF or floating IP id), or `pool:<name>` for a floating pool. */
    legacy_id: varchar('legacy_id', { length: 300 }).notNull(),
    new_uuid: varchar('new_uuid', { length: 36 }).notNull(),
    created_at: datetime('created_at', { mode: 'date', fsp: 3 }).notNull(),
  },
  (t) => [
    uniqueIndex('uniq_network_migration_map0kind0legacy_id').on(t.kind, t.legacy_id),
    index('network_migration_map_migration_idx').on(t.migration_uuid, t.kind),
    // A port keeps its VIF's uuid: the next VIFs to carry are those no entry names yet.
    index('network_migration_map_new_uuid_idx').on(t.new_uuid),
  ],
);

/** A VIF as a host's agent reported it after plug_vifs: the guest's interfaces as they now are. */
export interface PluggedVif {
  id: string;
  address: string;
  ips: string[];
}

export const networkMigrationPlugs = mysqlTable(
  'network_migration_plugs',
  {
    id: id(),
    migration_uuid: varchar('migration_uuid', { length: 36 }).notNull(),
    instance_uuid: varchar('instance_uuid', { length: 36 }).notNull(),
    host: varchar('host', { length: 255 }).notNull(),
    /** `plugged` (the agent answered) or `failed` (it failed or never answered; a resume tries again). */
    status: varchar('status', { length: 16 }).notNull(),
    vifs: json('vifs').$type<PluggedVif[]>().notNull(),
    error: varchar('error', { length: 1024 }),
    ...timestamps,
  },
  (t) => [
    uniqueIndex('uniq_network_migration_plugs0migration_uuid0instance_uuid').on(
      t.migration_uuid,
      t.instance_uuid,
    ),
  ],
);
