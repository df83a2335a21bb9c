import { and, asc, desc, eq, gt, gte, isNotNull, isNull, lt, or, type SQL, sql } from 'drizzle-orm';
import type { AnyMySqlColumn } from 'drizzle-orm/mysql-core';
import type { Context } from 'hono';
import { flavors } from '../../../schema/tables/index.ts';
import { BadRequest } from '../../shared/errors.ts';
import type { AppEnv } from '../context.ts';
import { type FlavorRow, findVisibleFlavor, publicOrSharedWith, visibleTo } from '../nova/flavors.ts';
import { route } from '../route.ts';
import { defineFace } from './face.ts';
import { briefFlavorView, flavorViews } from './flavor-view.ts';
import { atLeast } from './microversion.ts';
import { nextPageLinks, pageParameters } from './paging.ts';
import { FALSE_STRINGS, lastQueryValues, rejectUnknownQuery, strictQuery, TRUE_STRINGS } from './query.ts';

// /flavors as Nova's v2.1 lists them: filtered by minRam, minDisk, is_public (admins) and, from 2.102,
// a name pattern; sorted by any of Nova's sort keys with the row id breaking ties; paged by limit and
// a marker flavor id, with a `next` link in `flavors_links` when a page is full.

const SORT_COLUMNS = {
  created_at: flavors.created_at,
  description: flavors.description,
  disabled: flavors.disabled,
  ephemeral_gb: flavors.ephemeral_gb,
  flavorid: flavors.flavorid,
  id: flavors.id,
  is_public: flavors.is_public,
  memory_mb: flavors.memory_mb,
  name: flavors.name,
  root_gb: flavors.root_gb,
  rxtx_factor: flavors.rxtx_factor,
  swap: flavors.swap,
  updated_at: flavors.updated_at,
  vcpus: flavors.vcpus,
  // Nova's column that this API never sets: every flavor has NULL there, so sorting by it is sorting
  // by the id alone.
  vcpu_weight: undefined,
} satisfies Record<string, AnyMySqlColumn | undefined>;
type SortKey = keyof typeof SORT_COLUMNS;

const LIST_PARAMETERS = ['limit', 'marker', 'is_public', 'minRam', 'minDisk', 'sort_key', 'sort_dir'];

function sortKey(c: Context<AppEnv>, requested: string | undefined): SortKey {
  if (requested === undefined) return 'flavorid';
  // 2.102 dropped rxtx_factor from the flavor, and so from the keys it can be sorted by.
  const valid = Object.hasOwn(SORT_COLUMNS, requested) && !(requested === 'rxtx_factor' && atLeast(c, 102));
  if (!valid) throw new BadRequest(`Invalid input for query parameters sort_key. Value: ${requested}.`);
  return requested as SortKey;
}

function descending(requested: string | undefined): boolean {
  if (requested === undefined || requested === 'asc') return false;
  if (requested === 'desc') return true;
  throw new BadRequest(`Invalid input for query parameters sort_dir. Value: ${requested}.`);
}

function minimum(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  // What Python's int() accepts.
  if (!/^\s*[+-]?\d+\s*$/.test(value)) throw new BadRequest(`Invalid ${name} filter [${value}]`);
  return Number(value);
}

/**
 * Admins choose with is_public: public flavors (and those shared with their project) by default,
 * `none` for every flavor, false for private ones. Members always get what they may use: public and
 * shared flavors that are not disabled.
 */
function audience(c: Context<AppEnv>, isPublic: string | undefined): SQL | undefined {
  const caller = c.var.caller;
  if (!caller.isAdmin) {
    return and(publicOrSharedWith(c.var.db, caller.projectId), eq(flavors.disabled, false));
  }
  const value = isPublic?.trim().toLowerCase();
  if (value === 'none') return undefined;
  if (value === undefined || TRUE_STRINGS.includes(value))
    return publicOrSharedWith(c.var.db, caller.projectId);
  if (FALSE_STRINGS.includes(value)) return eq(flavors.is_public, false);
  throw new BadRequest(`Invalid is_public filter [${isPublic}]`);
}

function nameFilter(pattern: string | undefined): SQL | undefined {
  if (pattern === undefined) return undefined;
  try {
    new RegExp(pattern);
  } catch {
    throw new BadRequest(`Invalid name filter [${pattern}]: not a regular expression`);
  }
  // Nova matches names against the filter as a regular expression.
  return sql`${flavors.name} REGEXP ${pattern}`;
}

/**
 * The rows after `marker` in (column, id) order. MySQL sorts NULL first ascending and last
 * descending; updated_at and description can be NULL.
 */
