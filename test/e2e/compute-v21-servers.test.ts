import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, IMAGE, login, stackInfo } from '../helpers/api.ts';
import { createMember } from '../helpers/identity.ts';
import {
  expectSettled,
  instanceRow,
  type MoveHost,
  startMoveHost,
  waitForMigration,
} from '../helpers/moves.ts';
import { waitUntil } from '../helpers/wait.ts';

// The /v2.1 servers routes as Debian 12's novaclient (2.1) and openstacksdk (negotiated) drive them:
// v2.1 bodies and names, served by the v3 handlers. The servers run on two hosts of this file's own zone.
const suffix = crypto.randomUUID().slice(0, 8);
const ZONE = `az-v21-servers-${suffix}`;
const HOSTS = [`v21-a-${suffix}`, `v21-b-${suffix}`];

type Server = Record<string, unknown> & { id: string; status: string };

let admin: string;
const hosts: MoveHost[] = [];

beforeAll(async () => {
  admin = await login();
  for (const host of HOSTS) hosts.push(await startMoveHost({ host, availabilityZone: ZONE }));
});

afterAll(async () => {
  await Promise.all(hosts.map((host) => host.stop()));
});

/** A v2.1 call at `version` (2.1 names no version, as OSC's novaclient does not). */
function v21<T = Record<string, unknown>>(
  method: string,
  path: string,
  options: { token?: string; body?: unknown; version?: string } = {},
) {
  const headers: Record<string, string> = options.version
    ? { 'OpenStack-API-Version': `compute ${options.version}` }
    : {};
  return call<T>(method, `/v2.1${path}`, { token: options.token ?? admin, body: options.body, headers });
}

/** The highest microversion the API advertises: the features a test may ask for at most. */
async function maxMinor(): Promise<number> {
  const doc = await call<{ version: { version: string } }>('GET', '/v2.1/', { token: null });
  return Number(doc.body.version.version.split('.')[1]);
}

function createBody(name: string, server: Record<string, unknown> = {}) {
  return {
    server: {
      name,
      imageRef: `${stackInfo().apiUrl}/images/${IMAGE}`,
      flavorRef: '1',
      availability_zone: ZONE,
      min_count: 1,
      max_count: 1,
      networks: [],
      ...server,
    },
  };
}

async function waitV21(id: string, statuses: string[], token = admin): Promise<Server | null> {
  const answer = await waitUntil(
    `server ${id} to reach ${statuses.join('/')} through /v2.1`,
    async () => {
      const response = await v21<{ server: Server }>('GET', `/servers/${id}`, { token });
      return { status: response.status, body: response.body };
    },
    {
      timeoutMs: 40_000,
      intervalMs: 100,
      until: ({ status, body }) =>
        (status === 404 && statuses.includes('DELETED')) ||
        (status === 200 && statuses.includes(body.server.status)),
    },
  );
  return answer.status === 404 ? null : answer.body.server;
}

async function bootActive(name: string, token = admin): Promise<Server> {
  const created = await v21<{ server: { id: string } }>('POST', '/servers', {
    token,
    body: createBody(name),
  });
  expect(created.status, JSON.stringify(created.body)).toBe(202);
  const server = await waitV21(created.body.server.id, ['ACTIVE', 'ERROR'], token);
  expect(server?.status).toBe('ACTIVE');
  return server as Server;
}

const action = (id: string, body: unknown, options: { token?: string; version?: string } = {}) =>
  v21('POST', `/servers/${id}/action`, { ...options, body });

