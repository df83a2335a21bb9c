import { and, desc, eq, or, type SQL } from 'drizzle-orm';
import * as v from 'valibot';
import { migrations } from '../../../schema/tables/index.ts';
import { requestedVersion } from '../middleware/extension-versions.ts';
import { authorize } from '../policy.ts';
import { route } from '../route.ts';
import { defineExtension } from './extension.ts';
import { migrationView } from './migration-view.ts';

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
  version: 2,
  core: false,
  history: [
    { version: 1, change: 'list with host, status, instance_uuid and migration_type filters' },
    { version: 2, change: 'each migration also shows its progress and error_message' },
  ],
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
        const withProgress = requestedVersion(c, migrationsExtension) >= 2;
        return c.json({ migrations: rows.map((row) => migrationView(row, withProgress)) });
      },
    }),
  ],
});
