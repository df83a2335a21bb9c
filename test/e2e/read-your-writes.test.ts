import { createConnection } from 'mysql2/promise';
import { describe, expect, it } from 'vitest';
import { call, IMAGE, login, stackInfo, waitForServer } from '../helpers/api.ts';
import { eventually } from '../helpers/wait.ts';

interface ReplicaView {
  replicas: Array<{ caught_up: boolean; primary_position: string; replica_position: string }>;
}

async function rawGet(path: string, token: string, consistency?: string) {
  const response = await fetch(`${stackInfo().apiUrl}${path}`, {
    headers: { 'x-auth-token': token, ...(consistency ? { 'x-consistency-token': consistency } : {}) },
  });
  await response.arrayBuffer();
  return response.status;
}

describe('read-your-writes over an asynchronous replica', () => {
  it('serves a write back to its writer while the replica is stopped, and shows admins the lag', async () => {
    const token = await login();
    const replica = await createConnection({
      host: '127.0.0.1',
      port: stackInfo().database.replicaPort,
      user: 'root',
    });
    let id = '';
    try {
      await replica.query('STOP SLAVE SQL_THREAD');
      const created = await fetch(`${stackInfo().apiUrl}/v3/servers`, {
        method: 'POST',
        headers: { 'x-auth-token': token, 'content-type': 'application/json' },
        body: JSON.stringify({
          server: { name: 'ryw', image_ref: IMAGE, flavor_ref: '1', availability_zone: 'az-2' },
        }),
      });
      expect(created.status).toBe(202);
      id = ((await created.json()) as { server: { id: string } }).server.id;
      const consistency = created.headers.get('x-consistency-token') ?? '';
      expect(consistency).not.toBe('');

      // The replica has not applied the write: a plain read there does not know the server...
      expect(await rawGet(`/v3/servers/${id}`, token)).toBe(404);
      // ...but the writer, sending its token, is served by the primary.
      expect(await rawGet(`/v3/servers/${id}`, token, consistency)).toBe(200);

      const lag = await call<ReplicaView>('GET', '/v3/os-database-replicas', { token });
      expect(lag.status).toBe(200);
      expect(lag.body.replicas).toHaveLength(1);
      expect(lag.body.replicas[0]?.caught_up).toBe(false);
    } finally {
      await replica.query('START SLAVE SQL_THREAD');
      await replica.end();
    }
    await eventually(async () => expect(await rawGet(`/v3/servers/${id}`, token)).toBe(200), {
      timeoutMs: 10_000,
      intervalMs: 50,
    });
    await waitForServer(token, id, ['ACTIVE']);
    await call('DELETE', `/v3/servers/${id}`, { token });
    await waitForServer(token, id, ['DELETED']);
  });

  it('keeps the replica view admin-only and rejects a malformed token', async () => {
    const token = await login();
    const status = await call<ReplicaView>('GET', '/v3/os-database-replicas', { token });
    expect(status.body.replicas[0]).toHaveProperty('replica_position');
    const bad = await fetch(`${stackInfo().apiUrl}/v3/servers`, {
      headers: { 'x-auth-token': token, 'x-consistency-token': "0-1-1'; DROP TABLE instances" },
    });
    expect(bad.status).toBe(400);
  });
});