describe('POST /v2.1/servers and the v2.1 server view', () => {
  it('boots from a v2.1 body and shows the server with v2.1 names at 2.1', async () => {
    const created = await v21<{ server: Record<string, unknown> }>('POST', '/servers', {
      body: {
        ...createBody(`v21-boot-${suffix}`, {
          metadata: { role: 'web' },
          security_groups: [{ name: 'default' }],
          adminPass: 'chosen-password',
          'OS-DCF:diskConfig': 'MANUAL',
        }),
        'os:scheduler_hints': {},
      },
    });
    expect(created.status, JSON.stringify(created.body)).toBe(202);
    const id = String(created.body.server.id);
    expect(created.headers.get('location')).toBe(`${stackInfo().apiUrl}/v2.1/servers/${id}`);
    expect(created.body.server).toEqual({
      id,
      links: [
        { rel: 'self', href: `${stackInfo().apiUrl}/v2.1/servers/${id}` },
        { rel: 'bookmark', href: `${stackInfo().apiUrl}/servers/${id}` },
      ],
      'OS-DCF:diskConfig': 'MANUAL',
      security_groups: [{ name: 'default' }],
      adminPass: 'chosen-password',
    });

    const server = await waitV21(id, ['ACTIVE', 'ERROR']);
    expect(server).toMatchObject({
      id,
      name: `v21-boot-${suffix}`,
      status: 'ACTIVE',
      metadata: { role: 'web' },
      hostId: expect.stringMatching(/^[0-9a-f]{56}$/),
      accessIPv4: '',
      accessIPv6: '',
      addresses: {},
      image: { id: IMAGE, links: [{ rel: 'bookmark', href: `${stackInfo().apiUrl}/images/${IMAGE}` }] },
      flavor: { id: '1', links: [{ rel: 'bookmark', href: `${stackInfo().apiUrl}/flavors/1` }] },
      'OS-EXT-STS:vm_state': 'active',
      'OS-EXT-STS:task_state': null,
      'OS-EXT-STS:power_state': 1,
      'OS-EXT-SRV-ATTR:host': expect.toBeOneOf(HOSTS),
      'OS-EXT-SRV-ATTR:hypervisor_hostname': expect.any(String),
      'OS-EXT-SRV-ATTR:instance_name': expect.stringMatching(/^instance-[0-9a-f]{8}$/),
      'OS-EXT-AZ:availability_zone': ZONE,
      'OS-SRV-USG:launched_at': expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}$/),
      'OS-SRV-USG:terminated_at': null,
      'OS-DCF:diskConfig': 'MANUAL',
      config_drive: '',
      'os-extended-volumes:volumes_attached': [],
      security_groups: [{ name: 'default' }],
      created: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/),
      updated: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/),
    });
    // Neither v3's names nor what later microversions add.
    for (const key of ['host_id', 'access_ip_v4', 'os-extended-status:locked_by', 'locked', 'host_status']) {
      expect(server).not.toHaveProperty([key]);
    }
    expect(server).not.toHaveProperty(['OS-EXT-SRV-ATTR:reservation_id']);
  });

  it('adds the 2.3 attributes at 2.3, and at the highest microversion what each one up to it adds', async () => {
    const user_data = btoa('#!/bin/sh\necho hello\n');
    const created = await v21<{ server: { id: string } }>('POST', '/servers', {
      body: createBody(`v21 Later.Version_${suffix}`, { user_data }),
      version: '2.3',
    });
    expect(created.status, JSON.stringify(created.body)).toBe(202);
    const id = created.body.server.id;
    await waitV21(id, ['ACTIVE']);
    const at23 = await v21<{ server: Server }>('GET', `/servers/${id}`, { version: '2.3' });
    expect(at23.headers.get('x-openstack-nova-api-version')).toBe('2.3');
    expect(at23.body.server).toMatchObject({
      'OS-EXT-SRV-ATTR:reservation_id': expect.stringMatching(/^r-/),
      'OS-EXT-SRV-ATTR:launch_index': 0,
      'OS-EXT-SRV-ATTR:hostname': `v21-later-version-${suffix}`,
      'OS-EXT-SRV-ATTR:kernel_id': '',
      'OS-EXT-SRV-ATTR:ramdisk_id': '',
      'OS-EXT-SRV-ATTR:root_device_name': null,
      'OS-EXT-SRV-ATTR:user_data': user_data,
    });
    // A member sees none of the host attributes, old or new.
    const member = `v21-member-${suffix}`;
    await createMember(member, 'member-password');
    const memberToken = await login(member, 'member-password');
    const own = await bootActive(`v21-own-${suffix}`, memberToken);
    const seen = await v21<{ server: Server }>('GET', `/servers/${own.id}`, {
      token: memberToken,
      version: '2.3',
    });
    expect(Object.keys(seen.body.server).filter((key) => key.startsWith('OS-EXT-SRV-ATTR:'))).toEqual([]);
    // Before 2.51 an action's events are for admins only.
    const [boot] = (
      await v21<{ instanceActions: Array<{ request_id: string }> }>(
        'GET',
        `/servers/${own.id}/os-instance-actions`,
        {
          token: memberToken,
        },
      )
    ).body.instanceActions;
    const shown = await v21<{ instanceAction: Record<string, unknown> }>(
      'GET',
      `/servers/${own.id}/os-instance-actions/${boot?.request_id}`,
      { token: memberToken },
    );
    expect(shown.body.instanceAction).toMatchObject({ action: 'create' });
    expect(shown.body.instanceAction).not.toHaveProperty(['events']);

    const max = await maxMinor();
    const latest = await v21<{ server: Server }>('GET', `/servers/${id}`, { version: `2.${max}` });
    const view = latest.body.server;
    expect(view).toHaveProperty(['OS-EXT-SRV-ATTR:launch_index'], 0);
    if (max >= 9) expect(view.locked).toBe(false);
    if (max >= 16) expect(view.host_status).toBe('UP');
    if (max >= 47) {
      expect(view.flavor).toEqual({
        vcpus: 1,
        ram: 512,
        disk: 1,
        ephemeral: 0,
        swap: 0,
        original_name: 'm1.tiny',
        extra_specs: expect.any(Object),
      });
    }
    // Created at 2.3, before descriptions: Nova describes such a server by its name.
    if (max >= 19) expect(view.description).toBe(`v21 Later.Version_${suffix}`);
    if (max >= 26) expect(view.tags).toEqual([]);
    if (max >= 63) expect(view.trusted_image_certificates).toBeNull();
    if (max >= 73) expect(view.locked_reason).toBeNull();
    if (max >= 96) expect(view.pinned_availability_zone).toBe(ZONE);
    if (max >= 100) expect(view.scheduler_hints).toEqual({});
  });

  it('refuses what it cannot honour, naming the field, and writes nothing', async () => {
    const refused = async (server: Record<string, unknown>, pattern: RegExp, extra: object = {}) => {
      const response = await v21('POST', '/servers', {
        body: { ...createBody(`v21-refused-${suffix}`, server), ...extra },
      });
      expect(response.status, JSON.stringify(server)).toBe(400);
      expect(JSON.stringify(response.body)).toMatch(pattern);
    };
    await refused({ colour: 'blue' }, /server\.colour/);
    await refused({ networks: [{ uuid: crypto.randomUUID() }] }, /Network [0-9a-f-]+ could not be found/);
    await refused({ networks: 'auto' }, /server\.networks/);
    await refused({ security_groups: [{ name: 'web' }] }, /default security group/);
    await refused({ block_device_mapping_v2: [{ boot_index: 0 }] }, /no block storage/);
    await refused({ accessIPv4: '192.0.2.1' }, /access IPs/);
    await refused({ imageRef: '' }, /server\.imageRef/);
    await refused({ flavorRef: 'no-such-flavor' }, /Invalid flavorRef provided/);
    await refused({}, /unknown_sibling/, { unknown_sibling: {} });
    const listed = await v21<{ servers: unknown[] }>('GET', `/servers?name=v21-refused-${suffix}`);
    expect(listed.body.servers).toEqual([]);
  });

  it('answers a create over quota with 403, and a reservation id when asked for one', async () => {
    const member = `v21-quota-${suffix}`;
    const { projectId } = await createMember(member, 'quota-password');
    const token = await login(member, 'quota-password');
    const limit = await call('PUT', `/v3/os-quota-sets/${projectId}`, {
      token: admin,
      body: { quota_set: { instances: 0 } },
    });
    expect(limit.status).toBe(200);
    const over = await v21('POST', '/servers', { token, body: createBody(`v21-over-${suffix}`) });
    expect(over.status).toBe(403);
    expect(over.body).toMatchObject({
      forbidden: { code: 403, message: expect.stringMatching(/instances/) },
    });
    expect(over.headers.get('retry-after')).toBeNull();

    const reserved = await v21<{ reservation_id: string }>('POST', '/servers', {
      body: createBody(`v21-reserved-${suffix}`, { return_reservation_id: true }),
    });
    expect(reserved.status).toBe(202);
    expect(Object.keys(reserved.body)).toEqual(['reservation_id']);
    const byReservation = await v21<{ servers: Server[] }>(
      'GET',
      `/servers/detail?reservation_id=${reserved.body.reservation_id}`,
    );
    expect(byReservation.body.servers.map((server) => server.name)).toEqual([`v21-reserved-${suffix}`]);
  });
});

