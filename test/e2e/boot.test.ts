import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { and, eq, inArray } from 'drizzle-orm';
import { beforeAll, describe, expect, it } from 'vitest';
import { FAKE_STATE_FILE } from '../../agent/drivers/fake.ts';
import { computeNodes, instances, resourceClaims } from '../../schema/tables/index.ts';
import { call, createServer, login, primaryDb, stackInfo, waitForServer } from '../helpers/api.ts';

// The default fleet: compute-1 and compute-2 in az-1, compute-3 in az-2 (infra/local/agents.ts).
const FLEET = ['compute-1', 'compute-2', 'compute-3'];

async function nodeUsage() {
  const db = primaryDb();
  const nodes = await db.select().from(computeNodes).where(inArray(computeNodes.host, FLEET));
  const claims = await db
    .select()
    .from(resourceClaims)
    .where(
      inArray(
        resourceClaims.compute_node_id,
        nodes.map((node) => node.id),
      ),
    );
  return nodes.map((node) => ({
    node,
    claimedMb: claims
      .filter((claim) => claim.compute_node_id === node.id)
      .reduce((sum, claim) => sum + claim.memory_mb, 0),
  }));
}

describe('booting servers end to end', () => {
  let token: string;
  beforeAll(async () => {
    token = await login();
  });

  it('boots 10 servers concurrently: all ACTIVE on a host, no host over its RAM, claims add up', async () => {
    const ids = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        createServer(token, {
          name: `concurrent-${i}`,
          flavor_ref: '3',
          availability_zone: i % 2 ? 'az-1' : 'az-2',
        }),
      ),
    );
    const servers = await Promise.all(ids.map((id) => waitForServer(token, id, ['ACTIVE', 'ERROR'])));
    for (const server of servers) {
      expect(server?.status, JSON.stringify(server?.fault)).toBe('ACTIVE');
      expect(FLEET).toContain(server?.['os-extended-server-attributes:host']);
    }
    const zones = servers.map((server) => server?.['os-extended-availability-zone:availability_zone']);
    expect(zones.filter((zone) => zone === 'az-2')).toHaveLength(5);

    for (const { node, claimedMb } of await nodeUsage()) {
      expect(node.memory_mb_used).toBeLessThanOrEqual(node.memory_mb * node.ram_allocation_ratio);
      expect(node.memory_mb_used).toBe(claimedMb);
    }

    const guestsOnHosts = async () =>
      (
        await Promise.all(
          FLEET.map((host) =>
            readFile(join(stackInfo().dataDir, 'agents', host, FAKE_STATE_FILE), 'utf8').catch(() => ''),
          ),
        )
      ).join('\n');
    for (const id of ids) expect(await guestsOnHosts()).toContain(id);

    await Promise.all(ids.map((id) => call('DELETE', `/v3/servers/${id}`, { token })));
    await Promise.all(ids.map((id) => waitForServer(token, id, ['DELETED'])));
    const leftover = await primaryDb()
      .select()
      .from(resourceClaims)
      .where(inArray(resourceClaims.instance_uuid, ids));
    expect(leftover).toEqual([]);
    // The hosts destroyed the guests too, not only the database rows.
    const remaining = await guestsOnHosts();
    for (const id of ids) expect(remaining).not.toContain(id);
  });

  it('shows a created server with its flavor, host and Havana v3 view keys, and lists it', async () => {
    const id = await createServer(token, { name: 'show-me', availability_zone: 'az-1' });
    const server = await waitForServer(token, id, ['ACTIVE']);
    expect(server).toMatchObject({
      id,
      name: 'show-me',
      status: 'ACTIVE',
      flavor: { id: '1' },
      'os-extended-status:vm_state': 'active',
      'os-extended-status:task_state': null,
      'os-extended-status:power_state': 1,
      'os-extended-availability-zone:availability_zone': 'az-1',
    });
    const list = await call<{ servers: Array<{ id: string; name: string }> }>('GET', '/v3/servers', {
      token,
    });
    expect(list.body.servers).toContainEqual(expect.objectContaining({ id, name: 'show-me' }));
    const [row] = await primaryDb()
      .select()
      .from(instances)
      .where(and(eq(instances.uuid, id), eq(instances.deleted, 0)));
    expect(row?.host).toBe(server?.['os-extended-server-attributes:host']);
    await call('DELETE', `/v3/servers/${id}`, { token });
    await waitForServer(token, id, ['DELETED']);
  });

  it('serves the version documents and the seeded flavors', async () => {
    const root = await call<{ versions: Array<{ id: string }> }>('GET', '/', { token: null });
    expect(root.body.versions.map((version) => version.id)).toEqual(['v2.0', 'v2.1', 'v3.0']);
    const flavors = await call<{ flavors: Array<{ name: string; ram: number }> }>(
      'GET',
      '/v3/flavors/detail',
      { token },
    );
    // Other files add flavors of their own to the shared cloud; the seeded ones are all there, in order.
    const seeded = flavors.body.flavors.map((flavor) => flavor.name).filter((name) => name.startsWith('m1.'));
    expect(seeded).toEqual(['m1.tiny', 'm1.small', 'm1.medium', 'm1.large', 'm1.xlarge']);
    const tiny = await call<{ flavor: { ram: number; vcpus: number; disk: number } }>(
      'GET',
      '/v3/flavors/1',
      { token },
    );
    expect(tiny.body.flavor).toMatchObject({ ram: 512, vcpus: 1, disk: 1 });
  });
});
