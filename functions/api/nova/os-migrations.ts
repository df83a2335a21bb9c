import { and, desc, eq, gte, lt, lte, or, sql } from 'drizzle-orm';
import type { Context } from 'hono';
import * as v from 'valibot';
import { eqIfGiven } from '../../../schema/conditions.ts';
import { migrations } from '../../../schema/tables/index.ts';
import { BadRequest } from '../../shared/errors.ts';
import type { AppEnv } from '../context.ts';
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
  // Who started the move (version 3).
  user_id: v.optional(Text),
  project_id: v.optional(Text),
});

type MigrationRow = typeof migrations.$inferSelect;

/** Which migrations to list: Havana's filters, and the v2.1 face's time window and page. */
export interface MigrationFilters {
  host?: string;
  status?: string;
  instance_uuid?: string;
  migration_type?: string;
  source_compute?: string;
  /** The user and project that started the move. */
  user_id?: string;
  project_id?: string;
  /** Last changed (created, if never updated) at or after / at or before this time. */
  changedSince?: Date;
  changedBefore?: Date;
  /** The page starts after this migration, in the list's order (newest first). */
  after?: Pick<MigrationRow, 'created_at' | 'id'>;
  limit?: number;
}

/** The migrations (soft-deleted ones aside) matching `filters`, newest first. */
export async function listMigrations(c: Context<AppEnv>, filters: MigrationFilters): Promise<MigrationRow[]> {
  const changedAt = sql`coalesce(${migrations.updated_at}, ${migrations.created_at})`;
  const { after } = filters;
  const query = c.var.db
    .select()
    .from(migrations)
    .where(
      and(
        eq(migrations.deleted, 0),
        filters.host === undefined
          ? undefined
          : or(eq(migrations.source_compute, filters.host), eq(migrations.dest_compute, filters.host)),
        eqIfGiven(migrations.status, filters.status),
        eqIfGiven(migrations.instance_uuid, filters.instance_uuid),
        eqIfGiven(migrations.migration_type, filters.migration_type),
        eqIfGiven(migrations.source_compute, filters.source_compute),
        eqIfGiven(migrations.user_id, filters.user_id),
        eqIfGiven(migrations.project_id, filters.project_id),
        filters.changedSince === undefined ? undefined : gte(changedAt, filters.changedSince),
        filters.changedBefore === undefined ? undefined : lte(changedAt, filters.changedBefore),
        after === undefined
          ? undefined
          : or(
              lt(migrations.created_at, after.created_at),
              and(eq(migrations.created_at, after.created_at), lt(migrations.id, after.id)),
            ),
      ),
    )
    .orderBy(desc(migrations.created_at), desc(migrations.id));
  return filters.limit === undefined ? query : query.limit(filters.limit);
}

export const migrationsExtension = defineExtension({
  alias: 'os-migrations',
  name: 'Migrations',
  description: 'Provide data on migrations.',
  version: 3,
  core: false,
  history: [
    { version: 1, change: 'list with host, status, instance_uuid and migration_type filters' },
    { version: 2, change: 'each migration also shows its progress and error_message' },
    {
      version: 3,
      change: 'each migration shows the user_id and project_id that started it, and the list filters by them',
    },
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
        const version = requestedVersion(c, migrationsExtension);
        const { cell_name: _cells, ...filters } = query;
        if (version < 3 && (filters.user_id !== undefined || filters.project_id !== undefined)) {
          throw new BadRequest('user_id and project_id filter from os-migrations version 3 on');
        }
        const rows = await listMigrations(c, filters);
        const parts = { progress: version >= 2, owner: version >= 3, uuid: false };
        return c.json({ migrations: rows.map((row) => migrationView(row, parts)) });
      },
    }),
  ],
});
