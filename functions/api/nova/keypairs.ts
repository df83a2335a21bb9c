import { and, asc, eq, gt } from 'drizzle-orm';
import type { Context } from 'hono';
import * as v from 'valibot';
import type { PrimaryDb } from '../../../schema/db.ts';
import { keyPairs } from '../../../schema/tables/index.ts';
import {
  generateKeyPair,
  InvalidPublicKey,
  parsePublicKey,
  parseX509Certificate,
} from '../../compute/ssh-keys.ts';
import { BadRequest, Conflict, isDuplicateKey, NotFound } from '../../shared/errors.ts';
import type { AppEnv } from '../context.ts';
import { authorize } from '../policy.ts';
import { route } from '../route.ts';
import { defineExtension } from './extension.ts';

export type KeyPairRow = typeof keyPairs.$inferSelect;
/** `ssh` for OpenSSH public keys; `x509` for certificates, which only the v2.1 face imports. */
export type KeyPairType = 'ssh' | 'x509';
type Reader = Pick<PrimaryDb, 'select'>;

// Havana v3 (2014.1 schema): letters, digits, '.', '_', '-' and inner spaces.
const KeyPairName = v.pipe(
  v.string(),
  v.minLength(1, 'name must not be empty'),
  v.maxLength(255),
  v.regex(/^(?! )[a-zA-Z0-9. _-]+(?<! )$/, 'name may hold letters, digits, spaces, ".", "_" and "-"'),
);

const CreateKeyPair = v.object({
  keypair: v.object({
    name: KeyPairName,
    public_key: v.optional(v.pipe(v.string(), v.minLength(1), v.maxLength(16384))),
  }),
});

export function keyPairSummary(row: KeyPairRow) {
  return { name: row.name, public_key: row.public_key, fingerprint: row.fingerprint };
}

export function keyPairDetail(row: KeyPairRow) {
  return {
    ...keyPairSummary(row),
    user_id: row.user_id,
    id: row.id,
    created_at: row.created_at.toISOString(),
    updated_at: row.updated_at?.toISOString() ?? null,
    deleted: false,
    deleted_at: null,
  };
}

/** One of a user's key pairs by name: names are unique per user, and another user's key pair is not found. */
export async function findKeyPair(db: Reader, userId: string, name: string) {
  const [row] = await db
    .select()
    .from(keyPairs)
    .where(and(eq(keyPairs.user_id, userId), eq(keyPairs.name, name), eq(keyPairs.deleted, 0)));
  if (!row) throw new NotFound(`Keypair ${name} not found for user ${userId}`);
  return row;
}

/**
 * A user's key pairs by name; with a page, those after the `marker` name, at most `limit` of them
 * (names are unique per user, so the name alone orders them).
 */
export async function listKeyPairs(
  db: Reader,
  userId: string,
  page: { limit?: number; marker?: string } = {},
): Promise<KeyPairRow[]> {
  const owned = and(eq(keyPairs.user_id, userId), eq(keyPairs.deleted, 0));
  if (page.marker !== undefined) {
    const [marker] = await db
      .select({ id: keyPairs.id })
      .from(keyPairs)
      .where(and(owned, eq(keyPairs.name, page.marker)));
    if (!marker) throw new BadRequest(`Marker ${page.marker} could not be found.`);
  }
  const query = db
    .select()
    .from(keyPairs)
    .where(and(owned, page.marker === undefined ? undefined : gt(keyPairs.name, page.marker)))
    .orderBy(asc(keyPairs.name))
    .$dynamic();
  return page.limit === undefined ? query : query.limit(page.limit);
}

/**
 * The one place a key pair row is written. The unique key (user_id, name, deleted) decides a race
 * between two creates of the same name; the key-pairs quota belongs here too, before the insert.
 */
async function insertKeyPair(
  db: PrimaryDb,
  keyPair: { name: string; user_id: string; public_key: string; fingerprint: string; type: KeyPairType },
): Promise<KeyPairRow> {
  try {
    await db.insert(keyPairs).values({ ...keyPair, created_at: new Date() });
  } catch (error) {
    if (isDuplicateKey(error)) throw new Conflict(`Key pair '${keyPair.name}' already exists.`);
    throw error;
  }
  return findKeyPair(db, keyPair.user_id, keyPair.name);
}

