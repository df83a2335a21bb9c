import type { Context } from 'hono';
import * as v from 'valibot';
import { BadRequest } from '../../shared/errors.ts';
import type { AppEnv } from '../context.ts';
import type { Route } from '../route.ts';
import { atLeast } from './microversion.ts';

// Query strings as Nova's v2.1 reads them, for the flavor faces and the other resource faces (keypairs,
// limits, quotas, zones, extensions) alike. A repeated parameter counts once, with its last value (webob's
// MultiDict.get); from a route's strict microversion on, a parameter the route does not know is a 400
// where earlier versions ignored it (2.75 for the list and quota routes, 2.102 for every other one).

/** Nova's `[api] max_limit`: no page holds more, whatever `limit` asks for. */
const MAX_LIMIT = 1000;

/** Each query parameter's last value. */
export function lastQueryValues(c: Context<AppEnv>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(c.req.queries()).map(([name, values]) => [name, values.at(-1) ?? '']),
  );
}

/** From 2.`strictFrom` on, any query parameter outside `known` is refused. */
export function rejectUnknownQuery(c: Context<AppEnv>, strictFrom: number, known: readonly string[]): void {
  if (!atLeast(c, strictFrom)) return;
  const unknown = Object.keys(c.req.queries()).filter((name) => !known.includes(name));
  if (unknown.length > 0) {
    throw new BadRequest(
      `Invalid input for query parameters ${unknown.join(', ')}. Additional properties are not allowed (${unknown
        .map((name) => `'${name}'`)
        .join(', ')} ${unknown.length === 1 ? 'was' : 'were'} unexpected)`,
    );
  }
}

/** The route, refusing unknown query parameters from 2.`strictFrom` on before its handler runs. */
export function strictQuery(target: Route, strictFrom: number, known: readonly string[] = []): Route {
  return {
    ...target,
    handler: (c, input) => {
      rejectUnknownQuery(c, strictFrom, known);
      return target.handler(c, input);
    },
  };
}

/** `limit` and `marker` as Nova reads them: a page never exceeds MAX_LIMIT; a bad limit is a 400. */
export function pageParameters(query: Record<string, string>): { limit: number; marker?: string } {
  const { limit, marker } = query;
  if (limit !== undefined && !/^[0-9]+$/.test(limit)) {
    throw new BadRequest(
      `Invalid input for query parameters limit. Value: ${limit}. limit must be a non-negative integer`,
    );
  }
  return { limit: Math.min(limit === undefined ? MAX_LIMIT : Number(limit), MAX_LIMIT), marker };
}

/**
 * `{collection}_links` for a page: a `next` link when the page is full, naming the last item as the
 * marker and keeping the request's other parameters (sorted by name).
 */
export function nextPageLinks(
  c: Context<AppEnv>,
  collectionPath: string,
  page: { limit: number; count: number; lastId: string | undefined },
): Array<{ rel: 'next'; href: string }> {
  if (page.limit === 0 || page.count !== page.limit || page.lastId === undefined) return [];
  const parameters = new URLSearchParams(
    Object.entries({ ...lastQueryValues(c), marker: page.lastId }).sort(([a], [b]) => (a < b ? -1 : 1)),
  );
  const href = `${new URL(c.req.url).origin}/v2.1/${collectionPath}?${parameters}`;
  return [{ rel: 'next', href }];
}

// Nova's boolean parameters (parameter_types.boolean): booleans and the strings oslo reads as one.
const TRUE_WORDS = ['True', 'TRUE', 'true', '1', 'ON', 'On', 'on', 'YES', 'Yes', 'yes'];
const FALSE_WORDS = ['False', 'FALSE', 'false', '0', 'OFF', 'Off', 'off', 'NO', 'No', 'no'];
export const NovaBoolean = v.pipe(
  v.union([v.boolean(), v.picklist([...TRUE_WORDS, ...FALSE_WORDS])], 'must be a boolean'),
  v.transform((value) => value === true || TRUE_WORDS.includes(String(value))),
);
