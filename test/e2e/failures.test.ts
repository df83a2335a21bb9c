import { and, eq, inArray, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { computeNodes, flavors, resourceClaims } from '../../schema/tables/index.ts';
import { call, createServer, login, primaryDb, waitForServer } from '../helpers/api.ts';
import { startRegisteredTestAgent } from '../helpers/hosts.ts';

// A host whose fake driver fails every spawn, alone in its zone so only this test's boots land there.
const HOST = 'failing-spawn-1';
const ZONE = 'az-failing-spawn';

describe('a host that fails to spawn', () => {
  let token: string;
  let stopAgent: () => Promise<void>;

  beforeAll(async () => {
    token = await login();
    const agent = await startRegisteredTestAgent({
      host: HOST,
      availabilityZone: ZONE,
      env: { AGENT_FAKE_FAIL: 'spawn' },
    });
    stopAgent = () => agent.stop();
  });

  afterAll(async () => {
    await stopAgent?.();
  });

  it('puts the server in ERROR with a fault naming the failure, and frees the claim', async () => {
    const id = await createServer(token, { name: 'doomed', availability_zone: ZONE });
    const server = await waitForServer(token, id, ['ERROR', 'ACTIVE']);
    expect(server?.status).toBe('ERROR');
    expect(server?.fault).toMatchObject({ code: 500 });
    expect(server?.fault?.message).toMatch(/inject|fail/i);

    const claims = await primaryDb()
      .select()
      .from(resourceClaims)
      .where(inArray(resourceClaims.instance_uuid, [id]));
    expect(claims).toEqual([]);
    const [node] = await primaryDb().select().from(computeNodes).where(eq(computeNodes.host, HOST));
    expect(node).toMatchObject({ memory_mb_used: 0, vcpus_used: 0, local_gb_used: 0, running_vms: 0 });

    const deleted = await call('DELETE', `/v3/servers/${id}`, { token });
    expect(deleted.status).toBe(204);
    await waitForServer(token, id, ['DELETED']);
  });

  it('gives NoValidHost as the fault when no host has room, and holds no claim', async () => {
    // Flavor management is its own extension; the test writes the oversized flavor directly.
    await primaryDb()
      .insert(flavors)
      .values({
        flavorid: 'test-huge',
        name: 'test.huge',
        memory_mb: 10_000_000,
        vcpus: 1,
        root_gb: 1,
        created_at: new Date(),
      })
      .onDuplicateKeyUpdate({ set: { memory_mb: 10_000_000 } });
    const id = await createServer(token, { name: 'too-big', flavor_ref: 'test-huge' });
    const server = await waitForServer(token, id, ['ERROR', 'ACTIVE']);
    expect(server?.status).toBe('ERROR');
    expect(server?.fault?.message).toMatch(/No valid host was found/);
    expect(server?.['os-extended-server-attributes:host']).toBeNull();
    const claims = await primaryDb()
      .select()
      .from(resourceClaims)
      .where(eq(resourceClaims.instance_uuid, id));
    expect(claims).toEqual([]);
    await call('DELETE', `/v3/servers/${id}`, { token });
    await waitForServer(token, id, ['DELETED']);
    // Soft-deleted as flavor-manage would, so no later file lists it among the cloud's flavors.
    await primaryDb()
      .update(flavors)
      .set({ deleted: sql`${flavors.id}`, deleted_at: new Date() })
      .where(and(eq(flavors.flavorid, 'test-huge'), eq(flavors.deleted, 0)));
  });
});
