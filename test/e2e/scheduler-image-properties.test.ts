import { randomUUID } from 'node:crypto';
import { eq, inArray } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hostCapabilities, images, instances } from '../../schema/tables/index.ts';
import { call, IMAGE, login, primaryDb, waitForServer } from '../helpers/api.ts';
import { startRegisteredTestAgent } from '../helpers/hosts.ts';

// One real agent alone in its own zone, declared by an admin to be a TILE-Gx host; an image of that
// architecture in the catalogue. The image's properties reach the scheduler from the instance's
// image_ref (functions/scheduler/spec-from-instance.ts).
const ZONE = 'az-sched-tilegx';
const HOST = 'sched-tilegx-1';
const TILEGX_IMAGE = randomUUID();

describe('image properties decide where a server can run', () => {
  let token: string;
  let agent: { stop(): Promise<void> };
  const ids: string[] = [];

  async function boot(name: string, imageRef: string, zone: string) {
    const response = await call<{ server: { id: string } }>('POST', '/v3/servers', {
      token,
      body: { server: { name, image_ref: imageRef, flavor_ref: '1', availability_zone: zone } },
    });
    expect(response.status, JSON.stringify(response.body)).toBe(202);
    ids.push(response.body.server.id);
    return waitForServer(token, response.body.server.id, ['ACTIVE', 'ERROR']);
  }

  beforeAll(async () => {
    token = await login();
    await primaryDb()
      .insert(images)
      .values({
        uuid: TILEGX_IMAGE,
        name: 'sched-tilegx',
        status: 'active',
        disk_format: 'raw',
        container_format: 'bare',
        visibility: 'public',
        properties: { architecture: 'tilegx' },
        created_at: new Date(),
      });
    agent = await startRegisteredTestAgent({
      host: HOST,
      availabilityZone: ZONE,
      vcpus: 4,
      memoryMb: 8192,
      localGb: 40,
    });
    const declared = await call('PUT', `/v3/os-scheduler/hosts/${HOST}/capabilities`, {
      token,
      body: { capabilities: { architecture: 'tilegx' } },
    });
    expect(declared.status).toBe(200);
  });

  afterAll(async () => {
    await Promise.all(ids.map((id) => call('DELETE', `/v3/servers/${id}`, { token })));
    await Promise.all(ids.map((id) => waitForServer(token, id, ['DELETED'], 60_000).catch(() => null)));
    await agent.stop();
    await primaryDb().delete(hostCapabilities).where(eq(hostCapabilities.host, HOST));
    await primaryDb().delete(images).where(eq(images.uuid, TILEGX_IMAGE));
  }, 120_000);

  it('lands a tilegx image on the tilegx host, and nowhere else', async () => {
    const landed = await boot('tilegx-here', TILEGX_IMAGE, ZONE);
    expect(landed?.status).toBe('ACTIVE');
    expect(landed?.['os-extended-server-attributes:host']).toBe(HOST);

    // az-1's hosts declare nothing: they run x86_64 only.
    const elsewhere = await boot('tilegx-elsewhere', TILEGX_IMAGE, 'az-1');
    expect(elsewhere?.status).toBe('ERROR');
    expect(elsewhere?.fault?.message).toMatch(/No valid host was found.*ImagePropertiesFilter: \d/);
    // The image filter is what turned az-1's hosts down (above). The fault message is cut at
    // 255 characters, and which hosts it names first depends on the fleet the other tests built.
  });

  it('keeps an x86_64 image off the tilegx host', async () => {
    const refused = await boot('x86-on-tilegx', IMAGE, ZONE);
    expect(refused?.status).toBe('ERROR');
    // The zone's only host is the one the filter turned down.
    expect(refused?.fault?.message).toMatch(/No valid host was found.*ImagePropertiesFilter: 1\b/);
    const rows = await primaryDb()
      .select({ host: instances.host })
      .from(instances)
      .where(inArray(instances.uuid, ids.slice(-1)));
    expect(rows).toEqual([{ host: null }]);
  });
});