describe('GET, PUT and DELETE /v2.1/servers', () => {
  it('lists, pages, filters and details servers with v2.1 links', async () => {
    const first = await bootActive(`v21-list-1-${suffix}`);
    const second = await bootActive(`v21-list-2-${suffix}`);
    const listed = await v21<{ servers: Array<{ id: string; name: string; links: unknown }> }>(
      'GET',
      `/servers?name=v21-list-`,
    );
    expect(listed.status).toBe(200);
    const mine = listed.body.servers.filter((server) => server.name.endsWith(suffix));
    expect(mine.map((server) => server.id)).toEqual([second.id, first.id]);
    expect(mine[0]).toEqual({
      id: second.id,
      name: `v21-list-2-${suffix}`,
      links: [
        { rel: 'self', href: `${stackInfo().apiUrl}/v2.1/servers/${second.id}` },
        { rel: 'bookmark', href: `${stackInfo().apiUrl}/servers/${second.id}` },
      ],
    });

    const page = await v21<{
      servers: Array<{ id: string }>;
      servers_links: Array<{ rel: string; href: string }>;
    }>('GET', `/servers/detail?name=-${suffix}&limit=1`);
    expect(page.body.servers).toHaveLength(1);
    const next = new URL(page.body.servers_links[0]?.href ?? '');
    expect(next.pathname).toBe('/v2.1/servers/detail');
    expect(next.searchParams.get('marker')).toBe(page.body.servers[0]?.id);
    const rest = await v21<{ servers: Server[] }>(
      'GET',
      `${next.pathname.slice('/v2.1'.length)}${next.search}`,
    );
    expect(rest.body.servers[0]?.id).not.toBe(page.body.servers[0]?.id);
    expect(rest.body.servers[0]).toHaveProperty(['OS-EXT-STS:vm_state']);

    // No server has an address yet, so an address filter matches none.
    const byIp = await v21<{ servers: unknown[] }>('GET', `/servers?name=v21-list-&ip=10.0.0.1`);
    expect(byIp.body.servers).toEqual([]);
    const byStatus = await v21<{ servers: Server[] }>(
      'GET',
      `/servers/detail?name=-${suffix}&status=shutoff`,
    );
    expect(byStatus.body.servers).toEqual([]);
  });

  it('renames with PUT, refuses what it cannot store, and deletes with 204 until the server is gone', async () => {
    const server = await bootActive(`v21-rename-${suffix}`);
    const renamed = await v21<{ server: Server }>('PUT', `/servers/${server.id}`, {
      body: { server: { name: `v21-renamed-${suffix}` } },
    });
    expect(renamed.status).toBe(200);
    expect(renamed.body.server).toMatchObject({
      id: server.id,
      name: `v21-renamed-${suffix}`,
      accessIPv4: '',
    });
    const access = await v21('PUT', `/servers/${server.id}`, {
      body: { server: { accessIPv6: '2001:db8::1' } },
    });
    expect(access.status).toBe(400);
    const unknown = await v21('PUT', `/servers/${server.id}`, { body: { server: { description: 'x' } } });
    expect(unknown.status).toBe(400);

    const deleted = await v21('DELETE', `/servers/${server.id}`);
    expect(deleted.status).toBe(204);
    expect(await waitV21(server.id, ['DELETED'])).toBeNull();
    const gone = await v21('GET', `/servers/${server.id}`);
    expect(gone.body).toMatchObject({ itemNotFound: { code: 404 } });
  });

  it('keeps metadata under v2.1 names: merge 200, one item as meta', async () => {
    const server = await bootActive(`v21-meta-${suffix}`);
    const base = `/servers/${server.id}/metadata`;
    const merged = await v21('POST', base, { body: { metadata: { a: '1' } } });
    expect(merged).toMatchObject({ status: 200, body: { metadata: { a: '1' } } });
    expect((await v21('GET', `${base}/a`)).body).toEqual({ meta: { a: '1' } });
    const set = await v21('PUT', `${base}/b`, { body: { meta: { b: '2' } } });
    expect(set).toMatchObject({ status: 200, body: { meta: { b: '2' } } });
    expect((await v21('PUT', `${base}/b`, { body: { meta: { c: '3' } } })).status).toBe(400);
    expect((await v21('DELETE', `${base}/a`)).status).toBe(204);
    expect((await v21('GET', base)).body).toEqual({ metadata: { b: '2' } });
    const tooMany = Object.fromEntries(Array.from({ length: 129 }, (_, index) => [`k${index}`, 'v']));
    const overLimit = await v21('PUT', base, { body: { metadata: tooMany } });
    expect(overLimit.status).toBe(403);
    expect((await v21('GET', `/servers/${server.id}/ips`)).body).toEqual({ addresses: {} });
  });
});

