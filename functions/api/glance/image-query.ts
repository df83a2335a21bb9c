import { and, asc, desc, eq, inArray, or, type Param, type SQL, sql } from 'drizzle-orm';
import type { MySqlColumn } from 'drizzle-orm/mysql-core';
import * as v from 'valibot';
import { eqIfGiven } from '../../../schema/conditions.ts';
import { images } from '../../../schema/tables/index.ts';
import type { ImageRow } from './image-view.ts';

// GET /v2/images as Glance v2 takes it (clients-and-microversions.md §6.2). Glance reads any query
// key it does not know as a custom-property filter; we refuse it instead, naming it, and leave
// property filtering to the client (the `openstack` CLI filters `--property` itself).
//
// What our catalogue can answer: it stores no tags, sizes, hashes, memberships, protection or hiding.
// So `tag`, `size_min` and `size_max` match nothing, `protected=true` and `os_hidden=true` match
// nothing (their `false` matches everything), and `member_status` only narrows the images shared
// with the caller through a membership, of which there are none: it changes nothing.

export const DEFAULT_LIMIT = 25;
const MAX_LIMIT = 1000;

const SORT_KEYS = [
  'name',
  'status',
  'container_format',
  'disk_format',
  'size',
  'id',
  'created_at',
  'updated_at',
] as const;
type SortKey = (typeof SORT_KEYS)[number];
const SORT_DIRS = ['asc', 'desc'] as const;
type SortDir = (typeof SORT_DIRS)[number];
interface SortTerm {
  key: SortKey;
  dir: SortDir;
}

const Text = v.pipe(v.string(), v.maxLength(255));
const Count = v.pipe(v.string(), v.regex(/^\d+$/, 'must be a non-negative integer'), v.transform(Number));
const SortKeyName = v.picklist(SORT_KEYS, `must be one of ${SORT_KEYS.join(', ')}`);
const SortDirName = v.picklist(SORT_DIRS, 'must be asc or desc');

// oslo's strict boolean strings, which Glance accepts for `protected` and `os_hidden`.
const TRUE_WORDS = ['1', 't', 'true', 'on', 'y', 'yes'];
const FALSE_WORDS = ['0', 'f', 'false', 'off', 'n', 'no'];
const Bool = v.pipe(
  v.string(),
  v.toLowerCase(),
  v.picklist([...TRUE_WORDS, ...FALSE_WORDS], 'must be true or false'),
  v.transform((word) => TRUE_WORDS.includes(word)),
);

/** `in:a,"b,c"` lists values (quotes keep a comma inside one); `eq:x` or a bare `x` is one value. */
function filterValues(text: string): string[] {
  if (text.startsWith('eq:')) return [text.slice(3)];
  if (!text.startsWith('in:')) return [text];
  const values: string[] = [];
  let rest = text.slice(3);
  for (;;) {
    const quoted = /^"((?:[^"\\]|\\.)*)"(,|$)/.exec(rest);
    if (quoted) {
      values.push((quoted[1] ?? '').replace(/\\(.)/g, '$1'));
      rest = rest.slice(quoted[0].length);
      if (quoted[2] === '') return values;
      continue;
    }
    const comma = rest.indexOf(',');
    if (comma === -1) return [...values, rest];
    values.push(rest.slice(0, comma));
    rest = rest.slice(comma + 1);
  }
}
// Glance answers 400 for an operator other than eq/in on these fields, so a name that merely
// contains a colon has to be sent as `eq:<name>` there; we take such a name literally instead.
const ValueFilter = v.pipe(v.string(), v.maxLength(4096), v.transform(filterValues));

const TIME_OPERATORS = ['gt', 'gte', 'lt', 'lte', 'eq', 'neq'] as const;
type TimeOperator = (typeof TIME_OPERATORS)[number];
const isTimeOperator = (word: string | undefined): word is TimeOperator =>
  TIME_OPERATORS.some((operator) => operator === word);
