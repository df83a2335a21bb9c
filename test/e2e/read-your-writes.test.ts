import { sql } from 'drizzle-orm';
import { type Connection, createConnection } from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../functions/api/app.ts';
import { ApiEnv, parseConfig } from '../../functions/shared/config.ts';
import { call, IMAGE, login, primaryDb, stackInfo, waitForServer } from '../helpers/api.ts';
import { eventually } from '../helpers/wait.ts';

interface ReplicaView {
  replicas: Array<{ caught_up: boolean; primary_position: string; replica_position: string }>;
}

// Like the OpenStack SDK and CLI, these requests send no consistency token unless a test passes one
// (the helpers' `call` sends the newest token it has seen).
async function rawRequest(
  method: string,
  path: string,
  token: string,
  options: { body?: unknown; consistency?: string; signal?: AbortSignal } = {},
) {
  const response = await fetch(`${stackInfo().apiUrl}${path}`, {
    method,
    headers: {
      'x-auth-token': token,
      ...(options.body === undefined ? {} : { 'content-type': 'application/json' }),
      ...(options.consistency ? { 'x-consistency-token': options.consistency } : {}),
    },
    body: options.body === undefined ? undefined : JSON.stringify(options.body),
    ...(options.signal ? { signal: options.signal } : {}),
  });
  const text = await response.text();
  return {
    status: response.status,
    headers: response.headers,
    body: (text ? JSON.parse(text) : {}) as Record<string, Record<string, string>>,
  };
}

async function rawGet(path: string, token: string, consistency?: string) {
  return (await rawRequest('GET', path, token, consistency ? { consistency } : {})).status;
}

function createServerRequest(token: string, name: string) {
  return rawRequest('POST', '/v3/servers', token, {
    body: { server: { name, image_ref: IMAGE, flavor_ref: '1', availability_zone: 'az-2' } },
  });
}

/** Root on the replica's MariaDB: pauses and resumes its applier, and reads or plants rows there alone. */
async function connectReplica(): Promise<Connection> {
  const result = await primaryDb().execute(sql`SELECT DATABASE() AS name`);
  const [row] = (result as unknown as { rows: Array<{ name: string }> }).rows;
  return createConnection({
    host: '127.0.0.1',
    port: stackInfo().database.replicaPort,
    user: 'root',
    database: row?.name ?? '',
  });
}

async function onReplica(replica: Connection, table: string, column: string, value: string) {
  const [rows] = await replica.query(`SELECT COUNT(*) AS n FROM ${table} WHERE ${column} = ?`, [value]);
  return Number((rows as Array<{ n: number }>)[0]?.n);
}

async function replicaFenced(): Promise<boolean> {
  const result = await primaryDb().execute(sql`SELECT COUNT(*) AS n FROM replica_fences`);
  return Number((result as unknown as { rows: Array<{ n: string }> }).rows[0]?.n) > 0;
}

async function deleteServer(token: string, id: string) {
  await waitForServer(token, id, ['ACTIVE']);
  await call('DELETE', `/v3/servers/${id}`, { token });
  await waitForServer(token, id, ['DELETED']);
}

