import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../functions/api/app.ts';
import { instanceFaults, instances } from '../../schema/tables/index.ts';
import { login, primaryDb, replicaCaughtUp, stackInfo } from '../helpers/api.ts';
import { createMember } from '../helpers/identity.ts';
import { newInstanceRow } from '../helpers/instance-rows.ts';

// Runs the API app in this process (same code as the worker) so every database round trip can be
// counted: the PlanetScale driver speaks HTTP, one fetch per query, to the bridges.
const SERVERS = 60;

describe('GET /v3/servers/detail costs a constant number of queries', () => {
  let token: string;
  let projectId: string;
  const originalFetch = globalThis.fetch;
  let databaseCalls = 0;

  beforeAll(async () => {
    ({ projectId } = await createMember('detail-queries', 'detail-password'));
    token = await login('detail-queries', 'detail-password');
    const now = Date.now();
    const rows = Array.from({ length: SERVERS }, (_, i) =>
      newInstanceRow({
        project_id: projectId,
        // Every third server is in ERROR with a fault, so faults are part of the page.
        vm_state: i % 3 === 0 ? 'error' : 'active',
        metadata: { index: String(i) },
        created_at: new Date(now - i * 1000),
      }),
    );
    await primaryDb().insert(instances).values(rows);
    await primaryDb()
      .insert(instanceFaults)
      .values(
        rows
          .filter((row) => row.vm_state === 'error')
          .map((row) => ({ instance_uuid: row.uuid, code: 500, message: 'boom', created_at: new Date() })),
      );
    await replicaCaughtUp();
    const databaseOrigins = [stackInfo().database.primaryUrl, stackInfo().database.replicaUrl].map(
      (url) => new URL(url).host,
    );
    globalThis.fetch = (input, init) => {
      const url = new URL(input instanceof Request ? input.url : String(input));
      if (databaseOrigins.includes(url.host)) databaseCalls++;
      return originalFetch(input, init);
    };
  });

  afterAll(() => {
    globalThis.fetch = originalFetch;
  });

  async function queriesFor(limit: number): Promise<{ queries: number; servers: number }> {
    const app = createApp();
    databaseCalls = 0;
    const response = await app.request(
      `/v3/servers/detail?limit=${limit}`,
      { headers: { 'x-auth-token': token } },
      stackInfo().env,
    );
    const body = (await response.json()) as { servers: Array<{ fault?: unknown }> };
    expect(response.status).toBe(200);
    return { queries: databaseCalls, servers: body.servers.length };
  }

  it('is the same for a page of 3 and a page of 60, faults included', async () => {
    const small = await queriesFor(3);
    const large = await queriesFor(SERVERS);
    expect(small.servers).toBe(3);
    expect(large.servers).toBe(SERVERS);
    expect(large.queries).toBe(small.queries);
    // Per request: the replica fences and the token's revocation check (both on the primary), then the
    // page query, one query for the page's faults and one for its servers' network caches.
    expect(large.queries).toBe(5);
  });
});