const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(Z|[+-]\d{2}:\d{2})?$/;
/** `gte:2026-05-01T12:00:00Z`; no operator means `eq`, a time without a zone is UTC. */
const TimeFilter = v.pipe(
  v.string(),
  v.transform((text) => {
    const [, operator, time = ''] = /^([a-z]+):(\d.*)$/.exec(text) ?? [];
    return isTimeOperator(operator) ? { operator, time } : { operator: 'eq' as const, time: text };
  }),
  v.check(({ time }) => ISO_TIME.test(time), 'must be [gt|gte|lt|lte|eq|neq:]<ISO 8601 time>'),
  v.transform(({ operator, time }) => ({
    operator,
    at: new Date(/(Z|[+-]\d{2}:\d{2})$/.test(time) ? time : `${time}Z`),
  })),
  v.check(({ at }) => !Number.isNaN(at.getTime()), 'is not a valid time'),
);
type TimeFilter = v.InferOutput<typeof TimeFilter>;

/** `sort=name:asc,created_at`: a term without a direction sorts descending, as in Glance. */
const SortList = v.pipe(
  v.string(),
  v.maxLength(1000),
  v.transform((text) =>
    text.split(',').map((term) => {
      const [, key = '', dir = 'desc'] = /^([^:]*)(?::(.*))?$/.exec(term.trim()) ?? [];
      return { key, dir };
    }),
  ),
  v.array(v.object({ key: SortKeyName, dir: SortDirName })),
  v.check((terms) => new Set(terms.map((term) => term.key)).size === terms.length, 'names a sort key twice'),
);

export const ImageListQuery = v.pipe(
  v.strictObject(
    {
      limit: v.optional(
        v.pipe(
          Count,
          v.transform((limit) => Math.min(limit, MAX_LIMIT)),
        ),
      ),
      marker: v.optional(Text),
      sort_key: v.optional(SortKeyName),
      sort_dir: v.optional(SortDirName),
      sort: v.optional(SortList),
      id: v.optional(ValueFilter),
      name: v.optional(ValueFilter),
      status: v.optional(ValueFilter),
      disk_format: v.optional(ValueFilter),
      container_format: v.optional(ValueFilter),
      visibility: v.optional(
        v.picklist(
          ['public', 'private', 'shared', 'community', 'all'],
          'must be public, private, shared, community or all',
        ),
      ),
      owner: v.optional(Text),
      member_status: v.optional(
        v.picklist(['accepted', 'pending', 'rejected', 'all'], 'must be accepted, pending, rejected or all'),
      ),
      tag: v.optional(Text),
      protected: v.optional(Bool),
      os_hidden: v.optional(Bool),
      size_min: v.optional(Count),
      size_max: v.optional(Count),
      created_at: v.optional(TimeFilter),
      updated_at: v.optional(TimeFilter),
    },
    'is not a query parameter of the image list',
  ),
  v.forward(
    v.check(
      (query) => query.sort === undefined || (query.sort_key === undefined && query.sort_dir === undefined),
      'cannot be combined with sort_key or sort_dir',
    ),
    ['sort'],
  ),
);
export type ImageListQuery = v.InferOutput<typeof ImageListQuery>;

// A row never updated shows its creation time as updated_at (image-view.ts); sort and filter on that.
const UPDATED_AT = sql`COALESCE(${images.updated_at}, ${images.created_at})`;

/** A sort key's SQL, and its value in the marker row bound the way its column binds it. */
interface SortColumn {
  expression: MySqlColumn | SQL;
  markerValue(marker: ImageRow): Param;
}
const column = (expression: MySqlColumn, read: (marker: ImageRow) => unknown): SortColumn => ({
  expression,
  markerValue: (marker) => sql.param(read(marker), expression),
});
// `size` has no entry: no image has one, so all tie on it and it cannot change the order.
const SORT_COLUMNS: Record<Exclude<SortKey, 'size'>, SortColumn> = {
  name: column(images.name, (marker) => marker.name),
  status: column(images.status, (marker) => marker.status),
  container_format: column(images.container_format, (marker) => marker.container_format),
  disk_format: column(images.disk_format, (marker) => marker.disk_format),
  id: column(images.uuid, (marker) => marker.uuid),
  created_at: column(images.created_at, (marker) => marker.created_at),
  updated_at: {
    expression: UPDATED_AT,
    markerValue: (marker) => sql.param(marker.updated_at ?? marker.created_at, images.created_at),
  },
};

