import { and, desc, eq, or, type SQL } from 'drizzle-orm';
import * as v from 'valibot';
import { migrations } from '../../../schema/tables/index.ts';
import { authorize } from '../policy.ts';
import { route } from '../route.ts';
import { defineExtension } from './extension.ts';

const Text = v.pipe(v.string(), v.minLength(1), v.maxLength(255));
const ListQuery = v.object({
  host: v.optional(Text),
  status: v.optional(Text),
  instance_uuid: v.optional(v.pipe(v.string(), v.uuid('instance_uuid must be a server id'))),
  migration_type: v.optional(v.picklist(['migration', 'resize', 'live-migration', 'evacuation'])),
  // Havana's cells filter; there are no cells here, so it is accepted and matches everything.
  cell_name: v.optional(Text),
});

export const migrationsExtension = defineExtension({
  alias: 'os-migrations',
  name: 'Migrations',
  description: 'Provide data on migrations.',
  version: 1,
  core: false,
  history: [{ version: 1, change: 'list with host, status, instance_uuid and migration_type filters' }],
  routes: [
    route({
      method: 'get',
      path: '/v3/os-migrations',
      summary: 'List migrations, newest first (admin)',
      query: ListQuery,
      responses: { 200: 'migrations' },
      handler: async (c, { query }) => {
        authorize(c.var.caller, 'compute_extension:os-migrations');
        const filters: (SQL | undefined)[] = [
          eq(migrations.deleted, 0),
          query.host === undefined
            ? undefined
            : or(eq(migrations.source_compute, query.host), eq(migrations.dest_compute, query.host)),
          query.status === undefined ? undefined : eq(migrations.status, query.status),
          query.instance_uuid === undefined ? undefined : eq(migrations.instance_uuid, query.instance_uuid),
          query.migration_type === undefined
            ? undefined
            : eq(migrations.migration_type, query.migration_type),
        ];
        const rows = await c.var.db
          .select()
          .from(migrations)
          .where(and(...filters))
          .orderBy(desc(migrations.created_at), desc(migrations.id));
        return c.json({
          migrations: rows.map((row) => ({
            id: row.id,
            instance_uuid: row.instance_uuid,
            migration_type: row.migration_type,
            status: row.status,
            source_compute: row.source_compute,
            source_node: row.source_node,
            dest_compute: row.dest_compute,
            dest_node: row.dest_node,
            dest_host: row.dest_host,
            old_instance_type_id: row.old_flavorid,
            new_instance_type_id: row.new_flavorid,
            created_at: row.created_at.toISOString(),
            updated_at: row.updated_at?.toISOString() ?? null,
          })),
        });
      },
    }),
  ],
});
