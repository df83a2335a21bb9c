import { bigint, index, json, mysqlTable, uniqueIndex, varchar } from 'drizzle-orm/mysql-core';
import { id, softDelete, timestamps } from './columns.ts';

/** One weigher of a policy: its name (functions/scheduler/weighers/index.ts) and how much it counts. */
export interface PolicyWeigher {
  name: string;
  /** Applied to the weigher's normalised [0, 1] value; negative reverses its preference (e.g. stack). */
  multiplier: number;
}

/** Knobs a policy's filters and weighers read; every field has a default in functions/scheduler/policies.ts. */
export interface PolicySettings {
  max_io_ops_per_host?: number;
  max_instances_per_host?: number;
  /** `name=ratio` pairs for the generic metrics weigher, e.g. `cpu.frequency=1.0, cpu.percent=-0.5`. */
  metrics_weight_setting?: string;
  /** A metric older than this is stale. */
  metrics_max_age_seconds?: number;
  /** What a weigher does with a stale metric: rank the host last (`penalize`) or trust the old value (`use`). */
  metrics_on_stale?: 'penalize' | 'use';
}

/** A named set of filters and weighers. Several are active at once, each chosen by its bindings. */
export const schedulerPolicies = mysqlTable(
  'scheduler_policies',
  {
    id: id(),
    name: varchar('name', { length: 255 }).notNull(),
    description: varchar('description', { length: 255 }).notNull().default(''),
    filters: json('filters').$type<string[]>().notNull(),
    weighers: json('weighers').$type<PolicyWeigher[]>().notNull(),
    settings: json('settings').$type<PolicySettings>().notNull(),
    ...timestamps,
    ...softDelete,
  },
  (t) => [uniqueIndex('uniq_scheduler_policies0name0deleted').on(t.name, t.deleted)],
);

/** `default` makes the policy the one used when no other binding matches (replacing the built-in default). */
export type BindingKind = 'project' | 'flavor_extra_spec' | 'aggregate' | 'availability_zone' | 'default';

/** Selects a policy for the requests that match: `kind` names what `value` (and `key`) are compared with. */
export const schedulerPolicyBindings = mysqlTable(
  'scheduler_policy_bindings',
  {
    id: id(),
    policy_id: bigint('policy_id', { mode: 'number', unsigned: true }).notNull(),
    kind: varchar('kind', { length: 32 }).$type<BindingKind>().notNull(),
    /** The extra spec key for `flavor_extra_spec` bindings; empty otherwise. */
    key: varchar('key', { length: 255 }).notNull().default(''),
    value: varchar('value', { length: 255 }).notNull(),
    ...timestamps,
    ...softDelete,
  },
  (t) => [
    uniqueIndex('uniq_scheduler_policy_bindings0kind0key0value0deleted').on(
      t.kind,
      t.key,
      t.value,
      t.deleted,
    ),
    index('scheduler_policy_bindings_policy_idx').on(t.policy_id, t.deleted),
  ],
);

/** A whole host, or every host of an aggregate, reserved for one project. */
export const dedicatedHosts = mysqlTable(
  'dedicated_hosts',
  {
    id: id(),
    project_id: varchar('project_id', { length: 64 }).notNull(),
    host: varchar('host', { length: 255 }),
    aggregate_id: bigint('aggregate_id', { mode: 'number', unsigned: true }),
    ...timestamps,
    ...softDelete,
  },
  (t) => [
    uniqueIndex('uniq_dedicated_hosts0host0deleted').on(t.host, t.deleted),
    uniqueIndex('uniq_dedicated_hosts0aggregate_id0deleted').on(t.aggregate_id, t.deleted),
    index('dedicated_hosts_project_idx').on(t.project_id, t.deleted),
  ],
);

/**
 * What a host can run beyond its resources (`architecture`, `vm_mode`, `cpu_features`...), set by admins;
 * image properties and `capabilities:` flavor extra specs are matched against it.
 */
export const hostCapabilities = mysqlTable('host_capabilities', {
  host: varchar('host', { length: 255 }).primaryKey(),
  capabilities: json('capabilities').$type<Record<string, string>>().notNull(),
  ...timestamps,
});
