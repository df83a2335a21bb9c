import type { migrations } from '../../../schema/tables/index.ts';

/**
 * One migrations row as os-migrations and server-migrations show it: Havana's keys, and from
 * os-migrations version 2 on, the move's progress and why it failed.
 */
export function migrationView(row: typeof migrations.$inferSelect, withProgress = true) {
  const view = {
    id: row.id,
    instance_uuid: row.instance_uuid,
    migration_type: row.migration_type,
    status: row.status,
    progress: row.progress,
    source_compute: row.source_compute,
    source_node: row.source_node,
    dest_compute: row.dest_compute,
    dest_node: row.dest_node,
    dest_host: row.dest_host,
    old_instance_type_id: row.old_flavorid,
    new_instance_type_id: row.new_flavorid,
    error_message: row.error_message,
    created_at: row.created_at.toISOString(),
    updated_at: row.updated_at?.toISOString() ?? null,
  };
  if (withProgress) return view;
  const { progress: _progress, error_message: _error, ...havana } = view;
  return havana;
}
