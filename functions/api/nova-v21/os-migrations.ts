import { and, eq } from 'drizzle-orm';
import type { Context } from 'hono';
import * as v from 'valibot';
import { migrations } from '../../../schema/tables/index.ts';
import { IN_PROGRESS_MIGRATION_STATUSES } from '../../compute/migration-states.ts';
import { BadRequest } from '../../shared/errors.ts';
import type { AppEnv } from '../context.ts';
import { resourceLinks } from '../links.ts';
import { parseOrBadRequest } from '../middleware/validate.ts';
import { migrationView } from '../nova/migration-view.ts';
import { listMigrations, type MigrationFilters } from '../nova/os-migrations.ts';
import { authorize } from '../policy.ts';
import { route } from '../route.ts';
import { defineFace } from './face.ts';
import { atLeast } from './microversion.ts';
import { novaTime, novaTimeOrNull } from './nova-time.ts';
import { adminPageLimit, nextPageLinks, PAGING } from './paging.ts';
import { ChangeTime, queryOf, TRUE_STRINGS } from './query.ts';

// GET /os-migrations (clients-and-microversions.md §4.1): every move, newest first, filtered as Nova
// filters. 2.23 names each one's type and links an in-progress live migration to its server's
// migrations; 2.59 names the uuid, pages by limit and marker (a uuid), takes changes-since and refuses
// unknown parameters; 2.66 takes changes-before; 2.80 names the user and project that started each
// move and filters by them.

type MigrationRow = typeof migrations.$inferSelect;

const Filter = v.optional(v.string());
const FILTERS = {
  host: Filter,
  status: Filter,
  instance_uuid: Filter,
  migration_type: Filter,
  source_compute: Filter,
  // Nova hides the second record of a cross-cell move; there are no cells here, so nothing is hidden.
  hidden: Filter,
};

const PAGED = { ...FILTERS, ...PAGING, 'changes-since': v.optional(ChangeTime) };
const QUERY_V20 = queryOf(FILTERS, false);
const QUERY_V259 = queryOf(PAGED, true);
const SINCE_266 = { ...PAGED, 'changes-before': v.optional(ChangeTime) };
const QUERY_V266 = queryOf(SINCE_266, true);
const QUERY_V280 = queryOf({ ...SINCE_266, user_id: Filter, project_id: Filter }, true);

function listQuery(c: Context<AppEnv>) {
  if (atLeast(c, 80)) return QUERY_V280;
  if (atLeast(c, 66)) return QUERY_V266;
  return atLeast(c, 59) ? QUERY_V259 : QUERY_V20;
}

interface ListQuery {
  host?: string;
  status?: string;
  instance_uuid?: string;
  migration_type?: string;
  source_compute?: string;
  hidden?: string;
  limit?: number;
  marker?: string;
  'changes-since'?: Date;
  'changes-before'?: Date;
  user_id?: string;
  project_id?: string;
}

async function markerMigration(c: Context<AppEnv>, marker: string) {
  const [found] = await c.var.db
    .select({ created_at: migrations.created_at, id: migrations.id })
    .from(migrations)
    .where(and(eq(migrations.uuid, marker), eq(migrations.deleted, 0)));
  if (!found) throw new BadRequest(`Marker ${marker} could not be found.`);
  return found;
}

// Nova links a live migration while it is under way: the one its server's migrations can show and act on.
const LIVE_IN_PROGRESS: readonly string[] = IN_PROGRESS_MIGRATION_STATUSES;

function migrationV21(c: Context<AppEnv>, row: MigrationRow) {
  const { migration_type, created_at, updated_at, ...havana } = migrationView(row, {
    progress: false,
    owner: false,
    uuid: false,
  });
  const linked = row.migration_type === 'live-migration' && LIVE_IN_PROGRESS.includes(row.status);
  return {
    ...havana,
    created_at: novaTime(created_at),
    updated_at: novaTimeOrNull(updated_at),
    ...(atLeast(c, 23) ? { migration_type } : {}),
    ...(atLeast(c, 23) && linked
      ? { links: resourceLinks(c, `servers/${row.instance_uuid}/migrations`, String(row.id)) }
      : {}),
    ...(atLeast(c, 59) ? { uuid: row.uuid } : {}),
    ...(atLeast(c, 80) ? { user_id: row.user_id, project_id: row.project_id } : {}),
  };
}

export const migrationsFace = defineFace({
  alias: 'os-migrations',
  routes: [
    route({
      method: 'get',
      path: '/v2.1/os-migrations',
      summary: 'List migrations, newest first (admin)',
      responses: { 200: 'migrations[, migrations_links (2.59+)]' },
      handler: async (c) => {
        authorize(c.var.caller, 'compute_extension:os-migrations');
        const query: ListQuery = parseOrBadRequest(listQuery(c), c.req.query());
        const since = query['changes-since'];
        const before = query['changes-before'];
        if (since && before && before < since) {
          throw new BadRequest('The value of changes-since must be less than or equal to changes-before.');
        }
        const paged = atLeast(c, 59);
        const size = adminPageLimit(query.limit);
        const filters: MigrationFilters = {
          host: query.host,
          status: query.status,
          instance_uuid: query.instance_uuid,
          migration_type: query.migration_type,
          source_compute: query.source_compute,
          user_id: query.user_id,
          project_id: query.project_id,
          changedSince: since,
          changedBefore: before,
          ...(paged
            ? {
                limit: size,
                after: query.marker === undefined ? undefined : await markerMigration(c, query.marker),
              }
            : {}),
        };
        const rows = TRUE_STRINGS.includes(query.hidden?.toLowerCase() ?? '')
          ? []
          : await listMigrations(c, filters);
        const items = rows.map((row) => migrationV21(c, row));
        const links = paged
          ? nextPageLinks(c, 'migrations_links', { limit: size, items: rows, markerOf: (row) => row.uuid })
          : {};
        return c.json({ migrations: items, ...links });
      },
    }),
  ],
  microversions: [
    {
      minor: 23,
      change: 'migration_type, and links to an in-progress live migration (os-migrations part)',
      routes: ['/v2.1/os-migrations'],
    },
    {
      minor: 59,
      change:
        'uuid; limit/marker paging (marker: a uuid) with migrations_links; changes-since; unknown query parameters are a 400',
      routes: ['/v2.1/os-migrations'],
    },
    {
      minor: 66,
      change: 'changes-before (os-migrations part)',
      routes: ['/v2.1/os-migrations'],
    },
    {
      minor: 80,
      change:
        'user_id and project_id of whoever started each move (null for moves recorded before they were), and filters by them (os-migrations part)',
      routes: ['/v2.1/os-migrations'],
    },
    {
      minor: 102,
      change: 'unknown query parameters are a 400 on every GET (the list refuses them from 2.59)',
      routes: ['/v2.1/os-migrations'],
    },
  ],
});
