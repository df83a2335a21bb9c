import { and, asc, desc, eq, gt, inArray, lt, or, type SQL } from 'drizzle-orm';
import type { AnyMySqlColumn, MySqlTable } from 'drizzle-orm/mysql-core';
import type { Context } from 'hono';
import type { PrimaryDb } from '../../../schema/db.ts';
import { NetworkError } from '../../network/errors.ts';
import type { AppEnv } from '../context.ts';

// Neutron's list conventions, for every collection of /network/v2.0: any attribute as a filter
// (repeated for OR), `fields` to trim what each item shows, `sort_key`/`sort_dir` pairs, and
// `limit`/`marker`/`page_reverse` keyset paging with `<collection>_links`. A filter, sort key or
// parameter the collection does not know is a 400 (Neutron's filter-validation behaviour), never
// silently ignored. A collection declares its attributes once (CollectionSpec); handlers get SQL
// conditions and ordering from here and hand the items back to `listResponse`.

export type AttributeType = 'string' | 'boolean' | 'integer';

export interface CollectionAttribute {
  type: AttributeType;
  /** The column the attribute filters and sorts on; attributes without one are filtered by the handler. */
  column?: AnyMySqlColumn;
  /** Sorting needs a NOT NULL column (the keyset comparison of paging does not handle NULLs). */
  sortable?: boolean;
}

export interface CollectionSpec {
  /** `networks`, `ports`, ...: the body key of a list and the prefix of its links. */
  collection: string;
  /** The attribute name → how it filters. `id` must map to the uuid column. */
  attributes: Record<string, CollectionAttribute>;
  /** The unique id column (uuid): the paging tie-breaker and what a marker names. */
  idColumn: AnyMySqlColumn;
}

export interface SortKey {
  attribute: string;
  direction: 'asc' | 'desc';
}

export interface ListRequest {
  /** Attribute → accepted values (any of them matches), parsed to the attribute's type. */
  filters: Map<string, Array<string | number | boolean>>;
  fields: string[] | undefined;
  sorts: SortKey[];
  limit: number | undefined;
  marker: string | undefined;
  pageReverse: boolean;
}

const PAGING_PARAMETERS = new Set(['fields', 'sort_key', 'sort_dir', 'limit', 'marker', 'page_reverse']);

function badRequest(message: string): NetworkError {
  return new NetworkError(400, 'BadRequest', message);
}

const TRUE_WORDS = new Set(['true', 'True', '1']);
const FALSE_WORDS = new Set(['false', 'False', '0']);

function parseValue(name: string, type: AttributeType, raw: string): string | number | boolean {
  if (type === 'string') return raw;
  if (type === 'boolean') {
    if (TRUE_WORDS.has(raw)) return true;
    if (FALSE_WORDS.has(raw)) return false;
    throw badRequest(`Invalid input for ${name}. Reason: '${raw}' cannot be converted to boolean.`);
  }
  if (!/^-?\d{1,10}$/.test(raw)) {
    throw badRequest(`Invalid input for ${name}. Reason: '${raw}' is not an integer.`);
  }
  return Number(raw);
}

function parseBoolean(name: string, raw: string): boolean {
  return parseValue(name, 'boolean', raw) as boolean;
}

/** Reads a list request; `extraFilters` are filters the handler applies itself (e.g. `fixed_ips`). */
export function parseListQuery(
  c: Context<AppEnv>,
  spec: CollectionSpec,
  extraFilters: readonly string[] = [],
): ListRequest {
  const queries = c.req.queries();
  const filters = new Map<string, Array<string | number | boolean>>();
  const unknown: string[] = [];
  for (const [name, values] of Object.entries(queries)) {
    if (PAGING_PARAMETERS.has(name)) continue;
    const attribute = spec.attributes[name];
    if (!attribute && !extraFilters.includes(name)) {
      unknown.push(name);
      continue;
    }
    filters.set(
      name,
      values.map((raw) => (attribute ? parseValue(name, attribute.type, raw) : raw)),
    );
  }
  if (unknown.length > 0) {
    throw badRequest(`[${unknown.map((name) => `'${name}'`).join(', ')}] is invalid attribute for filtering`);
  }
  const sortKeys = queries.sort_key ?? [];
  const sortDirs = queries.sort_dir ?? [];
  if (sortDirs.length > sortKeys.length)
    throw badRequest('The number of sort_keys and sort_dirs must be same');
  const sorts = sortKeys.map((attribute, index): SortKey => {
    if (!spec.attributes[attribute]?.sortable || !spec.attributes[attribute]?.column) {
      throw badRequest(`${attribute} is an invalid attribute for sort_key`);
    }
    const direction = sortDirs[index] ?? 'asc';
    if (direction !== 'asc' && direction !== 'desc') {
      throw badRequest(`${direction} is an invalid value for sort_dir, valid value is 'asc' and 'desc'`);
    }
    return { attribute, direction };
  });
  const limitText = c.req.query('limit');
  let limit: number | undefined;
  if (limitText !== undefined) {
    if (!/^\d{1,9}$/.test(limitText)) {
      throw badRequest(`Invalid input for limit. Reason: '${limitText}' is not a non-negative integer.`);
    }
    // Neutron reads 0 as "no limit".
    limit = Number(limitText) === 0 ? undefined : Number(limitText);
  }
  const pageReverseText = c.req.query('page_reverse');
  return {
    filters,
    fields: queries.fields?.flatMap((value) => value.split(',')).filter((field) => field.length > 0),
    sorts,
    limit,
    marker: c.req.query('marker'),
    pageReverse: pageReverseText === undefined ? false : parseBoolean('page_reverse', pageReverseText),
  };
}

