import { randomUUID } from 'node:crypto';
import { eq, inArray, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { archiveDeletedRows } from '../../schema/archive.ts';
import {
  images,
  instances,
  instanceTags,
  resourceClaims,
  shadowInstances,
  shadowInstanceTags,
} from '../../schema/tables/index.ts';
import {
  type ApiResponse,
  call,
  IMAGE,
  login,
  primaryDb,
  replicaCaughtUp,
  stackInfo,
} from '../helpers/api.ts';
import { startRegisteredTestAgent } from '../helpers/hosts.ts';
import { createMember } from '../helpers/identity.ts';
import { type InstanceInsert, newInstanceRow } from '../helpers/instance-rows.ts';
import { type MoveHost, startMoveHost, waitForMigration } from '../helpers/moves.ts';
import { v21Call } from '../helpers/v21.ts';
import { waitUntil } from '../helpers/wait.ts';

// What compute microversions 2.19 to 2.104 add to a server (description, tags, key and user data on
// rebuild, trusted certificates, lock reasons, topology, member filters, hostname, pinned zone, image
// properties, scheduler hints): each at the microversion that adds it and at the one before. A call
// above what the stack advertises is served in-process by the same code (test/helpers/v21.ts). The
// servers booted here run on a host of this file's own zone; the others are rows written straight to
// the database, for what needs no guest.
const suffix = randomUUID().slice(0, 8);
const ZONE = `az-v21-fields-${suffix}`;
const HOST = `v21-fields-${suffix}`;
const NAME = `fields-${suffix}`;
const PROPERTY_IMAGE = randomUUID();

type Json = Record<string, unknown>;
type Server = Json & { id: string; status: string };

let admin: string;
let adminProject: string;
let member: string;
let memberProject: string;
let host: MoveHost;
const booted: string[] = [];
const seeded: string[] = [];

/** A v2.1 call at 2.`minor`, which must answer at that microversion. */
async function v21<T = Json>(
  minor: number,
  method: string,
  path: string,
  options: { token?: string; body?: unknown } = {},
): Promise<ApiResponse<T>> {
  const answer = await v21Call<T>(minor, method, `/v2.1${path}`, {
    token: options.token ?? admin,
    body: options.body,
  });
  expect(answer.headers.get('x-openstack-nova-api-version')).toBe(`2.${minor}`);
  return answer;
}

async function show(minor: number, id: string, token = admin): Promise<Server> {
  const answer = await v21<{ server: Server }>(minor, 'GET', `/servers/${id}`, { token });
  expect(answer.status, JSON.stringify(answer.body)).toBe(200);
  return answer.body.server;
}

function createBody(server: Json = {}) {
  return {
    server: {
      name: `${NAME}-boot`,
      imageRef: IMAGE,
      flavorRef: '1',
      availability_zone: ZONE,
      networks: [],
      ...server,
    },
  };
}

/** Boots a server at 2.`minor`; the answer when it is refused. */
async function create(minor: number, server: Json = {}): Promise<ApiResponse<{ server: { id: string } }>> {
  const answer = await v21<{ server: { id: string } }>(minor, 'POST', '/servers', {
    body: createBody(server),
  });
  if (answer.status === 202) booted.push(answer.body.server.id);
  return answer;
}

async function created(minor: number, server: Json = {}): Promise<string> {
  const answer = await create(minor, server);
  expect(answer.status, JSON.stringify(answer.body)).toBe(202);
  return answer.body.server.id;
}

async function waitActive(id: string): Promise<Server> {
  const answer = await waitUntil(`server ${id} to be ACTIVE`, async () => show(1, id), {
    timeoutMs: 40_000,
    intervalMs: 100,
    until: (server) => ['ACTIVE', 'ERROR'].includes(server.status),
  });
  expect(answer.status).toBe('ACTIVE');
  return answer;
}

/** Rows of servers that need no guest, in the admin's project unless said otherwise. */
async function seed(rows: Array<Partial<InstanceInsert>>): Promise<string[]> {
  const values = rows.map((row) =>
    newInstanceRow({ project_id: adminProject, display_name: `${NAME}-row`, ...row }),
  );
  await primaryDb().insert(instances).values(values);
  await replicaCaughtUp();
  const uuids = values.map((row) => row.uuid as string);
  seeded.push(...uuids);
  return uuids;
}

function rebuild(minor: number, id: string, extra: Json) {
  return v21<{ server: Server }>(minor, 'POST', `/servers/${id}/action`, {
    body: { rebuild: { imageRef: IMAGE, ...extra } },
  });
}

/** Rebuilds at 2.`minor`, expects it accepted, and waits for the guest to be back. */
async function rebuilt(minor: number, id: string, extra: Json): Promise<Server> {
  const answer = await rebuild(minor, id, extra);
  expect(answer.status, JSON.stringify(answer.body)).toBe(202);
  await waitActive(id);
  return answer.body.server;
}

const ids = (servers: Array<{ id: string }>) => servers.map((server) => server.id).sort();

async function listed(minor: number, query: string, token = admin): Promise<string[]> {
  const answer = await v21<{ servers: Array<{ id: string }> }>(
    minor,
    'GET',
    `/servers?name=${NAME}&${query}`,
    {
      token,
    },
  );
  expect(answer.status, JSON.stringify(answer.body)).toBe(200);
  return ids(answer.body.servers);
}

beforeAll(async () => {
  admin = await login();
  const validated = await call<{ token: { project: { id: string } } }>('GET', '/identity/v3/auth/tokens', {
    token: admin,
    headers: { 'x-subject-token': admin },
  });
  adminProject = validated.body.token.project.id;
  ({ projectId: memberProject } = await createMember(`v21-fields-${suffix}`, 'fields-password'));
  member = await login(`v21-fields-${suffix}`, 'fields-password');
  host = await startMoveHost({ host: HOST, availabilityZone: ZONE });
});

afterAll(async () => {
  await Promise.all(booted.map((id) => call('DELETE', `/v3/servers/${id}`, { token: admin })));
  // The host stays until its guests are gone: a delete needs it to destroy them.
  await waitUntil(
    'the booted servers to be gone',
    async () =>
      (await Promise.all(booted.map((id) => call('GET', `/v3/servers/${id}`, { token: admin })))).filter(
        (answer) => answer.status !== 404,
      ).length,
    { timeoutMs: 40_000, intervalMs: 200, until: (left) => left === 0 },
  );
  await host?.stop();
  const db = primaryDb();
  if (seeded.length > 0) {
    await db.delete(instanceTags).where(inArray(instanceTags.instance_uuid, seeded));
    await db.delete(instances).where(inArray(instances.uuid, seeded));
  }
  await db.delete(images).where(inArray(images.uuid, [PROPERTY_IMAGE]));
});

describe('a booted server through the microversions', () => {
  let id: string;

  beforeAll(async () => {
    id = await created(19, { description: 'the first description' });
    await waitActive(id);
  });

  it('takes a description on create, update and rebuild from 2.19, and shows it', async () => {
    expect(await show(18, id)).not.toHaveProperty(['description']);
    expect((await show(19, id)).description).toBe('the first description');
    expect((await create(18, { description: 'too early' })).status).toBe(400);
    expect((await v21(18, 'PUT', `/servers/${id}`, { body: { server: { description: 'x' } } })).status).toBe(
      400,
    );
    expect((await rebuild(18, id, { description: 'too early' })).status).toBe(400);

    const updated = await v21<{ server: Server }>(19, 'PUT', `/servers/${id}`, {
      body: { server: { description: 'updated' } },
    });
    expect(updated.status).toBe(200);
    expect(updated.body.server.description).toBe('updated');
    for (const bad of ['bell\u0007', 'x'.repeat(256), 'line\u2028break']) {
      const refused = await v21(19, 'PUT', `/servers/${id}`, { body: { server: { description: bad } } });
      expect(refused.status, bad).toBe(400);
    }
    expect((await rebuilt(19, id, { description: 'rebuilt' })).description).toBe('rebuilt');
    const cleared = await v21<{ server: Server }>(19, 'PUT', `/servers/${id}`, {
      body: { server: { description: null } },
    });
    expect(cleared.body.server.description).toBeNull();
    const listed = await v21<{ servers: Server[] }>(19, 'GET', `/servers/detail?name=${NAME}-boot`);
    expect(listed.body.servers.find((server) => server.id === id)).toHaveProperty(['description'], null);
  });

  it('describes a server created before 2.19 by its name, and one created without a description by null', async () => {
    const old = await created(18, { name: `${NAME}-old` });
    expect((await show(19, old)).description).toBe(`${NAME}-old`);
    const plain = await created(19, { name: `${NAME}-plain` });
    expect((await show(19, plain)).description).toBeNull();
  });

  it('rebuilds with a key pair from 2.54, and null removes it', async () => {
    const key = `fields-key-${suffix}`;
    expect((await v21(1, 'POST', '/os-keypairs', { body: { keypair: { name: key } } })).status).toBe(200);
    expect((await rebuild(53, id, { key_name: key })).status).toBe(400);
    expect((await rebuilt(54, id, { key_name: key })).key_name).toBe(key);
    expect((await show(54, id)).key_name).toBe(key);
    const unknown = await rebuild(54, id, { key_name: `no-such-key-${suffix}` });
    expect(unknown.status).toBe(400);
    expect(JSON.stringify(unknown.body)).toMatch(/key_name/);
    expect((await rebuilt(54, id, { key_name: null })).key_name).toBeNull();
    await v21(2, 'DELETE', `/os-keypairs/${key}`);
  });

  it('rebuilds with user data from 2.57 (null clears it) and refuses personality from then on', async () => {
    const userData = btoa('#!/bin/sh\necho rebuilt\n');
    expect((await rebuild(56, id, { user_data: userData })).status).toBe(400);
    expect((await rebuild(56, id, { personality: [] })).status).toBe(202);
    await waitActive(id);
    expect((await rebuild(57, id, { personality: [] })).status).toBe(400);
    expect((await create(56, { personality: [] })).status).toBe(202);
    expect((await create(57, { personality: [] })).status).toBe(400);

    const withData = await rebuilt(57, id, { user_data: userData });
    expect(withData.user_data).toBe(userData);
    expect(withData).not.toHaveProperty(['OS-EXT-SRV-ATTR:user_data']);
    expect((await show(57, id))['OS-EXT-SRV-ATTR:user_data']).toBe(userData);
    expect((await rebuilt(57, id, { user_data: null })).user_data).toBeNull();
    expect((await rebuild(57, id, { user_data: 'not base64!' })).status).toBe(400);
  });

  it('keeps trusted image certificates from 2.63, on create and rebuild', async () => {
    expect(await show(62, id)).not.toHaveProperty(['trusted_image_certificates']);
    expect((await show(63, id)).trusted_image_certificates).toBeNull();
    expect((await create(62, { trusted_image_certificates: ['cert-a'] })).status).toBe(400);
    expect((await rebuild(62, id, { trusted_image_certificates: ['cert-a'] })).status).toBe(400);
    for (const bad of [[], ['same', 'same'], [''], Array.from({ length: 51 }, (_, n) => `c${n}`)]) {
      expect((await rebuild(63, id, { trusted_image_certificates: bad })).status, JSON.stringify(bad)).toBe(
        400,
      );
    }
    const trusted = await created(63, {
      name: `${NAME}-trusted`,
      trusted_image_certificates: ['cert-a', 'cert-b'],
    });
    expect((await show(63, trusted)).trusted_image_certificates).toEqual(['cert-a', 'cert-b']);
    expect(
      (await rebuilt(63, id, { trusted_image_certificates: ['cert-c'] })).trusted_image_certificates,
    ).toEqual(['cert-c']);
    expect(
      (await rebuilt(63, id, { trusted_image_certificates: null })).trusted_image_certificates,
    ).toBeNull();
  });

  it('sets the hostname on create, update and rebuild from 2.90, a FQDN from 2.94', async () => {
    // Made from the name at create, and kept by a rename.
    const named = await created(90, { name: `${NAME} Web.Front_1` });
    expect((await show(90, named))['OS-EXT-SRV-ATTR:hostname']).toBe(`${NAME}-web-front-1`);
    const renamed = await v21<{ server: Server }>(90, 'PUT', `/servers/${named}`, {
      body: { server: { name: 'another name' } },
    });
    expect(renamed.body.server['OS-EXT-SRV-ATTR:hostname']).toBe(`${NAME}-web-front-1`);

    expect((await create(89, { hostname: 'chosen' })).status).toBe(400);
    expect(
      (await v21(89, 'PUT', `/servers/${id}`, { body: { server: { hostname: 'chosen' } } })).status,
    ).toBe(400);
    expect((await rebuild(89, id, { hostname: 'chosen' })).status).toBe(400);
    const chosen = await created(90, { name: `${NAME}-chosen`, hostname: 'chosen-host' });
    expect((await show(90, chosen))['OS-EXT-SRV-ATTR:hostname']).toBe('chosen-host');
    const several = await create(90, { hostname: 'one-for-all', min_count: 2 });
    expect(several.status).toBe(400);
    expect(JSON.stringify(several.body)).toMatch(/single hostname/);
    for (const bad of ['-leading', 'a', 'has space', 'web.example.com']) {
      expect(
        (await v21(90, 'PUT', `/servers/${id}`, { body: { server: { hostname: bad } } })).status,
        bad,
      ).toBe(400);
    }
    const updated = await v21<{ server: Server }>(90, 'PUT', `/servers/${id}`, {
      body: { server: { hostname: 'updated-host' } },
    });
    expect(updated.body.server['OS-EXT-SRV-ATTR:hostname']).toBe('updated-host');
    expect((await rebuilt(90, id, { hostname: 'rebuilt-host' }))['OS-EXT-SRV-ATTR:hostname']).toBe(
      'rebuilt-host',
    );

    const fqdn = await v21<{ server: Server }>(94, 'PUT', `/servers/${id}`, {
      body: { server: { hostname: 'web.example.com' } },
    });
    expect(fqdn.status, JSON.stringify(fqdn.body)).toBe(200);
    expect(fqdn.body.server['OS-EXT-SRV-ATTR:hostname']).toBe('web.example.com');
    const fqdnCreated = await created(94, { name: `${NAME}-fqdn`, hostname: 'db_1.example.com' });
    expect((await show(94, fqdnCreated))['OS-EXT-SRV-ATTR:hostname']).toBe('db_1.example.com');
  });

  it('shows the zone the create named as pinned from 2.96, and PUT pins and unpins it from 2.104', async () => {
    expect(await show(95, id)).not.toHaveProperty(['pinned_availability_zone']);
    expect((await show(96, id)).pinned_availability_zone).toBe(ZONE);
    const put = (minor: number, zone: string | null) =>
      v21<{ server: Server }>(minor, 'PUT', `/servers/${id}`, {
        body: { server: { pinned_availability_zone: zone } },
      });

    expect((await put(103, null)).status).toBe(400);
    const moved = await put(104, 'az-elsewhere');
    expect(moved.status).toBe(409);
    expect(JSON.stringify(moved.body)).toMatch(/Unpin first/);
    const unpinned = await put(104, null);
    expect(unpinned.status).toBe(200);
    expect(unpinned.body.server.pinned_availability_zone).toBeNull();
    const elsewhere = await put(104, 'az-elsewhere');
    expect(elsewhere.status).toBe(409);
    expect(JSON.stringify(elsewhere.body)).toMatch(/current availability zone/);
    const repinned = await put(104, ZONE);
    expect(repinned.status).toBe(200);
    expect(repinned.body.server.pinned_availability_zone).toBe(ZONE);
    expect((await show(96, id)).pinned_availability_zone).toBe(ZONE);
  });
});

describe('server tags', () => {
  let tagged: string;
  let errored: string;

  beforeAll(async () => {
    [tagged = '', errored = ''] = await seed([{}, { vm_state: 'error' }]);
  });

  it('are not served before 2.26', async () => {
    expect((await v21(25, 'GET', `/servers/${tagged}/tags`)).status).toBe(404);
    expect((await v21(25, 'PUT', `/servers/${tagged}/tags`, { body: { tags: ['a'] } })).status).toBe(404);
    expect(await show(25, tagged)).not.toHaveProperty(['tags']);
  });

  it('are replaced, added, checked and removed one by one or all at once from 2.26', async () => {
    const base = `/servers/${tagged}/tags`;
    const replaced = await v21<{ tags: string[] }>(26, 'PUT', base, { body: { tags: ['web', 'db', 'web'] } });
    expect(replaced).toMatchObject({ status: 200, body: { tags: ['db', 'web'] } });
    expect((await v21(26, 'GET', base)).body).toEqual({ tags: ['db', 'web'] });
    expect((await v21(26, 'GET', `${base}/web`)).status).toBe(204);
    expect((await v21(26, 'GET', `${base}/cache`)).status).toBe(404);

    const added = await v21(26, 'PUT', `${base}/cache`);
    expect(added.status).toBe(201);
    expect(added.headers.get('location')).toBe(`${stackInfo().apiUrl}/v2.1/servers/${tagged}/tags/cache`);
    expect((await v21(26, 'PUT', `${base}/cache`)).status).toBe(204);
    expect((await show(26, tagged)).tags).toEqual(['cache', 'db', 'web']);

    expect((await v21(26, 'DELETE', `${base}/cache`)).status).toBe(204);
    expect((await v21(26, 'DELETE', `${base}/cache`)).status).toBe(404);
    expect((await v21(26, 'PUT', `${base}/a,b`)).status).toBe(400);
    expect((await v21(26, 'PUT', `${base}/${'x'.repeat(61)}`)).status).toBe(400);
    expect((await v21(26, 'PUT', base, { body: { tags: ['a/b'] } })).status).toBe(400);
    expect((await v21(26, 'PUT', base, { body: { tags: ['x'.repeat(61)] } })).status).toBe(400);
    const tooMany = Array.from({ length: 51 }, (_, n) => `t${n}`);
    expect((await v21(26, 'PUT', base, { body: { tags: tooMany } })).status).toBe(400);
    // A server at the limit refuses one more, even a tag it has (Nova counts first).
    expect((await v21(26, 'PUT', base, { body: { tags: tooMany.slice(0, 50) } })).status).toBe(200);
    const over = await v21(26, 'PUT', `${base}/one-more`);
    expect(over.status).toBe(400);
    expect(JSON.stringify(over.body)).toMatch(/per-server limit 50/);
    expect((await v21(26, 'PUT', `${base}/t0`)).status).toBe(400);

    expect((await v21(26, 'DELETE', base)).status).toBe(204);
    expect((await v21(26, 'GET', base)).body).toEqual({ tags: [] });
  });

  it('change only while the server is in a steady state, and only for who may see it', async () => {
    const refused = await v21(26, 'PUT', `/servers/${errored}/tags/web`);
    expect(refused.status).toBe(409);
    expect(JSON.stringify(refused.body)).toMatch(/vm_state error/);
    expect((await v21(26, 'GET', `/servers/${errored}/tags`)).body).toEqual({ tags: [] });
    expect((await v21(26, 'GET', `/servers/${tagged}/tags`, { token: member })).status).toBe(404);
    expect((await v21(26, 'PUT', `/servers/${tagged}/tags/mine`, { token: member })).status).toBe(404);
  });

  it('filter the list from 2.26: all of, any of, not all of, none of', async () => {
    const [both = '', web = '', none = ''] = await seed([{}, {}, {}]);
    await v21(26, 'PUT', `/servers/${both}/tags`, { body: { tags: ['web', 'prod'] } });
    await v21(26, 'PUT', `/servers/${web}/tags`, { body: { tags: ['web'] } });
    const mine = (list: string[]) => list.filter((uuid) => [both, web, none].includes(uuid));
    expect(mine(await listed(26, 'tags=web,prod'))).toEqual([both].sort());
    expect(mine(await listed(26, 'tags-any=prod,web'))).toEqual([both, web].sort());
    expect(mine(await listed(26, 'not-tags=web,prod'))).toEqual([web, none].sort());
    expect(mine(await listed(26, 'not-tags-any=prod,web'))).toEqual([none].sort());
    expect(mine(await listed(25, 'tags=web,prod'))).toEqual([both, web, none].sort());
    const detail = await v21<{ servers: Server[] }>(26, 'GET', `/servers/detail?name=${NAME}&tags=prod`);
    expect(detail.body.servers.map((server) => server.tags)).toEqual([['prod', 'web']]);
  });

  it('are given at create from 2.52, and go with the server when it is deleted', async () => {
    expect((await create(51, { tags: ['boot'] })).status).toBe(400);
    expect((await create(52, { tags: ['bad,tag'] })).status).toBe(400);
    const since = new Date(Date.now() - 1000).toISOString();
    const id = await created(52, { name: `${NAME}-tagged`, tags: ['boot', 'zone-a'] });
    expect((await show(52, id)).tags).toEqual(['boot', 'zone-a']);
    expect(await listed(52, 'tags=boot')).toContain(id);

    await waitActive(id);
    expect((await v21(52, 'DELETE', `/servers/${id}`)).status).toBe(204);
    await waitUntil(
      'the tagged server to be deleted',
      async () => (await v21(52, 'GET', `/servers/${id}`)).status,
      {
        timeoutMs: 40_000,
        intervalMs: 100,
        until: (status) => status === 404,
      },
    );
    const changes = await v21<{ servers: Server[] }>(
      52,
      'GET',
      `/servers/detail?changes-since=${since}&name=${NAME}-tagged`,
    );
    expect(changes.body.servers).toEqual([expect.objectContaining({ id, status: 'DELETED', tags: [] })]);
    expect(await listed(52, `tags=boot&changes-since=${since}`)).not.toContain(id);
  });

  it('are archived with their deleted server', async () => {
    const deletedAt = new Date('1970-03-01T00:00:00Z');
    const [gone = ''] = await seed([{ vm_state: 'deleted', deleted_at: deletedAt }]);
    const db = primaryDb();
    await db.insert(instanceTags).values({ instance_uuid: gone, tag: 'archived', created_at: deletedAt });
    await db
      .update(instances)
      .set({ deleted: sql`${instances.id}` })
      .where(eq(instances.uuid, gone));
    await archiveDeletedRows(db, { before: new Date('1970-06-01T00:00:00Z'), maxRows: 1000 });
    const live = await db.select().from(instanceTags).where(eq(instanceTags.instance_uuid, gone));
    const archived = await db
      .select()
      .from(shadowInstanceTags)
      .where(eq(shadowInstanceTags.instance_uuid, gone));
    expect(live).toEqual([]);
    expect(archived.map((row) => row.tag)).toEqual(['archived']);
    await db.delete(shadowInstanceTags).where(eq(shadowInstanceTags.instance_uuid, gone));
    await db.delete(shadowInstances).where(eq(shadowInstances.uuid, gone));
  });
});

describe('the server list', () => {
  it('bounds changes by changes-before from 2.66, with changes-since no later', async () => {
    const [recent = ''] = await seed([{}]);
    const hourAgo = new Date(Date.now() - 3_600_000).toISOString();
    const later = new Date(Date.now() + 3_600_000).toISOString();
    expect(await listed(65, `changes-before=${hourAgo}`)).toContain(recent);
    expect(await listed(66, `changes-before=${hourAgo}`)).not.toContain(recent);
    expect(await listed(66, `changes-since=${hourAgo}&changes-before=${later}`)).toContain(recent);
    const inverted = await v21(66, 'GET', `/servers?changes-since=${later}&changes-before=${hourAgo}`);
    expect(inverted.status).toBe(400);
    expect(JSON.stringify(inverted.body)).toMatch(
      /changes-since must be less than or equal to changes-before/,
    );
  });

  it('lets members filter their own servers by state, zone, key and times from 2.83', async () => {
    const [running = '', stopped = ''] = await seed([
      { project_id: memberProject, key_name: `key-${suffix}` },
      { project_id: memberProject, vm_state: 'stopped', power_state: 4 },
    ]);
    // Before 2.83 a member's state filter is dropped, so both are listed.
    expect(await listed(82, 'vm_state=stopped', member)).toEqual([running, stopped].sort());
    expect(await listed(83, 'vm_state=stopped', member)).toEqual([stopped]);
    expect(await listed(83, 'power_state=4', member)).toEqual([stopped]);
    expect(await listed(83, `key_name=key-${suffix}`, member)).toEqual([running]);
    expect(await listed(83, 'config_drive=True', member)).toEqual([]);
  });
});

describe('locks with a reason', () => {
  let locked: string;
  let open: string;

  beforeAll(async () => {
    [locked = '', open = ''] = await seed([{}, {}]);
  });

  it('keep the reason from 2.73, show it while locked, and filter and sort by lock', async () => {
    const lock = (minor: number, value: unknown) =>
      v21(minor, 'POST', `/servers/${locked}/action`, { body: { lock: value } });
    expect((await lock(72, { locked_reason: 'maintenance' })).status).toBe(400);
    expect((await lock(73, { locked_reason: '' })).status).toBe(400);
    expect((await lock(73, { locked_reason: 'maintenance' })).status).toBe(202);
    expect(await show(72, locked)).not.toHaveProperty(['locked_reason']);
    expect(await show(73, locked)).toMatchObject({ locked: true, locked_reason: 'maintenance' });
    expect((await show(73, open)).locked_reason).toBeNull();

    const mine = (list: string[]) => list.filter((uuid) => [locked, open].includes(uuid));
    expect(mine(await listed(73, 'locked=true'))).toEqual([locked]);
    expect(mine(await listed(73, 'locked=false'))).toEqual([open]);
    expect(mine(await listed(72, 'locked=true')).sort()).toEqual([locked, open].sort());
    expect((await v21(73, 'GET', '/servers?locked=maybe')).status).toBe(400);
    const sorted = await v21<{ servers: Array<{ id: string }> }>(
      73,
      'GET',
      `/servers?name=${NAME}-row&sort_key=locked&sort_dir=asc`,
    );
    const order = sorted.body.servers
      .map((server) => server.id)
      .filter((uuid) => [locked, open].includes(uuid));
    expect(order).toEqual([open, locked]);
    // The next page starts after the marker in that order.
    const page = `/servers?name=${NAME}-row&sort_key=locked&sort_dir=desc&limit=1`;
    const first = await v21<{ servers: Array<{ id: string }> }>(73, 'GET', page);
    expect(ids(first.body.servers)).toEqual([locked]);
    const after = await v21<{ servers: Array<{ id: string }> }>(73, 'GET', `${page}&marker=${locked}`);
    expect(ids(after.body.servers)).toHaveLength(1);
    expect(ids(after.body.servers)).not.toContain(locked);
    expect((await v21(73, 'GET', '/servers?sort_key=host', { token: member })).status).toBe(403);
    expect((await v21(74, 'GET', '/servers?sort_key=vcpus')).status).toBe(200);
    expect((await v21(75, 'GET', '/servers?sort_key=vcpus')).status).toBe(400);

    const unlocked = await v21(73, 'POST', `/servers/${locked}/action`, { body: { unlock: null } });
    expect(unlocked.status).toBe(202);
    expect(await show(73, locked)).toMatchObject({ locked: false, locked_reason: null });
  });
});

describe('what later microversions show', () => {
  it('answers the topology of a server without NUMA cells from 2.78', async () => {
    const [id = ''] = await seed([{}]);
    expect((await v21(77, 'GET', `/servers/${id}/topology`)).status).toBe(404);
    const topology = await v21(78, 'GET', `/servers/${id}/topology`);
    expect(topology).toMatchObject({ status: 200, body: { nodes: [], pagesize_kb: null } });
    expect((await v21(78, 'GET', `/servers/${id}/topology`, { token: member })).status).toBe(404);
  });

  it("shows members their servers' hostname from 2.90, and filters by it", async () => {
    const [id = ''] = await seed([{ project_id: memberProject, hostname: `member-host-${suffix}` }]);
    expect(await show(89, id, member)).not.toHaveProperty(['OS-EXT-SRV-ATTR:hostname']);
    expect((await show(90, id, member))['OS-EXT-SRV-ATTR:hostname']).toBe(`member-host-${suffix}`);
    expect(await listed(90, `hostname=member-host-${suffix}`, member)).toEqual([id]);
    expect(await listed(89, 'hostname=no-such-host', member)).toContain(id);
  });

  it("embeds the image's properties from 2.98 and the scheduler hints from 2.100", async () => {
    await primaryDb()
      .insert(images)
      .values({
        uuid: PROPERTY_IMAGE,
        name: `fields-image-${suffix}`,
        status: 'active',
        disk_format: 'raw',
        container_format: 'bare',
        visibility: 'public',
        properties: { architecture: 'x86_64', hw_disk_bus: 'virtio' },
        created_at: new Date(),
      });
    const sameHost = randomUUID();
    const [hinted = '', plain = ''] = await seed([
      { image_ref: PROPERTY_IMAGE, scheduler_hints: { same_host: sameHost, group_policy: 'affinity' } },
      {},
    ]);
    expect((await show(97, hinted)).image).not.toHaveProperty(['properties']);
    expect((await show(98, hinted)).image).toMatchObject({
      id: PROPERTY_IMAGE,
      properties: { architecture: 'x86_64', hw_disk_bus: 'virtio' },
    });
    expect(await show(99, hinted)).not.toHaveProperty(['scheduler_hints']);
    expect((await show(100, hinted)).scheduler_hints).toEqual({
      same_host: [sameHost],
      group_policy: ['affinity'],
    });
    expect((await show(100, plain)).scheduler_hints).toEqual({});
    expect((await show(96, plain)).pinned_availability_zone).toBeNull();
  });
});

describe('a destination named at create', () => {
  // Two hosts alone in a zone of their own: the scheduler's RAM weigher ranks the roomy one first, and
  // only the roomy one has room for an m1.medium (4096 MB; the snug one has 2048 × 1.5).
  const PLACE_ZONE = `az-v21-place-${suffix}`;
  const ROOMY = `v21-roomy-${suffix}`;
  const SNUG = `v21-snug-${suffix}`;
  const heartbeat = { AGENT_HEARTBEAT_INTERVAL_SECONDS: '1' };
  const agents: Array<{ stop(): Promise<void> }> = [];
  const placed: string[] = [];

  beforeAll(async () => {
    agents.push(
      ...(await Promise.all([
        startRegisteredTestAgent({
          host: ROOMY,
          availabilityZone: PLACE_ZONE,
          memoryMb: 16384,
          env: heartbeat,
        }),
        startRegisteredTestAgent({
          host: SNUG,
          availabilityZone: PLACE_ZONE,
          memoryMb: 2048,
          env: heartbeat,
        }),
      ])),
    );
  });

  afterAll(async () => {
    // Their hosts must still run to destroy their guests.
    await Promise.all(placed.map((id) => call('DELETE', `/v3/servers/${id}`, { token: admin })));
    await waitUntil(
      'the placed servers to be gone',
      async () =>
        (await Promise.all(placed.map((id) => call('GET', `/v3/servers/${id}`, { token: admin })))).filter(
          (answer) => answer.status !== 404,
        ).length,
      { timeoutMs: 40_000, intervalMs: 200, until: (left) => left === 0 },
    );
    await Promise.all(agents.map((agent) => agent.stop()));
  });

  /** Boots at 2.74 into the zone of the two hosts, and waits for the server to settle. */
  async function placedAt(server: Json): Promise<{ id: string; server: Server }> {
    const id = await created(74, { name: `${NAME}-placed`, availability_zone: PLACE_ZONE, ...server });
    placed.push(id);
    const settled = await waitUntil(`server ${id} to settle`, async () => show(74, id), {
      timeoutMs: 40_000,
      intervalMs: 100,
      until: (view) => ['ACTIVE', 'ERROR'].includes(view.status),
    });
    return { id, server: settled };
  }

  async function claimsOf(id: string) {
    return primaryDb().select().from(resourceClaims).where(eq(resourceClaims.instance_uuid, id));
  }

  function dryRun(requestSpec: Json) {
    return call<{
      destinations: Array<{ host: string }>;
      rejected_hosts: Array<{ host: string; filter: string }>;
    }>('POST', '/v3/os-scheduler/select-destinations', {
      token: admin,
      body: {
        request_spec: {
          project_id: adminProject,
          flavor_ref: '1',
          availability_zone: PLACE_ZONE,
          ...requestSpec,
        },
      },
    });
  }

  it('is for admins only from 2.74, and must be a compute host that exists', async () => {
    expect((await create(73, { host: HOST })).status).toBe(400);
    const asMember = await v21(74, 'POST', '/servers', { token: member, body: createBody({ host: HOST }) });
    expect(asMember.status).toBe(403);
    const unknown = await create(74, { host: `no-such-host-${suffix}` });
    expect(unknown.status).toBe(400);
    expect(JSON.stringify(unknown.body)).toMatch(/Compute host no-such-host-.* could not be found/);
    expect((await create(74, { hypervisor_hostname: `no-such-node-${suffix}` })).status).toBe(400);
  });

  it('puts the server on the named host or node, where the scheduler would rank another first', async () => {
    const ranked = await dryRun({});
    expect(ranked.status, JSON.stringify(ranked.body)).toBe(200);
    expect(ranked.body.destinations.map((destination) => destination.host)).toEqual([ROOMY, SNUG]);
    // The dry run takes the destination too, and says why the other host is left out.
    const named = await dryRun({ requested_destination: { host: SNUG } });
    expect(named.body.destinations.map((destination) => destination.host)).toEqual([SNUG]);
    expect(named.body.rejected_hosts).toContainEqual(
      expect.objectContaining({ host: ROOMY, filter: 'RequestedDestinationFilter' }),
    );

    const byHost = await placedAt({ host: SNUG });
    expect(byHost.server.status).toBe('ACTIVE');
    expect(byHost.server['OS-EXT-SRV-ATTR:host']).toBe(SNUG);
    const byNode = await placedAt({ hypervisor_hostname: SNUG });
    expect(byNode.server.status).toBe('ACTIVE');
    expect(byNode.server['OS-EXT-SRV-ATTR:hypervisor_hostname']).toBe(SNUG);

    // The boot alone keeps to it: a move the scheduler places is as free as any other server's.
    const moved = await v21(74, 'POST', `/servers/${byHost.id}/action`, {
      body: { 'os-migrateLive': { host: null, block_migration: false } },
    });
    expect(moved.status, JSON.stringify(moved.body)).toBe(202);
    expect(await waitForMigration(byHost.id, ['done', 'error'])).toMatchObject({
      status: 'done',
      dest_compute: ROOMY,
    });
  });

  it('ends in ERROR with NoValidHost, and no claim, when the named host fails a filter', async () => {
    // Too little room there (another host of the zone has enough), then a zone it is not in.
    const tooBig = await placedAt({ host: SNUG, flavorRef: '3' });
    expect(tooBig.server.status).toBe('ERROR');
    const fault = tooBig.server.fault as { message: string };
    expect(fault.message).toMatch(/No valid host was found/);
    expect(fault.message).toContain(`${SNUG}: 4096 MB of RAM requested`);
    expect(tooBig.server['OS-EXT-SRV-ATTR:host']).toBeNull();
    expect(await claimsOf(tooBig.id)).toEqual([]);

    const elsewhere = await placedAt({ host: SNUG, availability_zone: ZONE });
    expect(elsewhere.server.status).toBe('ERROR');
    expect((elsewhere.server.fault as { message: string }).message).toContain(
      `${SNUG}: the host is in availability zone ${PLACE_ZONE}, not ${ZONE}`,
    );
    expect(await claimsOf(elsewhere.id)).toEqual([]);
  });
});

describe('the v3 servers extension', () => {
  it('takes a description from version 3, and ignores it for a client pinned to version 2', async () => {
    const [id = ''] = await seed([{}]);
    const put = (headers: Record<string, string>) =>
      call('PUT', `/v3/servers/${id}`, {
        token: admin,
        body: { server: { description: 'from v3' } },
        headers,
      });
    expect((await put({ 'X-Compute-Extension-Versions': 'servers=2' })).status).toBe(200);
    expect((await show(19, id)).description).toBeNull();
    expect((await put({})).status).toBe(200);
    expect((await show(19, id)).description).toBe('from v3');
  });
});