describe('read-your-writes over an asynchronous replica', () => {
  const waitMs = parseConfig(ApiEnv, stackInfo().env).REPLICA_WAIT_MS;
  const suffix = crypto.randomUUID().slice(0, 8);
  // A key pair that exists on the replica only: a read that finds it was served by the replica.
  const planted = `ryw-replica-only-${suffix}`;
  let token = '';
  let replica: Connection;

  beforeAll(async () => {
    token = await login();
    replica = await connectReplica();
    const first = await rawRequest('POST', '/v3/keypairs', token, {
      body: { keypair: { name: `ryw-owner-${suffix}` } },
    });
    expect(first.status).toBe(201);
    await replica.query('SET SESSION sql_log_bin = 0');
    // An id far above the primary's, so that no replicated insert ever collides with it.
    await replica.query(
      'INSERT INTO key_pairs (id, name, user_id, fingerprint, public_key, type, created_at, deleted) ' +
        "VALUES (9000000000000000 + FLOOR(RAND() * 1000000), ?, ?, 'planted', 'ssh-ed25519 AAAA planted', 'ssh', NOW(3), 0)",
      [planted, first.body.keypair?.user_id ?? ''],
    );
  });

  afterAll(async () => {
    await replica.query('START SLAVE SQL_THREAD');
    await replica.query('DELETE FROM key_pairs WHERE name = ?', [planted]);
    await replica.end();
    await rawRequest('DELETE', `/v3/keypairs/ryw-owner-${suffix}`, token);
  });

  it('serves token-less reads from the replica while it keeps up', async () => {
    // Eventually: under a loaded run a replica may be fenced a moment, until a read finds it caught up.
    const servedByReplica = () =>
      eventually(async () => expect(await rawGet(`/v3/keypairs/${planted}`, token)).toBe(200), {
        timeoutMs: 10_000,
        intervalMs: 50,
      });
    await servedByReplica();
    const name = `ryw-caught-up-${suffix}`;
    expect((await rawRequest('POST', '/v3/keypairs', token, { body: { keypair: { name } } })).status).toBe(
      201,
    );
    // The invariant: an answered write is on the replica, or the replica is fenced (looked at first,
    // as a read may lift the fence once the replica has the write).
    const fenced = await replicaFenced();
    expect({ fenced, onReplica: await onReplica(replica, 'key_pairs', 'name', name) }).toEqual(
      fenced ? { fenced, onReplica: expect.any(Number) } : { fenced, onReplica: 1 },
    );
    expect(await rawGet(`/v3/keypairs/${name}`, token)).toBe(200);
    await servedByReplica();
    await rawRequest('DELETE', `/v3/keypairs/${name}`, token);
  });

  it('answers a write within REPLICA_WAIT_MS while the replica is stopped, then reads it from the primary until the replica catches up', async () => {
    await replica.query('STOP SLAVE SQL_THREAD');
    const name = `ryw-stopped-${suffix}`;
    let serverId = '';
    try {
      // The wait is bounded: the write answers although the replica will not apply it (the abort
      // only turns a hung request into a failure instead of a test timeout).
      const created = await rawRequest('POST', '/v3/keypairs', token, {
        body: { keypair: { name } },
        signal: AbortSignal.timeout(waitMs + 10_000),
      });
      expect(created.status).toBe(201);
      const server = await createServerRequest(token, `ryw-stopped-${suffix}`);
      expect(server.status).toBe(202);
      serverId = server.body.server?.id ?? '';
      expect(await onReplica(replica, 'key_pairs', 'name', name)).toBe(0);
      expect(await onReplica(replica, 'instances', 'uuid', serverId)).toBe(0);
      // No token, and the replica lacks both: the reads that find them are the primary's...
      expect({
        keypair: await rawGet(`/v3/keypairs/${name}`, token),
        server: await rawGet(`/v3/servers/${serverId}`, token),
      }).toEqual({ keypair: 200, server: 200 });
      // ...because the replica is fenced: even the row it alone has is no longer served from it.
      expect(await rawGet(`/v3/keypairs/${planted}`, token)).toBe(404);
    } finally {
      await replica.query('START SLAVE SQL_THREAD');
    }
    // Caught up, the replica has the writes, its fence is lifted and it serves reads again.
    await eventually(async () => expect(await rawGet(`/v3/keypairs/${planted}`, token)).toBe(200), {
      timeoutMs: 10_000,
      intervalMs: 50,
    });
    expect(await onReplica(replica, 'key_pairs', 'name', name)).toBe(1);
    expect(await rawGet(`/v3/keypairs/${name}`, token)).toBe(200);
    expect(await rawGet(`/v3/servers/${serverId}`, token)).toBe(200);
    await rawRequest('DELETE', `/v3/keypairs/${name}`, token);
    await deleteServer(token, serverId);
  });

  it('with REPLICA_WAIT_MS=0 lets a token-less read miss a write, which the token still reads, and shows admins the lag', async () => {
    // The same app in this process, without the wait: the old behaviour, which the token alone covers.
    const app = createApp();
    const name = `ryw-token-${suffix}`;
    const env = { ...stackInfo().env, REPLICA_WAIT_MS: '0' };
    const request = async (method: string, path: string, headers: Record<string, string> = {}) => {
      const response = await app.request(
        path,
        {
          method,
          headers: { 'x-auth-token': token, 'content-type': 'application/json', ...headers },
          ...(method === 'POST' ? { body: JSON.stringify({ keypair: { name } }) } : {}),
        },
        env,
      );
      await response.arrayBuffer();
      return response;
    };
    await replica.query('STOP SLAVE SQL_THREAD');
    try {
      const created = await request('POST', '/v3/keypairs');
      expect(created.status).toBe(201);
      const consistency = created.headers.get('x-consistency-token') ?? '';
      expect(consistency).not.toBe('');
      expect((await request('GET', `/v3/keypairs/${name}`)).status).toBe(404);
      expect(
        (await request('GET', `/v3/keypairs/${name}`, { 'x-consistency-token': consistency })).status,
      ).toBe(200);

      const lag = await call<ReplicaView>('GET', '/v3/os-database-replicas', { token });
      expect(lag.status).toBe(200);
      expect(lag.body.replicas).toHaveLength(1);
      expect(lag.body.replicas[0]?.caught_up).toBe(false);
    } finally {
      await replica.query('START SLAVE SQL_THREAD');
    }
    await eventually(async () => expect((await request('GET', `/v3/keypairs/${name}`)).status).toBe(200), {
      timeoutMs: 10_000,
      intervalMs: 50,
    });
    await request('DELETE', `/v3/keypairs/${name}`);
  });

  it('keeps the replica view admin-only and rejects a malformed token', async () => {
    const status = await call<ReplicaView>('GET', '/v3/os-database-replicas', { token });
    expect(status.body.replicas[0]).toHaveProperty('replica_position');
    const bad = await fetch(`${stackInfo().apiUrl}/v3/servers`, {
      headers: { 'x-auth-token': token, 'x-consistency-token': "0-1-1'; DROP TABLE instances" },
    });
    expect(bad.status).toBe(400);
  });
});
