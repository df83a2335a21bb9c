import type { Context } from 'hono';
import * as v from 'valibot';
import { IP_TEXT_LENGTH } from '../../../schema/tables/index.ts';
import type { AppEnv } from '../context.ts';
import { neutronObject, requestedFields } from './attributes.ts';
import { selectFields } from './list-query.ts';

// What the router, floating IP and security group routes read beside attributes.ts: Neutron's body
// for one resource (`{"<resource>": {...}}`, an attribute the resource does not have is a 400 naming
// it), an address, and `fields` on a single resource.

/** `{"<key>": {<entries>}}`, refusing any other key at either level. */
export function resourceBody<TKey extends string, TEntries extends v.ObjectEntries>(
  key: TKey,
  entries: TEntries,
) {
  const inner = { [key]: neutronObject(entries) } as {
    [K in TKey]: ReturnType<typeof neutronObject<TEntries>>;
  };
  return neutronObject(inner);
}

export const IpText = v.pipe(v.string(), v.minLength(1), v.maxLength(IP_TEXT_LENGTH));

/** `{"<key>": item}` for a GET of one resource, trimmed to `?fields=` when given. */
export function showBody<T extends Record<string, unknown>>(c: Context<AppEnv>, key: string, item: T) {
  return { [key]: selectFields(item, requestedFields(c)) };
}
