import { eq } from 'drizzle-orm';
import { beforeAll, describe, expect, it } from 'vitest';
import { instances, keyPairs, users } from '../../schema/tables/index.ts';
import { call, createServer, IMAGE, login, primaryDb, stackInfo, waitForServer } from '../helpers/api.ts';
import { createMember } from '../helpers/identity.ts';

const BIG_IMAGE = '155d900f-4e14-4e4c-a73d-069cbf4541e6';
const QUEUED_IMAGE = '76fa36fc-c930-4bf3-8c8a-ea2a2420deb6';
const TILEGX_IMAGE = 'a2459075-d96c-40d5-893e-577ff92e721c';

function boot(token: string, server: Record<string, unknown>) {
  return call<{ server: { id: string }; badRequest?: { message: string } }>('POST', '/v3/servers', {
    token,
    body: {
      server: { name: 'opts', image_ref: IMAGE, flavor_ref: '1', availability_zone: 'az-2', ...server },
    },
  });
}

describe('image catalogue', () => {
  it('lists and shows Glance-shaped images, the tilegx one with its architecture', async () => {
    const token = await login();
    const list = await call<{ images: { id: string; name: string; status: string }[] }>(
      'GET',
      '/image/v2/images',
      {
        token,
      },
    );
    expect(list.status).toBe(200);
    expect(list.body.images.map((image) => image.id)).toEqual(
      expect.arrayContaining([IMAGE, BIG_IMAGE, QUEUED_IMAGE, TILEGX_IMAGE]),
    );
    const tilegx = await call<Record<string, unknown>>('GET', `/image/v2/images/${TILEGX_IMAGE}`, { token });
    expect(tilegx.body).toMatchObject({
      id: TILEGX_IMAGE,
      status: 'active',
      disk_format: 'raw',
      container_format: 'bare',
      min_disk: 0,
      min_ram: 0,
      visibility: 'public',
      architecture: 'tilegx',
      hypervisor_type: 'baremetal',
    });
    const missing = await call('GET', '/image/v2/images/00000000-0000-4000-8000-000000000000', { token });
    expect(missing.status).toBe(404);
    expect((await call('GET', '/image/v2/images', { token: null })).status).toBe(401);
  });
});

describe('server create options', () => {
  let token: string;
  let userId: string;

  beforeAll(async () => {
    token = await login();
    const [admin] = await primaryDb().select().from(users).where(eq(users.name, stackInfo().admin.username));
    userId = admin?.id ?? '';
  });

  it('refuses unknown, inactive and too-big images with 400', async () => {
    const unknown = await boot(token, { image_ref: '00000000-0000-4000-8000-000000000000' });
    expect(unknown.status).toBe(400);
    expect(unknown.body.badRequest?.message).toMatch(/image/);
    expect((await boot(token, { image_ref: QUEUED_IMAGE })).status).toBe(400);
    const tooSmall = await boot(token, { image_ref: `http://glance.example.com/images/${BIG_IMAGE}` });
    expect(tooSmall.status).toBe(400);
    expect(tooSmall.body.badRequest?.message).toMatch(/too small/);
  });

  it('stores key_name and user data, and refuses unknown keys and bad user data with 400', async () => {
    await primaryDb().insert(keyPairs).ignore().values({
      name: 'opts-key',
      user_id: userId,
      fingerprint: '00:11',
      public_key: 'ssh-rsa AAAA opts',
      created_at: new Date(),
    });
    expect((await boot(token, { key_name: 'no-such-key' })).status).toBe(400);
    expect((await boot(token, { 'os-user-data:user_data': 'not base64!' })).status).toBe(400);
    expect((await boot(token, { 'os-user-data:user_data': 'A'.repeat(65_536) })).status).toBe(400);
    const userData = Buffer.from('#!/bin/sh\necho hello\n').toString('base64');
    const created = await boot(token, { key_name: 'opts-key', 'os-user-data:user_data': userData });
    expect(created.status).toBe(202);
    const id = created.body.server.id;
    const [row] = await primaryDb().select().from(instances).where(eq(instances.uuid, id));
    expect(row?.key_name).toBe('opts-key');
    expect(row?.user_data).toBe(userData);
    await call('DELETE', `/v3/servers/${id}`, { token });
    await waitForServer(token, id, ['DELETED'], 60_000);
  });
});

describe('server list filters', () => {
  it('filters by name, status, image, flavor, reservation and changes-since; drops members’ admin filters', async () => {
    const admin = await login();
    const since = new Date(Date.now() - 1000).toISOString();
    const first = await createServer(admin, { name: 'filter-alpha', availability_zone: 'az-1' });
    const second = await createServer(admin, {
      name: 'filter-beta',
      flavor_ref: '2',
      availability_zone: 'az-2',
    });
    await waitForServer(admin, first, ['ACTIVE']);
    await waitForServer(admin, second, ['ACTIVE']);
    const names = async (query: string, token = admin) => {
      const response = await call<{ servers: { name: string }[] }>('GET', `/v3/servers?${query}`, { token });
      expect(response.status).toBe(200);
      return response.body.servers.map((server) => server.name).filter((name) => name.startsWith('filter-'));
    };
    expect(await names('name=alph')).toEqual(['filter-alpha']);
    expect(await names('name=filter_')).toEqual([]);
    expect((await names('status=ACTIVE&name=filter-')).sort()).toEqual(['filter-alpha', 'filter-beta']);
    expect(await names('status=SHUTOFF&name=filter-')).toEqual([]);
    expect(await names('flavor=2&name=filter-')).toEqual(['filter-beta']);
    expect((await names(`image=${IMAGE}&name=filter-`)).sort()).toEqual(['filter-alpha', 'filter-beta']);
    const [row] = await primaryDb().select().from(instances).where(eq(instances.uuid, first));
    expect(await names(`reservation_id=${row?.reservation_id}`)).toEqual(['filter-alpha']);
    const [host] = (await primaryDb().select().from(instances).where(eq(instances.uuid, second))).map(
      (instance) => instance.host,
    );
    expect(await names(`host=${host}&name=filter-`)).toEqual(['filter-beta']);

    await call('DELETE', `/v3/servers/${first}`, { token: admin });
    await waitForServer(admin, first, ['DELETED'], 60_000);
    expect(await names('name=filter-')).toEqual(['filter-beta']);
    const changes = await call<{ servers: { name: string; status: string }[] }>(
      'GET',
      `/v3/servers/detail?changes-since=${encodeURIComponent(since)}&name=filter-`,
      { token: admin },
    );
    expect(changes.body.servers.map((server) => [server.name, server.status]).sort()).toEqual([
      ['filter-alpha', 'DELETED'],
      ['filter-beta', 'ACTIVE'],
    ]);
    expect((await call('GET', '/v3/servers?changes-since=yesterday', { token: admin })).status).toBe(400);

    await createMember('filter-member', 'filter-password');
    const member = await login('filter-member', 'filter-password');
    const own = await createServer(member, { name: 'filter-member-server', availability_zone: 'az-1' });
    // An admin-only filter from a member is dropped, not applied: the member still sees its server.
    expect(await names('host=no-such-host&bogus=1', member)).toEqual(['filter-member-server']);
    await call('DELETE', `/v3/servers/${own}`, { token: member });
    await call('DELETE', `/v3/servers/${second}`, { token: admin });
    await waitForServer(member, own, ['DELETED'], 60_000);
    await waitForServer(admin, second, ['DELETED'], 60_000);
  });
});
