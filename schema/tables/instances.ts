import {
  bigint,
  datetime,
  index,
  int,
  json,
  mysqlTable,
  text,
  uniqueIndex,
  varchar,
} from 'drizzle-orm/mysql-core';
import { id, softDelete, timestamps } from './columns.ts';

/** The flavor as it was when the instance was created or resized: later flavor edits never change a server. */
export interface FlavorSnapshot {
  flavorid: string;
  name: string;
  memory_mb: number;
  vcpus: number;
  root_gb: number;
  ephemeral_gb: number;
  swap: number;
}

export const instances = mysqlTable(
  'instances',
  {
    id: id(),
    uuid: varchar('uuid', { length: 36 }).notNull(),
    project_id: varchar('project_id', { length: 64 }).notNull(),
    user_id: varchar('user_id', { length: 64 }).notNull(),
    display_name: varchar('display_name', { length: 255 }).notNull(),
    /** The owner's free text about the server (compute 2.19); NULL when none was given. */
    description: varchar('description', { length: 255 }),
    /**
     * The guest's hostname: what the create request named (2.90), or else made from the display name
     * at create; a rename leaves it as it is. Up to 255 characters, for a FQDN (2.94).
     */
    hostname: varchar('hostname', { length: 255 }),
    image_ref: varchar('image_ref', { length: 255 }).notNull(),
    flavor: json('flavor').$type<FlavorSnapshot>().notNull(),
    vm_state: varchar('vm_state', { length: 255 }).notNull(),
    task_state: varchar('task_state', { length: 255 }),
    power_state: int('power_state').notNull().default(0),
    host: varchar('host', { length: 255 }),
    node: varchar('node', { length: 255 }),
    /**
     * The zone the server is in: what its create request named until boot.schedule places it, then the
     * zone of its host, kept up to date by every move (the server view's availability zone).
     */
    availability_zone: varchar('availability_zone', { length: 255 }),
    /**
     * The zone the create request named (the zone the server is pinned to, which an update may change
     * from 2.104); NULL when it named none, and then a move may take the server to any zone (Nova's
     * request_spec.availability_zone).
     */
    requested_availability_zone: varchar('requested_availability_zone', { length: 255 }),
    /**
     * The compute host and node the create request asked to boot on (compute 2.74), which the boot's
     * scheduling must keep to while its filters still apply; NULL when it named none. Moves ignore them.
     */
    requested_host: varchar('requested_host', { length: 255 }),
    requested_node: varchar('requested_node', { length: 255 }),
    metadata: json('metadata').$type<Record<string, string>>().notNull(),
    key_name: varchar('key_name', { length: 255 }),
    user_data: text('user_data'),
    reservation_id: varchar('reservation_id', { length: 255 }).notNull(),
    progress: int('progress').notNull().default(0),
    /** The Step Functions execution currently acting on the instance, if any. */
    execution_arn: varchar('execution_arn', { length: 2048 }),
    /** Hints given at create time (`os-scheduler-hints:scheduler_hints`), read by every later scheduling. */
    scheduler_hints: json('scheduler_hints').$type<Record<string, unknown>>(),
    /** The scheduler policy that chose the current host. */
    scheduler_policy: varchar('scheduler_policy', { length: 255 }),
    /** Who locked the server (`admin` or `owner`); a locked server refuses its owner's actions. */
    locked_by: varchar('locked_by', { length: 255 }),
    /** Why it was locked (2.73), while it is locked; NULL when no reason was given. */
    locked_reason: varchar('locked_reason', { length: 255 }),
    /** Certificate ids the image's signature must chain to (2.63); NULL when none were given. */
    trusted_image_certificates: json('trusted_image_certificates').$type<string[]>(),
    launched_at: datetime('launched_at', { mode: 'date', fsp: 3 }),
    terminated_at: datetime('terminated_at', { mode: 'date', fsp: 3 }),
    ...timestamps,
    ...softDelete,
  },
  (t) => [
    uniqueIndex('uniq_instances0uuid').on(t.uuid),
    index('instances_project_deleted_created_idx').on(t.project_id, t.deleted, t.created_at),
    index('instances_host_deleted_idx').on(t.host, t.deleted),
    index('instances_updated_at_idx').on(t.updated_at),
    // The list filters an admin may use across projects (members' lists start from the project index).
    index('instances_reservation_id_idx').on(t.reservation_id),
    index('instances_vm_state_deleted_idx').on(t.vm_state, t.deleted),
    index('instances_image_ref_deleted_idx').on(t.image_ref, t.deleted),
    index('instances_user_id_deleted_idx').on(t.user_id, t.deleted),
  ],
);

