import { rm } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { Client, DatabaseError } from '@planetscale/database';
import { DrizzleQueryError, eq, sql } from 'drizzle-orm';
import {
  bigint,
  boolean,
  customType,
  datetime,
  decimal,
  double,
  int,
  json,
  mysqlTable,
  text,
  timestamp,
  varchar,
} from 'drizzle-orm/mysql-core';
import { drizzle } from 'drizzle-orm/planetscale-serverless';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  type DatabasePair,
  ensureMariaDbInstalled,
  startDatabasePair,
  waitForReplicaToCatchUp,
} from '../../infra/local/mariadb.ts';
import { type PsdbBridge, startPsdbBridge } from '../../infra/local/psdb-bridge.ts';

const stateDir = fileURLToPath(new URL(`../../.local/test-psdb-${process.pid}`, import.meta.url));
const credentials = { username: 'bridge-user', password: 'bridge-secret' };

// drizzle's own varbinary() maps bytes to a bit string; binary data needs a column that keeps Uint8Array.
const bytes = customType<{ data: Uint8Array; driverData: Uint8Array }>({ dataType: () => 'varbinary(64)' });

const samples = mysqlTable('samples', {
  id: int('id').autoincrement().primaryKey(),
  name: varchar('name', { length: 64 }).notNull().unique(),
  big: bigint('big', { mode: 'bigint' }),
  bigUnsigned: bigint('big_unsigned', { mode: 'number', unsigned: true }),
  price: decimal('price', { precision: 20, scale: 6 }),
  happenedAt: datetime('happened_at', { mode: 'date', fsp: 3 }),
  happenedAtText: datetime('happened_at_text', { mode: 'string' }),
  stampedAt: timestamp('stamped_at', { mode: 'date' }),
  meta: json('meta').$type<{ flavor: string; tags: string[]; nested: { n: number } }>(),
  note: text('note'),
  enabled: boolean('enabled'),
  ratio: double('ratio'),
  payload: bytes('payload'),
});

const CREATE_SAMPLES = `CREATE TABLE samples (
  id INT AUTO_INCREMENT PRIMARY KEY,
  name VARCHAR(64) NOT NULL UNIQUE,
  big BIGINT NULL,
  big_unsigned BIGINT UNSIGNED NULL,
  price DECIMAL(20, 6) NULL,
  happened_at DATETIME(3) NULL,
  happened_at_text DATETIME NULL,
  stamped_at TIMESTAMP NULL,
  meta JSON NULL,
  note TEXT NULL,
  enabled BOOLEAN NULL,
  ratio DOUBLE NULL,
  payload VARBINARY(64) NULL
)`;

let pair: DatabasePair;
let primaryBridge: PsdbBridge;
let replicaBridge: PsdbBridge;
let impatientBridge: PsdbBridge;
let client: Client;
let db: ReturnType<typeof drizzle>;

function drizzleCause(error: unknown): unknown {
  return error instanceof DrizzleQueryError ? error.cause : error;
}

async function namesOnPrimary(): Promise<string[]> {
  const rows = await db.select({ name: samples.name }).from(samples).orderBy(samples.name);
  return rows.map((row) => row.name);
}

beforeAll(async () => {
  await ensureMariaDbInstalled();
  await rm(stateDir, { recursive: true, force: true });
  pair = await startDatabasePair({ dir: stateDir, database: 'bridge_test' });
  const bridgeTo = (mysqlPort: number, extra: { readOnly?: boolean; sessionIdleMs?: number } = {}) =>
    startPsdbBridge({ mysqlPort, database: pair.database, ...credentials, ...extra });
  [primaryBridge, replicaBridge, impatientBridge] = await Promise.all([
    bridgeTo(pair.primary.port),
    bridgeTo(pair.replica.port, { readOnly: true }),
    bridgeTo(pair.primary.port, { sessionIdleMs: 200 }),
  ]);
  client = new Client({ url: primaryBridge.url });
  db = drizzle({ client });
  await client.execute(CREATE_SAMPLES);
}, 180_000);

afterAll(async () => {
  await Promise.all([primaryBridge?.stop(), replicaBridge?.stop(), impatientBridge?.stop()]);
  await pair?.stop();
  await rm(stateDir, { recursive: true, force: true });
}, 60_000);

