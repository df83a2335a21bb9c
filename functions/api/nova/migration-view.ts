import type { migrations } from '../../../schema/tables/index.ts';

/** What a view shows beyond Havana's keys; each extension shows more from a version of its own on. */
export interface MigrationViewParts {
  /** The move's progress and why it failed. */
  progress?: boolean;
  /** The user and project that started the move (null for moves recorded before they were). */
  owner?: boolean;
  /** The migration's uuid. */
  uuid?: boolean;
}

/** One migrations row as os-migrations and server-migrations show it; every part unless told otherwise. */
export function migrationView(
  row: typeof migrations.$inferSelect,
  { progress = true, owner = true, uuid = true }: MigrationViewParts = {},
) {
  return {
    id: row.id,
    ...(uuid ? { uuid: row.uuid } : {}),
    instance_uuid: row.instance_uuid,
    migration_type: row.migration_type,
    status: row.status,
    ...(progress ? { progress: row.progress } : {}),
    source_compute: row.source_compute,
    source_node: row.source_node,
    dest_compute: row.dest_compute,
    dest_node: row.dest_node,
    dest_host: row.dest_host,
    old_instance_type_id: row.old_flavorid,
    new_instance_type_id: row.new_flavorid,
    ...(progress ? { error_message: row.error_message } : {}),
    ...(owner ? { user_id: row.user_id, project_id: row.project_id } : {}),
    created_at: row.created_at.toISOString(),
    updated_at: row.updated_at?.toISOString() ?? null,
  };
}