async function importedKey(type: KeyPairType, publicKey: string) {
  try {
    return type === 'x509' ? await parseX509Certificate(publicKey) : parsePublicKey(publicKey);
  } catch (error) {
    if (error instanceof InvalidPublicKey) {
      throw new BadRequest(`Invalid input for field 'keypair.public_key': ${error.message}`);
    }
    throw error;
  }
}

/**
 * Stores the user's key pair: the public key (or certificate) given, or a generated Ed25519 pair
 * whose private key is returned here once and never stored.
 */
export async function storeKeyPair(
  db: PrimaryDb,
  userId: string,
  keypair: { name: string; public_key?: string; type: KeyPairType },
): Promise<{ row: KeyPairRow; privateKey?: string }> {
  if (keypair.public_key !== undefined) {
    const imported = await importedKey(keypair.type, keypair.public_key);
    const row = await insertKeyPair(db, {
      name: keypair.name,
      user_id: userId,
      public_key: imported.publicKey,
      fingerprint: imported.fingerprint,
      type: keypair.type,
    });
    return { row };
  }
  if (keypair.type === 'x509') {
    throw new BadRequest(
      "Invalid input for field 'keypair.public_key': x509 certificates are imported, not generated",
    );
  }
  const generated = await generateKeyPair(keypair.name.replaceAll(' ', '_'));
  const row = await insertKeyPair(db, {
    name: keypair.name,
    user_id: userId,
    public_key: generated.publicKey,
    fingerprint: generated.fingerprint,
    type: 'ssh',
  });
  return { row, privateKey: generated.privateKey };
}

/** Soft-deletes the user's key pair; 404 when the user has none of that name. */
export async function deleteKeyPair(db: PrimaryDb, userId: string, name: string): Promise<void> {
  const row = await findKeyPair(db, userId, name);
  const now = new Date();
  await db
    .update(keyPairs)
    .set({ deleted: row.id, deleted_at: now, updated_at: now })
    .where(and(eq(keyPairs.id, row.id), eq(keyPairs.deleted, 0)));
}

async function createKeyPair(c: Context<AppEnv>, { keypair }: v.InferOutput<typeof CreateKeyPair>) {
  const caller = c.var.caller;
  authorize(caller, 'compute_extension:keypairs');
  const { row, privateKey } = await storeKeyPair(c.var.db.$primary, caller.userId, {
    ...keypair,
    type: 'ssh',
  });
  const created = { ...keyPairSummary(row), user_id: row.user_id };
  return c.json(
    { keypair: privateKey === undefined ? created : { ...created, private_key: privateKey } },
    201,
  );
}

export const keypairsExtension = defineExtension({
  alias: 'keypairs',
  name: 'Keypairs',
  description: 'Keypair Support.',
  version: 1,
  core: true,
  history: [{ version: 1, change: 'create (generated or imported), list, show, delete' }],
  routes: [
    route({
      method: 'get',
      path: '/v3/keypairs',
      summary: "List the caller's key pairs",
      responses: { 200: 'keypairs: [{keypair: {name, public_key, fingerprint}}]' },
      handler: async (c) => {
        authorize(c.var.caller, 'compute_extension:keypairs');
        const rows = await listKeyPairs(c.var.db, c.var.caller.userId);
        return c.json({ keypairs: rows.map((row) => ({ keypair: keyPairSummary(row) })) });
      },
    }),
    route({
      method: 'post',
      path: '/v3/keypairs',
      summary: 'Create a key pair (generated, private key returned once) or import a public key',
      body: CreateKeyPair,
      responses: { 201: 'keypair: name, public_key, fingerprint, user_id (+ private_key when generated)' },
      handler: (c, { body }) => createKeyPair(c, body),
    }),
    route({
      method: 'get',
      path: '/v3/keypairs/:name',
      summary: 'Show a key pair',
      responses: { 200: 'keypair' },
      handler: async (c) => {
        authorize(c.var.caller, 'compute_extension:keypairs');
        const row = await findKeyPair(c.var.db, c.var.caller.userId, c.req.param('name') ?? '');
        return c.json({ keypair: keyPairDetail(row) });
      },
    }),
    route({
      method: 'delete',
      path: '/v3/keypairs/:name',
      summary: 'Delete a key pair',
      responses: { 202: 'deleted' },
      handler: async (c) => {
        authorize(c.var.caller, 'compute_extension:keypairs');
        await deleteKeyPair(c.var.db.$primary, c.var.caller.userId, c.req.param('name') ?? '');
        return c.body(null, 202);
      },
    }),
  ],
});