function afterMarker(column: AnyMySqlColumn | undefined, marker: FlavorRow, key: SortKey, down: boolean) {
  const tie = down ? lt(flavors.id, marker.id) : gt(flavors.id, marker.id);
  if (!column) return tie;
  const value = marker[key as keyof FlavorRow];
  if (value === null)
    return down ? and(isNull(column), tie) : or(and(isNull(column), tie), isNotNull(column));
  const beyond = down ? or(lt(column, value), isNull(column)) : gt(column, value);
  return or(beyond, and(eq(column, value), tie));
}

async function markerFlavor(c: Context<AppEnv>, marker: string): Promise<FlavorRow> {
  const [row] = await c.var.db
    .select()
    .from(flavors)
    .where(and(eq(flavors.flavorid, marker), eq(flavors.deleted, 0), visibleTo(c.var.db, c.var.caller)));
  if (!row) throw new BadRequest(`marker [${marker}] not found`);
  return row;
}

/** One page of the flavors the request asks for, and the `flavors_links` that go with it. */
async function listFlavors(c: Context<AppEnv>) {
  rejectUnknownQuery(c, 75, atLeast(c, 102) ? [...LIST_PARAMETERS, 'name'] : LIST_PARAMETERS);
  const query = lastQueryValues(c);
  const page = pageParameters(query);
  const key = sortKey(c, query.sort_key);
  const down = descending(query.sort_dir);
  const column = SORT_COLUMNS[key];
  const minRam = minimum('minRam', query.minRam);
  const minDisk = minimum('minDisk', query.minDisk);
  const marker = page.marker === undefined ? undefined : await markerFlavor(c, page.marker);
  const order = (target: AnyMySqlColumn) => (down ? desc(target) : asc(target));
  const rows = await c.var.db
    .select()
    .from(flavors)
    .where(
      and(
        eq(flavors.deleted, 0),
        audience(c, query.is_public),
        minRam === undefined ? undefined : gte(flavors.memory_mb, minRam),
        minDisk === undefined ? undefined : gte(flavors.root_gb, minDisk),
        atLeast(c, 102) ? nameFilter(query.name) : undefined,
        marker ? afterMarker(column, marker, key, down) : undefined,
      ),
    )
    .orderBy(...(column ? [order(column)] : []), order(flavors.id))
    .limit(page.limit);
  const links = nextPageLinks(c, 'flavors_links', {
    limit: page.limit,
    items: rows,
    markerOf: (flavor) => flavor.flavorid,
  });
  return { rows, links };
}

export const flavorsFace = defineFace({
  alias: 'flavors',
  routes: [
    route({
      method: 'get',
      path: '/v2.1/flavors',
      summary: 'List flavors (filters minRam, minDisk, is_public, name; sort_key, sort_dir; limit, marker)',
      responses: {
        200: 'flavors: [{id, name, links}] (description from 2.55), flavors_links when the page is full',
      },
      handler: async (c) => {
        const { rows, links } = await listFlavors(c);
        return c.json({ flavors: rows.map((flavor) => briefFlavorView(c, flavor)), ...links });
      },
    }),
    route({
      method: 'get',
      path: '/v2.1/flavors/detail',
      summary: 'List flavors with their details (the same query parameters as the list)',
      responses: {
        200: 'flavors with ram, vcpus, disk, swap, ... (description from 2.55, extra_specs from 2.61)',
      },
      handler: async (c) => {
        const { rows, links } = await listFlavors(c);
        return c.json({ flavors: await flavorViews(c, c.var.db, rows), ...links });
      },
    }),
    strictQuery(
      route({
        method: 'get',
        path: '/v2.1/flavors/:flavor_id',
        summary: 'Show a flavor',
        responses: { 200: 'flavor (description from 2.55, extra_specs from 2.61)' },
        handler: async (c) => {
          const flavor = await findVisibleFlavor(c.var.db, c.var.caller, c.req.param('flavor_id') ?? '');
          const [view] = await flavorViews(c, c.var.db, [flavor]);
          return c.json({ flavor: view });
        },
      }),
      102,
    ),
  ],
  microversions: [
    {
      minor: 55,
      change: "list, detail and show name each flavor's description (null when it has none)",
      routes: ['/v2.1/flavors', '/v2.1/flavors/detail', '/v2.1/flavors/{flavor_id}'],
    },
    {
      minor: 61,
      change: 'detail and show embed extra_specs for callers allowed to list them',
      routes: ['/v2.1/flavors/detail', '/v2.1/flavors/{flavor_id}'],
    },
    {
      minor: 75,
      change: 'swap of a flavor without swap is 0 (was ""); unknown list query parameters are a 400',
      routes: ['/v2.1/flavors', '/v2.1/flavors/detail', '/v2.1/flavors/{flavor_id}'],
    },
    {
      minor: 102,
      change:
        'name filter (a regular expression); rxtx_factor and OS-FLV-DISABLED:disabled leave the views and the sort keys; unknown query parameters on show are a 400',
      routes: ['/v2.1/flavors', '/v2.1/flavors/detail', '/v2.1/flavors/{flavor_id}'],
    },
  ],
});
