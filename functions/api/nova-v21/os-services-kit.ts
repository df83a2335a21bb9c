import type { Context } from 'hono';
import * as v from 'valibot';
import { BadRequest, NotFound } from '../../shared/errors.ts';
import type { AppEnv } from '../context.ts';
import type { Route } from '../route.ts';
import { atLeast } from './microversion.ts';

// What the admin faces (os-services, os-hypervisors, os-aggregates, os-migrations,
// os-simple-tenant-usage, os-hosts) share: Nova's timestamp form, routes a microversion took away,
// query strings whose rules change with the microversion, and limit/marker paging.

/** Nova's JSON form of a (naive, UTC) datetime: microseconds and no zone, `2016-06-23T14:42:02.000000`. */
export function novaTime(value: Date | string): string {
  return new Date(value).toISOString().replace(/\.(\d{3})Z$/, '.$1000');
}

export function novaTimeOrNull(value: Date | string | null | undefined): string | null {
  return value === null || value === undefined ? null : novaTime(value);
}

/** A route Nova served up to 2.(`minor` - 1): from 2.`minor` on it is not there. */
export function removedAt(minor: number, served: Route): Route {
  return {
    ...served,
    handler: (c, input) => {
      if (atLeast(c, minor)) throw new NotFound('The resource could not be found.');
      return served.handler(c, input);
    },
  };
}

/**
 * A query string: before the microversion that made the route strict Nova ignores parameters it does
 * not know (its schemas allowed additional properties), from it on they are a 400.
 */
export function queryOf<TEntries extends v.ObjectEntries>(entries: TEntries, strict: boolean) {
  return strict ? v.strictObject(entries) : v.object(entries);
}

/** Nova's `max_limit`: the largest page, and the page when a client names no limit. */
export const MAX_PAGE = 1000;

/** `limit` and `marker`, as Nova's common pagination parameters take them. */
export const PAGING = {
  limit: v.optional(
    v.pipe(v.string(), v.regex(/^\d+$/, 'limit must be a non-negative integer'), v.transform(Number)),
  ),
  marker: v.optional(v.string()),
};

/** The page size a request asks for: its limit, at most MAX_PAGE; none (or 0) means MAX_PAGE. */
export function pageSize(limit: number | undefined): number {
  return limit ? Math.min(limit, MAX_PAGE) : MAX_PAGE;
}

/**
 * Nova's `*_links`: a `next` link when the page is full, to the same request with `marker` set to
 * the last item's id; none on the last page.
 */
export function nextLinks(
  c: Context<AppEnv>,
  size: number,
  items: unknown[],
  markerOf: (item: never) => unknown,
) {
  const last = items.at(-1);
  if (last === undefined || items.length !== size) return [];
  const url = new URL(c.req.url);
  const params = new URLSearchParams([...url.searchParams].filter(([key]) => key !== 'marker'));
  params.set('marker', String(markerOf(last as never)));
  params.sort();
  url.search = params.toString();
  return [{ rel: 'next', href: url.toString() }];
}

/** A `changes-since` / `changes-before` value: an ISO 8601 time, UTC when it names no zone. */
export const ChangeTime = v.pipe(
  v.string(),
  v.transform((text) => new Date(/[zZ]|[+-]\d{2}:?\d{2}$/.test(text) ? text : `${text}Z`)),
  v.check((date) => !Number.isNaN(date.getTime()), 'must be an ISO 8601 date and time'),
);

/** How a request names a row: by uuid, or by integer id. */
export type RowRef = { uuid: string } | { id: number };

/** A path id that names a row: a uuid from the microversion that switched to uuids, an integer before. */
export function rowRef(c: Context<AppEnv>, raw: string, uuidsSince: number, onBadId: () => Error): RowRef {
  if (atLeast(c, uuidsSince)) {
    if (!UUID.test(raw)) throw new BadRequest(`Invalid uuid ${raw}`);
    return { uuid: raw };
  }
  if (!/^\d+$/.test(raw)) throw onBadId();
  return { id: Number(raw) };
}

const UUID = /^[\da-f]{8}-[\da-f]{4}-[\da-f]{4}-[\da-f]{4}-[\da-f]{12}$/i;
