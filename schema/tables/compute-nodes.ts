import { sql } from 'drizzle-orm';
import {
  bigint,
  boolean,
  double,
  index,
  int,
  json,
  mysqlTable,
  text,
  uniqueIndex,
  varchar,
} from 'drizzle-orm/mysql-core';
import { id, softDelete, timestamps } from './columns.ts';

export interface HostMetric {
  name: string;
  value: number;
  timestamp: string;
  source: string;
}

export const computeNodes = mysqlTable(
  'compute_nodes',
  {
    id: id(),
    /** The v2.1 API's hypervisor id from 2.53 on; the database draws it (migration 0021). */
    uuid: varchar('uuid', { length: 36 }).notNull().default(sql`(uuid())`),
    service_id: bigint('service_id', { mode: 'number', unsigned: true }).notNull(),
    host: varchar('host', { length: 255 }).notNull(),
    hypervisor_hostname: varchar('hypervisor_hostname', { length: 255 }).notNull(),
    hypervisor_type: varchar('hypervisor_type', { length: 255 }).notNull(),
    hypervisor_version: int('hypervisor_version').notNull(),
    /**
     * The host's zone: its aggregate's `availability_zone` metadata, else its service's. Registration
     * writes the service's, then functions/scheduler/placement-facts.ts applies the aggregate's.
     */
    availability_zone: varchar('availability_zone', { length: 255 }).notNull().default('nova'),
    vcpus: int('vcpus').notNull(),
    memory_mb: int('memory_mb').notNull(),
    local_gb: int('local_gb').notNull(),
    // The *_used columns are owned by claims (functions/scheduler/claims.ts), never by agent reports:
    // letting hosts overwrite usage is how Nova's resource tracker raced with the scheduler.
    vcpus_used: int('vcpus_used').notNull().default(0),
    memory_mb_used: int('memory_mb_used').notNull().default(0),
    local_gb_used: int('local_gb_used').notNull().default(0),
    running_vms: int('running_vms').notNull().default(0),
    cpu_allocation_ratio: double('cpu_allocation_ratio').notNull().default(16),
    ram_allocation_ratio: double('ram_allocation_ratio').notNull().default(1.5),
    disk_allocation_ratio: double('disk_allocation_ratio').notNull().default(1),
    // What aggregates and dedications decide about the host, copied here by
    // functions/scheduler/placement-facts.ts whenever they change, so the scheduler's candidate query
    // reads one row per host instead of joining derived tables.
    /** The lowest `*_allocation_ratio` metadata of the host's aggregates; null when none sets it. */
    aggregate_cpu_allocation_ratio: double('aggregate_cpu_allocation_ratio'),
    aggregate_ram_allocation_ratio: double('aggregate_ram_allocation_ratio'),
    aggregate_disk_allocation_ratio: double('aggregate_disk_allocation_ratio'),
    /** The project the host is dedicated to, directly or through one of its aggregates. */
    dedicated_to: varchar('dedicated_to', { length: 64 }),
    /** The projects the host's aggregates' `filter_tenant_id` lists admit, comma-separated; null: any. */
    filter_tenant_ids: text('filter_tenant_ids'),
    /** RAM left to claim with the ratio in effect: what the RAM weigher orders by, so it is indexed. */
    free_ram_mb: double('free_ram_mb').generatedAlwaysAs(
      sql`memory_mb * COALESCE(aggregate_ram_allocation_ratio, ram_allocation_ratio) - memory_mb_used`,
      { mode: 'stored' },
    ),
    metrics: json('metrics').$type<HostMetric[]>().notNull(),
    /** Bumped by every claim and release, so readers can tell a stale view of the host. */
    generation: bigint('generation', { mode: 'number', unsigned: true }).notNull().default(0),
    ...timestamps,
    ...softDelete,
  },
  (t) => [
    uniqueIndex('uniq_compute_nodes0uuid').on(t.uuid),
    uniqueIndex('uniq_compute_nodes0host0hypervisor_hostname0deleted').on(
      t.host,
      t.hypervisor_hostname,
      t.deleted,
    ),
    // Both let the candidate query read hosts in the RAM weigher's order and stop at its LIMIT.
    index('compute_nodes_free_ram_idx').on(t.deleted, t.free_ram_mb),
    index('compute_nodes_az_free_ram_idx').on(t.availability_zone, t.deleted, t.free_ram_mb),
  ],
);

/**
 * A resource reservation of one instance on one node; released by deleting the row. A `pending` row is
 * one a claim has written but not yet counted in the node's usage (functions/scheduler/claims.ts); it
 * has no node until the counting UPDATE places it on the chosen one.
 */
export const resourceClaims = mysqlTable(
  'resource_claims',
  {
    id: id(),
    instance_uuid: varchar('instance_uuid', { length: 36 }).notNull(),
    compute_node_id: bigint('compute_node_id', { mode: 'number', unsigned: true }),
    memory_mb: int('memory_mb').notNull(),
    vcpus: int('vcpus').notNull(),
    disk_gb: int('disk_gb').notNull(),
    pending: boolean('pending').notNull().default(false),
    ...timestamps,
  },
  (t) => [
    uniqueIndex('uniq_resource_claims0instance_uuid0compute_node_id').on(t.instance_uuid, t.compute_node_id),
    index('resource_claims_node_idx').on(t.compute_node_id),
  ],
);