describe('PlanetScale HTTP bridge over MariaDB, through the real driver', () => {
  it('round-trips every column type through drizzle', async () => {
    const row = {
      name: 'all-types',
      big: 9007199254740993n,
      bigUnsigned: 4_294_967_296_123,
      price: '12345678901234.123456',
      happenedAt: new Date('2024-02-29T12:34:56.789Z'),
      happenedAtText: '2024-02-29 12:34:56',
      stampedAt: new Date('2030-01-02T03:04:05Z'),
      meta: { flavor: 'm1.small', tags: ['ssd', 'gpu'], nested: { n: 1 } },
      note: 'héllo wörld 🌍🚀',
      enabled: true,
      ratio: 0.1 + 0.2,
      payload: new Uint8Array([0, 255, 128, 10, 13, 0]),
    };
    const [{ id } = { id: 0 }] = await db.insert(samples).values(row).$returningId();
    const [stored] = await db.select().from(samples).where(eq(samples.id, id));
    expect(stored).toEqual({ id, ...row });
  });

  it('returns NULL columns as null', async () => {
    await db.insert(samples).values({ name: 'all-null' });
    const [stored] = await db.select().from(samples).where(eq(samples.name, 'all-null'));
    expect(stored).toMatchObject({
      big: null,
      bigUnsigned: null,
      price: null,
      happenedAt: null,
      happenedAtText: null,
      stampedAt: null,
      meta: null,
      note: null,
      enabled: null,
      ratio: null,
      payload: null,
    });
  });

  it('gives the raw client exact bytes, exact 64-bit integers and PlanetScale type names', async () => {
    const payload = new Uint8Array([0, 1, 2, 253, 254, 255]);
    await client.execute(
      'INSERT INTO samples (name, payload, big, big_unsigned, meta) VALUES (?, ?, ?, ?, ?)',
      ['raw-bytes', payload, -9007199254740993n, 18446744073709551615n, '{"a": [1, 2]}'],
    );
    const result = await client.execute(
      'SELECT payload, big, big_unsigned, meta, price, happened_at, note FROM samples WHERE name = ?',
      ['raw-bytes'],
    );
    expect(result.rows[0]).toEqual({
      payload,
      big: '-9007199254740993',
      big_unsigned: '18446744073709551615',
      meta: { a: [1, 2] },
      price: null,
      happened_at: null,
      note: null,
    });
    expect(result.types).toEqual({
      payload: 'VARBINARY',
      big: 'INT64',
      big_unsigned: 'UINT64',
      meta: 'JSON',
      price: 'DECIMAL',
      happened_at: 'DATETIME',
      note: 'TEXT',
    });
  });

  it('reports insert ids and changed rows the way drizzle relies on', async () => {
    const ids = await db
      .insert(samples)
      .values([{ name: 'counted-1' }, { name: 'counted-2' }, { name: 'counted-3' }])
      .$returningId();
    expect(ids).toHaveLength(3);
    expect(ids[1]?.id).toBe((ids[0]?.id ?? 0) + 1);
    expect(ids[2]?.id).toBe((ids[0]?.id ?? 0) + 2);

    const updated = await db
      .update(samples)
      .set({ note: 'touched' })
      .where(sql`${samples.name} like 'counted-%'`);
    expect(updated.rowsAffected).toBe(3);
    const unchanged = await db
      .update(samples)
      .set({ note: 'touched' })
      .where(sql`${samples.name} like 'counted-%'`);
    expect(unchanged.rowsAffected).toBe(0);
  });

  it('commits a transaction so its rows become visible', async () => {
    await db.transaction(async (tx) => {
      await tx.insert(samples).values({ name: 'tx-committed-1' });
      await tx.insert(samples).values({ name: 'tx-committed-2' });
    });
    expect(await namesOnPrimary()).toEqual(expect.arrayContaining(['tx-committed-1', 'tx-committed-2']));
  });

  it('rolls a transaction back when its callback throws', async () => {
    await expect(
      db.transaction(async (tx) => {
        await tx.insert(samples).values({ name: 'tx-rolled-back' });
        throw new Error('changed my mind');
      }),
    ).rejects.toThrow('changed my mind');
    expect(await namesOnPrimary()).not.toContain('tx-rolled-back');
  });

  it('rolls a nested transaction back to its savepoint and still commits the outer one', async () => {
    await db.transaction(async (tx) => {
      await tx.insert(samples).values({ name: 'outer-before' });
      await expect(
        tx.transaction(async (nested) => {
          await nested.insert(samples).values({ name: 'nested-discarded' });
          throw new Error('nested failure');
        }),
      ).rejects.toThrow('nested failure');
      expect(await namesOnPrimary()).not.toContain('outer-before');
      await tx.insert(samples).values({ name: 'outer-after' });
    });
    const names = await namesOnPrimary();
    expect(names).toEqual(expect.arrayContaining(['outer-before', 'outer-after']));
    expect(names).not.toContain('nested-discarded');
  });

  it('keeps uncommitted rows invisible to another client until commit', async () => {
    let seenFromOutside: string[] = [];
    await db.transaction(async (tx) => {
      await tx.insert(samples).values({ name: 'tx-pending' });
      const [insideView] = await tx.select().from(samples).where(eq(samples.name, 'tx-pending'));
      expect(insideView?.name).toBe('tx-pending');
      seenFromOutside = await namesOnPrimary();
    });
    expect(seenFromOutside).not.toContain('tx-pending');
    expect(await namesOnPrimary()).toContain('tx-pending');
  });

  it("surfaces a duplicate key as a DatabaseError carrying MySQL's message and errno", async () => {
    await db.insert(samples).values({ name: 'unique-name' });
    const rawFailure = await client
      .execute('INSERT INTO samples (name) VALUES (?)', ['unique-name'])
      .catch((error: unknown) => error);
    expect(rawFailure).toBeInstanceOf(DatabaseError);
    expect((rawFailure as DatabaseError).message).toMatch(/Duplicate entry 'unique-name' for key .*1062/);

    const drizzleFailure = await db
      .insert(samples)
      .values({ name: 'unique-name' })
      .catch((error: unknown) => error);
    expect(drizzleCause(drizzleFailure)).toBeInstanceOf(DatabaseError);
    expect((drizzleCause(drizzleFailure) as DatabaseError).message).toContain('1062');
  });

  it('keeps a transaction usable after a failed statement inside it', async () => {
    await db.transaction(async (tx) => {
      await tx.insert(samples).values({ name: 'tx-survivor' });
      await expect(tx.insert(samples).values({ name: 'unique-name' })).rejects.toThrow();
    });
    expect(await namesOnPrimary()).toContain('tx-survivor');
  });

  it('rejects wrong credentials with 401', async () => {
    const url = new URL(primaryBridge.url);
    url.password = 'wrong';
    const failure = await new Client({ url: url.toString() })
      .execute('SELECT 1')
      .catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(DatabaseError);
    expect((failure as DatabaseError).status).toBe(401);

    const anonymous = await fetch(`http://127.0.0.1:${url.port}/psdb.v1alpha1.Database/Execute`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: 'SELECT 1', session: null }),
    });
    expect(anonymous.status).toBe(401);
    expect(await anonymous.json()).toMatchObject({ error: { code: 'UNAUTHENTICATED' } });
  });

  it('replicates a row written through the primary bridge to the replica bridge', async () => {
    await db.insert(samples).values({ name: 'replicated', note: 'from the primary 🌍' });
    await waitForReplicaToCatchUp(pair);
    const replicaDb = drizzle({ client: new Client({ url: replicaBridge.url }) });
    const [onReplica] = await replicaDb.select().from(samples).where(eq(samples.name, 'replicated'));
    expect(onReplica?.note).toBe('from the primary 🌍');
  });

  it('refuses writes through the read-only replica bridge', async () => {
    const replicaClient = new Client({ url: replicaBridge.url });
    await expect(
      replicaClient.execute('INSERT INTO samples (name) VALUES (?)', ['written-on-replica']),
    ).rejects.toThrow(/READ ONLY/i);
  });

  it('rolls back an abandoned transaction and fails its later statements', async () => {
    const abandoned = new Client({ url: impatientBridge.url }).connection();
    await abandoned.execute('BEGIN');
    await abandoned.execute('INSERT INTO samples (name) VALUES (?)', ['abandoned']);
    const threadResult = await abandoned.execute('SELECT CONNECTION_ID() AS thread');
    const thread = threadResult.rows[0] as { thread: string };

    await vi.waitFor(
      async () => {
        const open = await client.execute(
          'SELECT COUNT(*) AS open FROM information_schema.INNODB_TRX WHERE trx_mysql_thread_id = ?',
          [thread.thread],
        );
        expect(open.rows[0]).toEqual({ open: '0' });
      },
      { timeout: 10_000, interval: 100 },
    );
    await expect(abandoned.execute('COMMIT')).rejects.toThrow(/no longer exists/);
    expect(await namesOnPrimary()).not.toContain('abandoned');
  });
});
