import type { Context } from 'hono';
import * as v from 'valibot';
import { Forbidden } from '../../shared/errors.ts';
import type { AppEnv } from '../context.ts';
import { readJson } from '../middleware/validate.ts';
import {
  deleteKeyPair,
  findKeyPair,
  type KeyPairRow,
  keyPairDetail,
  keyPairSummary,
  listKeyPairs,
  storeKeyPair,
} from '../nova/keypairs.ts';
import { authorize } from '../policy.ts';
import { route } from '../route.ts';
import { defineFace } from './face.ts';
import { atLeast } from './microversion.ts';
import { nextPageLinks, pageParameters } from './paging.ts';
import { lastQueryValues, strictQuery } from './query.ts';

// os-keypairs (clients-and-microversions.md §4.1), served by v3's keypair functions. Before 2.2 create
// answers 200 and delete 202; from 2.2 they answer 201 and 204, every view names the key's type, and
// x509 certificates can be imported (not generated). From 2.10 admins act on another user's key pairs
// with `user_id`; 2.35 pages the list by name; 2.75 refuses unknown query parameters; 2.92 requires a
// public key on create and lets names hold "@" and ".".

function createSchema(c: Context<AppEnv>) {
  const name = v.pipe(
    v.string(),
    v.minLength(1),
    v.maxLength(255),
    atLeast(c, 92)
      ? v.regex(/^[\w\-@. ]+$/, 'name may hold letters, digits, spaces, "_", "-", "@" and "."')
      : v.regex(/^[\w\- ]+$/, 'name may hold letters, digits, spaces, "_" and "-"'),
    v.regex(/^(?! ).*(?<! )$/, 'name must not start or end with a space'),
  );
  // Key pairs live in a TEXT column.
  const publicKey = v.pipe(v.string(), v.maxLength(65535));
  return v.strictObject({
    keypair: v.strictObject({
      name,
      public_key: atLeast(c, 92) ? publicKey : v.optional(publicKey),
      type: atLeast(c, 2)
        ? v.optional(v.picklist(['ssh', 'x509']))
        : v.optional(v.never('type is accepted from 2.2 on')),
      user_id: atLeast(c, 10)
        ? v.optional(v.string())
        : v.optional(v.never('user_id is accepted from 2.10 on')),
    }),
  });
}

/**
 * The user whose key pairs the request is about: the caller's, or from 2.10 the one an admin names
 * (as the body's `user_id` on create, the first `user_id` query parameter elsewhere).
 */
function targetUser(c: Context<AppEnv>, requested: string | undefined): string {
  const caller = c.var.caller;
  authorize(caller, 'compute_extension:keypairs');
  if (requested === undefined || requested === caller.userId) return caller.userId;
  if (!caller.isAdmin) {
    throw new Forbidden(
      "Policy doesn't allow compute_extension:keypairs to be performed on another user's key pairs.",
    );
  }
  return requested;
}

function queriedUser(c: Context<AppEnv>): string | undefined {
  return atLeast(c, 10) ? c.req.queries('user_id')?.[0] : undefined;
}

function typed<T extends object>(c: Context<AppEnv>, view: T, row: KeyPairRow): T | (T & { type: string }) {
  return atLeast(c, 2) ? { ...view, type: row.type } : view;
}

export const keypairsFace = defineFace({
  alias: 'keypairs',
  routes: [
    strictQuery(
      route({
        method: 'get',
        path: '/v2.1/os-keypairs',
        summary: "List a user's key pairs (user_id from 2.10; limit and marker from 2.35)",
        responses: { 200: 'keypairs: [{keypair: {name, public_key, fingerprint[, type]}}], keypairs_links' },
        handler: async (c) => {
          const userId = targetUser(c, queriedUser(c));
          const page = atLeast(c, 35) ? pageParameters(lastQueryValues(c)) : undefined;
          const rows = await listKeyPairs(c.var.db, userId, page);
          const keypairs = rows.map((row) => ({ keypair: typed(c, keyPairSummary(row), row) }));
          const links = page
            ? nextPageLinks(c, 'keypairs_links', {
                limit: page.limit,
                items: rows,
                markerOf: (row) => row.name,
              })
            : {};
          return c.json({ keypairs, ...links });
        },
      }),
      75,
      ['user_id', 'limit', 'marker'],
    ),
    route({
      method: 'post',
      path: '/v2.1/os-keypairs',
      summary: 'Create (generate, before 2.92) or import a key pair',
      responses: { 200: 'keypair (2.1)', 201: 'keypair (2.2+)' },
      handler: async (c) => {
        const { keypair } = await readJson(c, createSchema(c));
        const userId = targetUser(c, keypair.user_id);
        const { row, privateKey } = await storeKeyPair(c.var.db.$primary, userId, {
          name: keypair.name,
          public_key: keypair.public_key,
          type: keypair.type ?? 'ssh',
        });
        const created = typed(c, { ...keyPairSummary(row), user_id: row.user_id }, row);
        return c.json(
          { keypair: privateKey === undefined ? created : { ...created, private_key: privateKey } },
          atLeast(c, 2) ? 201 : 200,
        );
      },
    }),
    strictQuery(
      route({
        method: 'get',
        path: '/v2.1/os-keypairs/:name',
        summary: 'Show a key pair (user_id from 2.10)',
        responses: { 200: 'keypair' },
        handler: async (c) => {
          const row = await findKeyPair(c.var.db, targetUser(c, queriedUser(c)), c.req.param('name') ?? '');
          return c.json({ keypair: typed(c, keyPairDetail(row), row) });
        },
      }),
      75,
      ['user_id'],
    ),
    strictQuery(
      route({
        method: 'delete',
        path: '/v2.1/os-keypairs/:name',
        summary: 'Delete a key pair (user_id from 2.10)',
        responses: { 202: 'deleted (2.1)', 204: 'deleted (2.2+)' },
        handler: async (c) => {
          await deleteKeyPair(c.var.db.$primary, targetUser(c, queriedUser(c)), c.req.param('name') ?? '');
          return c.body(null, atLeast(c, 2) ? 204 : 202);
        },
      }),
      75,
      ['user_id'],
    ),
  ],
  microversions: [
    {
      minor: 2,
      change:
        'keypair type in create and every view; x509 certificates are imported (fingerprint: SHA-1 of the DER), not generated; create 201, delete 204',
      routes: ['/v2.1/os-keypairs', '/v2.1/os-keypairs/{name}'],
    },
    {
      minor: 10,
      change: "admins list, show, delete (?user_id=) and create (body user_id) other users' key pairs",
      routes: ['/v2.1/os-keypairs', '/v2.1/os-keypairs/{name}'],
    },
    {
      minor: 35,
      change: 'the list is paged by limit and marker (a name), with keypairs_links when a page is full',
      routes: ['/v2.1/os-keypairs'],
    },
    {
      minor: 75,
      change: 'unknown query parameters are a 400',
      routes: ['/v2.1/os-keypairs', '/v2.1/os-keypairs/{name}'],
    },
    {
      minor: 102,
      change: 'unknown query parameters are a 400 on every GET (the key pair routes refuse them from 2.75)',
      routes: ['/v2.1/os-keypairs', '/v2.1/os-keypairs/{name}'],
    },
    {
      minor: 92,
      change: 'create requires public_key (no generated keys); names may hold "@" and "."',
      routes: ['/v2.1/os-keypairs'],
    },
  ],
});
