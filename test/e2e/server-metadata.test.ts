import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, createServer, login, waitForServer } from '../helpers/api.ts';
import { createMember } from '../helpers/identity.ts';

describe('server metadata', () => {
  let token: string;
  let id: string;
  const path = () => `/v3/servers/${id}/metadata`;

  beforeAll(async () => {
    token = await login();
    id = await createServer(token, { name: 'tagged', availability_zone: 'az-2' });
    await waitForServer(token, id, ['ACTIVE', 'ERROR']);
  });

  afterAll(async () => {
    if (!id) return;
    await call('DELETE', `/v3/servers/${id}`, { token });
    await waitForServer(token, id, ['DELETED']);
  });

  it('replaces, merges, shows, sets and deletes items', async () => {
    const replaced = await call('PUT', path(), { token, body: { metadata: { a: '1', b: '2' } } });
    expect(replaced).toMatchObject({ status: 200, body: { metadata: { a: '1', b: '2' } } });
    const merged = await call('POST', path(), { token, body: { metadata: { b: '3', c: '4' } } });
    expect(merged).toMatchObject({ status: 201, body: { metadata: { a: '1', b: '3', c: '4' } } });
    expect((await call('GET', path(), { token })).body).toEqual({ metadata: { a: '1', b: '3', c: '4' } });
    expect((await call('GET', `${path()}/c`, { token })).body).toEqual({ metadata: { c: '4' } });
    const set = await call('PUT', `${path()}/d`, { token, body: { metadata: { d: '5' } } });
    expect(set).toMatchObject({ status: 200, body: { metadata: { d: '5' } } });
    expect((await call('DELETE', `${path()}/a`, { token })).status).toBe(204);
    expect((await call('GET', `${path()}/a`, { token })).status).toBe(404);
    expect((await call('DELETE', `${path()}/a`, { token })).status).toBe(404);
    const server = await call<{ server: { metadata: Record<string, string> } }>('GET', `/v3/servers/${id}`, {
      token,
    });
    expect(server.body.server.metadata).toEqual({ b: '3', c: '4', d: '5' });
  });

  it('rejects bad input with 400 and writes nothing', async () => {
    await call('PUT', path(), { token, body: { metadata: { keep: 'me' } } });
    const longValue = await call('POST', path(), { token, body: { metadata: { k: 'x'.repeat(256) } } });
    expect(longValue.status).toBe(400);
    const longKey = await call('POST', path(), { token, body: { metadata: { ['k'.repeat(256)]: 'v' } } });
    expect(longKey.status).toBe(400);
    const tooMany = Object.fromEntries(Array.from({ length: 129 }, (_, i) => [`key-${i}`, 'v']));
    const overLimit = await call('PUT', path(), { token, body: { metadata: tooMany } });
    expect(overLimit.status).toBe(400);
    const mismatch = await call('PUT', `${path()}/one`, { token, body: { metadata: { two: 'v' } } });
    expect(mismatch.status).toBe(400);
    expect((await call('GET', path(), { token })).body).toEqual({ metadata: { keep: 'me' } });
  });

  it('loses no write when many clients set different keys at once', async () => {
    await call('PUT', path(), { token, body: { metadata: {} } });
    const keys = Array.from({ length: 20 }, (_, i) => `race-${i}`);
    const results = await Promise.all(
      keys.map((key) => call('PUT', `${path()}/${key}`, { token, body: { metadata: { [key]: key } } })),
    );
    expect(results.map((result) => result.status)).toEqual(keys.map(() => 200));
    const all = await call<{ metadata: Record<string, string> }>('GET', path(), { token });
    expect(Object.keys(all.body.metadata).sort()).toEqual([...keys].sort());
  });

  it("another project's server metadata is a 404", async () => {
    const name = `meta-${crypto.randomUUID().slice(0, 8)}`;
    await createMember(name, 'secret-pw');
    const other = await login(name, 'secret-pw');
    expect((await call('GET', path(), { token: other })).status).toBe(404);
    expect((await call('POST', path(), { token: other, body: { metadata: { x: 'y' } } })).status).toBe(404);
  });
});
