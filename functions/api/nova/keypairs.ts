import { and, asc, eq } from 'drizzle-orm';
import type { Context } from 'hono';
import * as v from 'valibot';
import type { PrimaryDb } from '../../../schema/db.ts';
import { keyPairs } from '../../../schema/tables/index.ts';
import { generateKeyPair, InvalidPublicKey, parsePublicKey } from '../../compute/ssh-keys.ts';
import { BadRequest, Conflict, isDuplicateKey, NotFound } from '../../shared/errors.ts';
import type { AppEnv } from '../context.ts';
import { authorize } from '../policy.ts';
import { route } from '../route.ts';
import { defineExtension } from './extension.ts';

type KeyPairRow = typeof keyPairs.$inferSelect;

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

function keyPairSummary(row: KeyPairRow) {
  return { name: row.name, public_key: row.public_key, fingerprint: row.fingerprint };
}

function keyPairDetail(row: KeyPairRow) {
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

/** The caller's own key pairs only: names are unique per user, and another user's key pair is not found. */
async function findKeyPair(db: Pick<PrimaryDb, 'select'>, userId: string, name: string) {
  const [row] = await db
    .select()
    .from(keyPairs)
    .where(and(eq(keyPairs.user_id, userId), eq(keyPairs.name, name), eq(keyPairs.deleted, 0)));
  if (!row) throw new NotFound(`Keypair ${name} not found for user ${userId}`);
  return row;
}

/**
 * The one place a key pair row is written. The unique key (user_id, name, deleted) decides a race
 * between two creates of the same name; the key-pairs quota belongs here too, before the insert.
 */
async function insertKeyPair(
  db: PrimaryDb,
  keyPair: { name: string; user_id: string; public_key: string; fingerprint: string },
): Promise<KeyPairRow> {
  try {
    await db.insert(keyPairs).values({ ...keyPair, type: 'ssh', created_at: new Date() });
  } catch (error) {
    if (isDuplicateKey(error)) throw new Conflict(`Key pair '${keyPair.name}' already exists.`);
    throw error;
  }
  return findKeyPair(db, keyPair.user_id, keyPair.name);
}

async function createKeyPair(c: Context<AppEnv>, { keypair }: v.InferOutput<typeof CreateKeyPair>) {
  const caller = c.var.caller;
  authorize(caller, 'compute_extension:keypairs');
  const db = c.var.db.$primary;
  if (keypair.public_key !== undefined) {
    let imported: ReturnType<typeof parsePublicKey>;
    try {
      imported = parsePublicKey(keypair.public_key);
    } catch (error) {
      if (error instanceof InvalidPublicKey) {
        throw new BadRequest(`Invalid input for field 'keypair.public_key': ${error.message}`);
      }
      throw error;
    }
    const row = await insertKeyPair(db, {
      name: keypair.name,
      user_id: caller.userId,
      public_key: imported.publicKey,
      fingerprint: imported.fingerprint,
    });
    return c.json({ keypair: { ...keyPairSummary(row), user_id: row.user_id } }, 201);
  }
  const generated = await generateKeyPair(keypair.name.replaceAll(' ', '_'));
  const row = await insertKeyPair(db, {
    name: keypair.name,
    user_id: caller.userId,
    public_key: generated.publicKey,
    fingerprint: generated.fingerprint,
  });
  // The private key is shown once, here, and never stored.
  return c.json(
    { keypair: { ...keyPairSummary(row), user_id: row.user_id, private_key: generated.privateKey } },
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
        const rows = await c.var.db
          .select()
          .from(keyPairs)
          .where(and(eq(keyPairs.user_id, c.var.caller.userId), eq(keyPairs.deleted, 0)))
          .orderBy(asc(keyPairs.name));
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
        const db = c.var.db.$primary;
        const row = await findKeyPair(db, c.var.caller.userId, c.req.param('name') ?? '');
        const now = new Date();
        await db
          .update(keyPairs)
          .set({ deleted: row.id, deleted_at: now, updated_at: now })
          .where(and(eq(keyPairs.id, row.id), eq(keyPairs.deleted, 0)));
        return c.body(null, 202);
      },
    }),
  ],
});