/** Nova's limits on server tags (2.26): how many a server has, how long each is. */
export const MAX_TAGS_PER_SERVER = 50;
export const MAX_TAG_LENGTH = 60;

/**
 * A server's tags, one row each. A removed tag is soft-deleted like any child row; the live ones of a
 * server are unique. They stay with a deleted server until it is archived, then go with it.
 */
export const instanceTags = mysqlTable(
  'instance_tags',
  {
    id: id(),
    instance_uuid: varchar('instance_uuid', { length: 36 }).notNull(),
    tag: varchar('tag', { length: MAX_TAG_LENGTH }).notNull(),
    ...timestamps,
    ...softDelete,
  },
  (t) => [uniqueIndex('uniq_instance_tags0instance_uuid0tag0deleted').on(t.instance_uuid, t.tag, t.deleted)],
);

export const instanceFaults = mysqlTable(
  'instance_faults',
  {
    id: id(),
    instance_uuid: varchar('instance_uuid', { length: 36 }).notNull(),
    code: int('code').notNull(),
    message: varchar('message', { length: 255 }).notNull(),
    details: text('details'),
    host: varchar('host', { length: 255 }),
    ...timestamps,
    ...softDelete,
  },
  (t) => [index('instance_faults_instance_uuid_idx').on(t.instance_uuid, t.deleted, t.created_at)],
);

export const instanceActions = mysqlTable(
  'instance_actions',
  {
    id: id(),
    action: varchar('action', { length: 255 }).notNull(),
    instance_uuid: varchar('instance_uuid', { length: 36 }).notNull(),
    request_id: varchar('request_id', { length: 255 }).notNull(),
    project_id: varchar('project_id', { length: 64 }).notNull(),
    user_id: varchar('user_id', { length: 64 }).notNull(),
    start_time: datetime('start_time', { mode: 'date', fsp: 3 }).notNull(),
    finish_time: datetime('finish_time', { mode: 'date', fsp: 3 }),
    message: varchar('message', { length: 255 }),
    ...timestamps,
    ...softDelete,
  },
  (t) => [
    index('instance_actions_instance_uuid_idx').on(t.instance_uuid, t.deleted),
    uniqueIndex('uniq_instance_actions0instance_uuid0request_id').on(t.instance_uuid, t.request_id),
  ],
);

export const instanceActionEvents = mysqlTable(
  'instance_action_events',
  {
    id: id(),
    action_id: bigint('action_id', { mode: 'number', unsigned: true }).notNull(),
    event: varchar('event', { length: 255 }).notNull(),
    start_time: datetime('start_time', { mode: 'date', fsp: 3 }).notNull(),
    finish_time: datetime('finish_time', { mode: 'date', fsp: 3 }),
    result: varchar('result', { length: 255 }),
    traceback: text('traceback'),
    /** A failed event's fault message (compute 2.84); null for one that succeeded (migration 0022). */
    details: text('details'),
    host: varchar('host', { length: 255 }),
    ...timestamps,
    ...softDelete,
  },
  (t) => [index('instance_action_events_action_id_idx').on(t.action_id, t.deleted)],
);