/** The SQL conditions of the request's filters on attributes with a column. */
export function filterConditions(spec: CollectionSpec, request: ListRequest): SQL[] {
  const conditions: SQL[] = [];
  for (const [name, values] of request.filters) {
    const column = spec.attributes[name]?.column;
    if (!column) continue;
    const condition = values.length === 1 ? eq(column, values[0]) : inArray(column, values);
    conditions.push(condition);
  }
  return conditions;
}

/** Values a handler filters on itself (an attribute without a column, or an extra filter). */
export function filterValues(request: ListRequest, name: string): string[] | undefined {
  return request.filters.get(name)?.map(String);
}

function effectiveSorts(
  spec: CollectionSpec,
  request: ListRequest,
): Array<{ column: AnyMySqlColumn; descending: boolean }> {
  const keys = request.sorts.map((sort) => ({
    column: spec.attributes[sort.attribute]?.column as AnyMySqlColumn,
    descending: sort.direction === 'desc',
  }));
  // The id ends every ordering, so that paging is stable when sort values repeat.
  keys.push({ column: spec.idColumn, descending: keys.at(-1)?.descending ?? false });
  return request.pageReverse ? keys.map((key) => ({ ...key, descending: !key.descending })) : keys;
}

/** ORDER BY for the request (reversed for page_reverse; `listResponse` puts the page back in order). */
export function orderBy(spec: CollectionSpec, request: ListRequest): SQL[] {
  return effectiveSorts(spec, request).map((key) => (key.descending ? desc(key.column) : asc(key.column)));
}

/**
 * The keyset condition for rows after the marker, given the marker row's values of the sort columns
 * (read by the handler with the same visibility as the list: a marker the caller cannot see is a 404).
 */
export function afterMarker(
  spec: CollectionSpec,
  request: ListRequest,
  markerValues: ReadonlyMap<AnyMySqlColumn, unknown>,
): SQL | undefined {
  const keys = effectiveSorts(spec, request);
  const branches: SQL[] = [];
  keys.forEach((key, index) => {
    const equalBefore = keys
      .slice(0, index)
      .map((earlier) => eq(earlier.column, markerValues.get(earlier.column)));
    const value = markerValues.get(key.column);
    const beyond = key.descending ? lt(key.column, value) : gt(key.column, value);
    const branch = and(...equalBefore, beyond);
    if (branch) branches.push(branch);
  });
  return or(...branches);
}

/**
 * The keyset condition of the request's marker, its row read with `visible` (the list's own
 * visibility): undefined without a marker; `notFound(marker)` when the caller cannot see that row.
 */
export async function markerCondition(
  db: Pick<PrimaryDb, 'select'>,
  spec: CollectionSpec,
  request: ListRequest,
  table: MySqlTable,
  visible: SQL | undefined,
  notFound: (id: string) => Error,
): Promise<SQL | undefined> {
  if (request.marker === undefined) return undefined;
  const columns = markerColumns(spec, request);
  const [row] = await db
    .select(Object.fromEntries(columns.map((column, index) => [`key${index}`, column])))
    .from(table)
    .where(and(eq(spec.idColumn, request.marker), visible));
  if (!row) throw notFound(request.marker);
  return afterMarker(spec, request, new Map(columns.map((column, index) => [column, row[`key${index}`]])));
}

/** The sort columns the marker row must be read with. */
export function markerColumns(spec: CollectionSpec, request: ListRequest): AnyMySqlColumn[] {
  return effectiveSorts(spec, request).map((key) => key.column);
}

/** How many rows to read: one more than the page, to know whether a next page exists. */
export function fetchLimit(request: ListRequest): number | undefined {
  return request.limit === undefined ? undefined : request.limit + 1;
}

/** Keeps only the requested fields of an item (all of them when `fields` was not given). */
export function selectFields<T extends object>(item: T, fields: string[] | undefined): Partial<T> {
  if (!fields) return item;
  return Object.fromEntries(Object.entries(item).filter(([key]) => fields.includes(key))) as Partial<T>;
}

function pageLink(c: Context<AppEnv>, request: ListRequest, marker: string, reverse: boolean) {
  const url = new URL(c.req.url);
  url.searchParams.set('marker', marker);
  if (request.limit !== undefined) url.searchParams.set('limit', String(request.limit));
  if (reverse) url.searchParams.set('page_reverse', 'True');
  else url.searchParams.delete('page_reverse');
  return url.toString();
}

/**
 * The list body: the page (rows read with `fetchLimit`, in `orderBy` order), trimmed to `fields`, and
 * `<collection>_links` with `next` when more rows follow and `previous` when the page started after a
 * marker. Items must carry `id`.
 */
export function listResponse(
  c: Context<AppEnv>,
  spec: CollectionSpec,
  request: ListRequest,
  rows: ReadonlyArray<{ id: string }>,
) {
  const hasMore = request.limit !== undefined && rows.length > request.limit;
  const page = hasMore ? rows.slice(0, request.limit) : rows;
  const ordered = request.pageReverse ? [...page].reverse() : page;
  const body: Record<string, unknown> = {
    [spec.collection]: ordered.map((item) => selectFields(item, request.fields)),
  };
  const links: Array<{ rel: string; href: string }> = [];
  const first = ordered[0];
  const last = ordered.at(-1);
  const moreForward = request.pageReverse ? request.marker !== undefined : hasMore;
  const moreBackward = request.pageReverse ? hasMore : request.marker !== undefined;
  if (last && moreForward) links.push({ rel: 'next', href: pageLink(c, request, last.id, false) });
  if (first && moreBackward) links.push({ rel: 'previous', href: pageLink(c, request, first.id, true) });
  if (links.length > 0) body[`${spec.collection}_links`] = links;
  return c.json(body);
}
