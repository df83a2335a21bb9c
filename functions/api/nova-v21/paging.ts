import type { Context } from 'hono';
import * as v from 'valibot';
import { BadRequest } from '../../shared/errors.ts';
import type { AppEnv } from '../context.ts';

// Nova's limit/marker paging of a list, and the `next` link that goes with a full page.

/** Nova's `[api] max_limit`: no page holds more, whatever `limit` asks for. */
export const MAX_LIMIT = 1000;

const DIGITS = /^\d+$/;
const LIMIT_RULE = 'limit must be a non-negative integer';

/** `limit` and `marker` as entries of a route's query schema. */
export const PAGING = {
  limit: v.optional(v.pipe(v.string(), v.regex(DIGITS, LIMIT_RULE), v.transform(Number))),
  marker: v.optional(v.string()),
};

/** The rows a page holds: the request's limit, at most MAX_LIMIT; MAX_LIMIT when it names none. */
export function pageLimit(limit: number | undefined): number {
  return Math.min(limit ?? MAX_LIMIT, MAX_LIMIT);
}

/**
 * pageLimit for os-hypervisors, os-migrations and os-simple-tenant-usage, which were written to read
 * a limit of 0 as none (a full page) where the other lists answer an empty page; kept as they answer.
 */
export function adminPageLimit(limit: number | undefined): number {
  return pageLimit(limit || undefined);
}

/** `limit` and `marker` of a query read by hand (query.ts's lastQueryValues); a bad limit is a 400. */
export function pageParameters(query: Record<string, string>): { limit: number; marker?: string } {
  const { limit, marker } = query;
  if (limit !== undefined && !DIGITS.test(limit)) {
    throw new BadRequest(`Invalid input for query parameters limit. Value: ${limit}. ${LIMIT_RULE}`);
  }
  return { limit: pageLimit(limit === undefined ? undefined : Number(limit)), marker };
}

interface NextLink {
  rel: 'next';
  href: string;
}

/**
 * `{[key]: [next link]}` for a full page, `{}` for the last one (Nova's `<collection>_links`, or
 * `links`). The link is the request itself with `marker` set to the page's last item and the
 * parameters in name order, as Nova writes it; repeated parameters keep every value.
 */
export function nextPageLinks<TKey extends string, TItem>(
  c: Context<AppEnv>,
  key: TKey,
  page: { limit: number; items: readonly TItem[]; markerOf: (item: TItem) => string | number },
): Partial<Record<TKey, NextLink[]>> {
  const last = page.items.at(-1);
  if (last === undefined || page.items.length < page.limit) return {};
  const url = new URL(c.req.url);
  const parameters = new URLSearchParams([...url.searchParams].filter(([name]) => name !== 'marker'));
  parameters.set('marker', String(page.markerOf(last)));
  parameters.sort();
  url.search = parameters.toString();
  return { [key]: [{ rel: 'next', href: url.toString() }] } as Partial<Record<TKey, NextLink[]>>;
}
