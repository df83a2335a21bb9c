import type { Context } from 'hono';
import * as v from 'valibot';
import { BadRequest } from '../../shared/errors.ts';
import type { AppEnv } from '../context.ts';
import type { Route } from '../route.ts';
import { atLeast } from './microversion.ts';

// Query strings as Nova's v2.1 reads them. A repeated parameter counts once, with its last value
// (webob's MultiDict.get). Before the microversion that made a route's query schema strict (2.75 for
// the list and quota routes, 2.102 for most others) a parameter the route does not know is ignored;
// from it on it is a 400.

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

/** A query schema of `entries`: strict (unknown parameters are a 400) once the route's is. */
export function queryOf<TEntries extends v.ObjectEntries>(entries: TEntries, strict: boolean) {
  return strict ? v.strictObject(entries) : v.object(entries);
}

/** A `changes-since` / `changes-before` value: an ISO 8601 time, UTC when it names no zone. */
export const ChangeTime = v.pipe(
  v.string(),
  v.transform((text) => new Date(/[zZ]|[+-]\d{2}:?\d{2}$/.test(text) ? text : `${text}Z`)),
  v.check((date) => !Number.isNaN(date.getTime()), 'must be an ISO 8601 date and time'),
);

/** The words oslo's bool_from_string reads as true and as false (lower case), as Nova reads some filters. */
export const TRUE_STRINGS = ['1', 't', 'true', 'on', 'y', 'yes'];
export const FALSE_STRINGS = ['0', 'f', 'false', 'off', 'n', 'no'];

// Nova's boolean parameters (parameter_types.boolean), in a body or a query: booleans and the strings
// its schema lists, as written.
const TRUE_WORDS = ['True', 'TRUE', 'true', '1', 'ON', 'On', 'on', 'YES', 'Yes', 'yes'];
const FALSE_WORDS = ['False', 'FALSE', 'false', '0', 'OFF', 'Off', 'off', 'NO', 'No', 'no'];
export const NovaBoolean = v.pipe(
  v.union([v.boolean(), v.picklist([...TRUE_WORDS, ...FALSE_WORDS])], 'must be a boolean'),
  v.transform((value) => value === true || TRUE_WORDS.includes(String(value))),
);