/**
 * The requested order (default `created_at` descending), then `created_at` and `id` as Glance appends
 * them, in the one direction the request gave (descending when it gave several): `id` is unique, so
 * the order is total and a marker names one place in it.
 */
export function sortOrder(query: ImageListQuery): { column: SortColumn; dir: SortDir }[] {
  const requested: SortTerm[] = query.sort ?? [
    { key: query.sort_key ?? 'created_at', dir: query.sort_dir ?? 'desc' },
  ];
  const tieDir = requested.length === 1 ? (requested[0]?.dir ?? 'desc') : 'desc';
  const terms = [...requested];
  for (const key of ['created_at', 'id'] as const) {
    if (!terms.some((term) => term.key === key)) terms.push({ key, dir: tieDir });
  }
  return terms.flatMap(({ key, dir }) => (key === 'size' ? [] : [{ column: SORT_COLUMNS[key], dir }]));
}

export function orderBy(order: ReturnType<typeof sortOrder>): SQL[] {
  return order.map(({ column, dir }) => (dir === 'asc' ? asc(column.expression) : desc(column.expression)));
}

/** Rows strictly after `marker` in `order`: equal on every earlier key and past it on one. */
export function after(order: ReturnType<typeof sortOrder>, marker: ImageRow): SQL {
  const alternatives = order.map(({ column, dir }, index) =>
    and(
      ...order
        .slice(0, index)
        .map((earlier) => sql`${earlier.column.expression} = ${earlier.column.markerValue(marker)}`),
      dir === 'asc'
        ? sql`${column.expression} > ${column.markerValue(marker)}`
        : sql`${column.expression} < ${column.markerValue(marker)}`,
    ),
  );
  return or(...alternatives) ?? sql`false`;
}

const SECOND = 1000;
/**
 * Times are shown to the second, so a filter compares the shown (truncated) time: a row stored at
 * 12:00:00.400 is `eq:12:00:00`. Each operator on the truncated value becomes a bound on the stored
 * one, which keeps the column usable by an index.
 */
function timeCondition(expression: MySqlColumn | SQL, { operator, at }: TimeFilter): SQL {
  const floor = Math.floor(at.getTime() / SECOND) * SECOND;
  const ceil = Math.ceil(at.getTime() / SECOND) * SECOND;
  const bound = (ms: number) => sql.param(new Date(ms), images.created_at);
  const whole = floor === at.getTime();
  switch (operator) {
    case 'gt':
      return sql`${expression} >= ${bound(floor + SECOND)}`;
    case 'gte':
      return sql`${expression} >= ${bound(ceil)}`;
    case 'lt':
      return sql`${expression} < ${bound(ceil)}`;
    case 'lte':
      return sql`${expression} < ${bound(floor + SECOND)}`;
    case 'eq':
      return whole
        ? sql`(${expression} >= ${bound(floor)} and ${expression} < ${bound(floor + SECOND)})`
        : sql`false`;
    case 'neq':
      return whole
        ? sql`(${expression} < ${bound(floor)} or ${expression} >= ${bound(floor + SECOND)})`
        : sql`true`;
  }
}

/** The WHERE of the filters (visibility to the caller and soft delete are the caller's to add). */
export function listFilterConditions(query: ImageListQuery): SQL | undefined {
  const nothing = sql`false`;
  return and(
    query.id && inArray(images.uuid, query.id),
    query.name && inArray(images.name, query.name),
    query.status && inArray(images.status, query.status),
    query.disk_format && inArray(images.disk_format, query.disk_format),
    query.container_format && inArray(images.container_format, query.container_format),
    query.visibility === undefined || query.visibility === 'all'
      ? undefined
      : eq(images.visibility, query.visibility),
    eqIfGiven(images.owner, query.owner),
    query.tag === undefined ? undefined : nothing,
    query.protected ? nothing : undefined,
    query.os_hidden ? nothing : undefined,
    query.size_min === undefined && query.size_max === undefined ? undefined : nothing,
    query.created_at && timeCondition(images.created_at, query.created_at),
    query.updated_at && timeCondition(UPDATED_AT, query.updated_at),
  );
}