describe('POST /v2.1/servers/{id}/action', () => {
  it('stops, starts and reboots (any case of the type)', async () => {
    const server = await bootActive(`v21-power-${suffix}`);
    const steps: Array<[unknown, string]> = [
      [{ 'os-stop': null }, 'SHUTOFF'],
      [{ 'os-start': null }, 'ACTIVE'],
      [{ reboot: { type: 'soft' } }, 'ACTIVE'],
      [{ reboot: { type: 'Hard' } }, 'ACTIVE'],
    ];
    for (const [body, status] of steps) {
      const response = await action(server.id, body);
      expect(response.status, JSON.stringify(body)).toBe(202);
      await waitUntil(
        `${JSON.stringify(body)} to settle`,
        async () => (await instanceRow(server.id)).task_state === null,
        { timeoutMs: 30_000, intervalMs: 100 },
      );
      expect((await waitV21(server.id, [status, 'ERROR']))?.status).toBe(status);
    }
    const actions = await v21<{ instanceActions: Array<Record<string, unknown>> }>(
      'GET',
      `/servers/${server.id}/os-instance-actions`,
    );
    expect(actions.body.instanceActions.map((entry) => entry.action)).toEqual([
      'reboot',
      'reboot',
      'start',
      'stop',
      'create',
    ]);
    expect(actions.body.instanceActions[0]).toEqual({
      action: 'reboot',
      instance_uuid: server.id,
      request_id: expect.stringMatching(/^req-/),
      user_id: expect.any(String),
      project_id: expect.any(String),
      start_time: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}$/),
      message: null,
    });
    const requestId = String(actions.body.instanceActions.at(-1)?.request_id);
    const created = await v21<{ instanceAction: Record<string, unknown> & { events: unknown[] } }>(
      'GET',
      `/servers/${server.id}/os-instance-actions/${requestId}`,
    );
    expect(created.body.instanceAction).toMatchObject({ action: 'create', request_id: requestId });
    expect(created.body.instanceAction.events.length).toBeGreaterThan(0);
    expect(created.body.instanceAction.events[0]).toEqual({
      event: expect.any(String),
      start_time: expect.stringMatching(/\.\d{6}$/),
      finish_time: expect.stringMatching(/\.\d{6}$/),
      result: 'Success',
      traceback: null,
    });
  });

  it('refuses unknown actions, bad bodies, image creation and the crash dump 2.1 does not have', async () => {
    const server = await bootActive(`v21-refusals-${suffix}`);
    const expectStatus = async (body: unknown, status: number, pattern?: RegExp, version?: string) => {
      const response = await action(server.id, body, { version });
      expect(response.status, JSON.stringify(body)).toBe(status);
      if (pattern) expect(JSON.stringify(response.body)).toMatch(pattern);
    };
    await expectStatus({ 'os-getConsoleOutput': { length: 10 } }, 400, /no such action: os-getConsoleOutput/);
    await expectStatus({ 'os-stop': null, 'os-start': null }, 400, /exactly one action/);
    await expectStatus({ reboot: { type: 'gentle' } }, 400, /reboot\.type/);
    await expectStatus({ 'os-stop': {} }, 400, /os-stop/);
    await expectStatus({ resize: { flavorRef: '2', 'OS-DCF:diskConfig': 'AUTO' } }, 400, /AUTO/);
    await expectStatus({ createImage: { name: 'snap' } }, 400, /no image upload/);
    await expectStatus({ trigger_crash_dump: null }, 404);
    await expectStatus(
      { 'os-migrateLive': { host: null, block_migration: 'auto', disk_over_commit: false } },
      400,
      /block_migration/,
    );
    await expectStatus({ evacuate: { host: HOSTS[0] } }, 400, /onSharedStorage/);
    if ((await maxMinor()) >= 17) {
      await expectStatus({ trigger_crash_dump: null }, 400, /crash dump is not supported/, '2.17');
    }
    expect((await instanceRow(server.id)).task_state).toBeNull();
  });

  it('resizes and confirms (204), migrates and reverts (202), each on the other host', async () => {
    const server = await bootActive(`v21-resize-${suffix}`);
    const source = (await instanceRow(server.id)).host;
    expect((await action(server.id, { resize: { flavorRef: '2' } })).status).toBe(202);
    expect((await waitV21(server.id, ['VERIFY_RESIZE', 'ERROR']))?.status).toBe('VERIFY_RESIZE');
    const confirmed = await action(server.id, { confirmResize: null });
    expect(confirmed.status).toBe(204);
    const resized = await waitV21(server.id, ['ACTIVE']);
    expect(resized?.flavor).toMatchObject({ id: '2' });
    const afterResize = (await instanceRow(server.id)).host;
    expect(afterResize).not.toBe(source);
    await waitForMigration(server.id, ['confirmed']);

    expect((await action(server.id, { migrate: null })).status).toBe(202);
    expect((await waitV21(server.id, ['VERIFY_RESIZE', 'ERROR']))?.status).toBe('VERIFY_RESIZE');
    expect((await action(server.id, { revertResize: null })).status).toBe(202);
    await waitForMigration(server.id, ['reverted']);
    await waitV21(server.id, ['ACTIVE']);
    expect((await instanceRow(server.id)).host).toBe(afterResize);
    await expectSettled(server.id, HOSTS);
  });

  it('live migrates with the host left to the scheduler', async () => {
    const server = await bootActive(`v21-live-${suffix}`);
    const source = (await instanceRow(server.id)).host;
    const response = await action(server.id, {
      'os-migrateLive': { host: null, block_migration: false, disk_over_commit: false },
    });
    expect(response.status, JSON.stringify(response.body)).toBe(202);
    expect(await waitForMigration(server.id, ['done', 'error'])).toMatchObject({
      status: 'done',
      migration_type: 'live-migration',
    });
    await waitV21(server.id, ['ACTIVE']);
    const dest = (await instanceRow(server.id)).host;
    expect(HOSTS.filter((host) => host !== source)).toEqual([dest]);
    await expectSettled(server.id, HOSTS);
    // The in-progress list of 2.23 is gone from 2.1.
    expect((await v21('GET', `/servers/${server.id}/migrations`)).status).toBe(404);
  });

  it('evacuates from a host that is down and answers the new password (2.1)', async () => {
    const server = await bootActive(`v21-evacuate-${suffix}`);
    const source = (await instanceRow(server.id)).host ?? '';
    const sourceHost = hosts.find((host) => host.host === source);
    await sourceHost?.stop();
    const forceDown = (forced: boolean) =>
      call('PUT', '/v3/os-services/force-down', {
        token: admin,
        body: { service: { host: source, binary: 'nova-compute', forced_down: forced } },
      });
    expect((await forceDown(true)).status).toBe(200);
    try {
      const response = await action(server.id, {
        evacuate: { onSharedStorage: 'False', adminPass: 'new-pw' },
      });
      expect(response).toMatchObject({ status: 200, body: { adminPass: 'new-pw' } });
      await waitForMigration(server.id, ['done']);
      await waitV21(server.id, ['ACTIVE']);
      expect((await instanceRow(server.id)).host).not.toBe(source);
    } finally {
      expect((await forceDown(false)).status).toBe(200);
      await sourceHost?.restart();
    }
  }, 60_000);
});
