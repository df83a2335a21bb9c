import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IMAGE, login } from '../helpers/api.ts';
import { type MoveHost, startMoveHost } from '../helpers/moves.ts';
import { v21Call } from '../helpers/v21.ts';
import { waitUntil } from '../helpers/wait.ts';

// From 2.102 every compute API refuses a query parameter it does not know (400); at 2.1 they ignore it
// (some refuse from an earlier microversion: 2.59 migrations, 2.75 servers and others). The show routes
// are asked about a server on a host of this file's own zone, an aggregate and a key pair of its own.
const suffix = crypto.randomUUID().slice(0, 8);
const ZONE = `az-v21-strict-${suffix}`;
const HOST = `v21-strict-${suffix}`;

let token: string;
let host: MoveHost | undefined;
let serverId = '';
let projectId = '';
let requestId = '';
let aggregateId = '';
const KEYPAIR = `strict-${suffix}`;
/** A hypervisor's id as 2.1 names it (an integer) and as 2.53 on does (a uuid). */
const hypervisor = { at21: '', at102: '' };

beforeAll(async () => {
  token = await login();
  host = await startMoveHost({ host: HOST, availabilityZone: ZONE });
  const created = await v21Call<{ server: { id: string } }>(102, 'POST', '/v2.1/servers', {
    token,
    body: {
      server: {
        name: `strict-${suffix}`,
        imageRef: IMAGE,
        flavorRef: '1',
        availability_zone: ZONE,
        networks: 'none',
        metadata: { color: 'blue' },
      },
    },
  });
  expect(created.status).toBe(202);
  serverId = created.body.server.id;
  const active = await waitUntil(
    `server ${serverId} to be ACTIVE`,
    async () => {
      const shown = await v21Call<{ server: { status: string; tenant_id: string } }>(
        102,
        'GET',
        `/v2.1/servers/${serverId}`,
        { token },
      );
      return shown.body.server;
    },
    { timeoutMs: 40_000, intervalMs: 200, until: (server) => server.status === 'ACTIVE' },
  );
  projectId = active.tenant_id;
  expect((await v21Call(102, 'PUT', `/v2.1/servers/${serverId}/tags/red`, { token })).status).toBe(201);
  const actions = await v21Call<{ instanceActions: Array<{ request_id: string }> }>(
    1,
    'GET',
    `/v2.1/servers/${serverId}/os-instance-actions`,
    { token },
  );
  requestId = actions.body.instanceActions[0]?.request_id ?? '';
  const aggregate = await v21Call<{ aggregate: { id: number } }>(1, 'POST', '/v2.1/os-aggregates', {
    token,
    body: { aggregate: { name: `strict-${suffix}` } },
  });
  aggregateId = String(aggregate.body.aggregate.id);
  const keypair = await v21Call(1, 'POST', '/v2.1/os-keypairs', {
    token,
    body: { keypair: { name: KEYPAIR } },
  });
  expect(keypair.status).toBe(200);
  const at21 = await v21Call<{ hypervisors: Array<{ id: unknown }> }>(1, 'GET', '/v2.1/os-hypervisors', {
    token,
  });
  const at102 = await v21Call<{ hypervisors: Array<{ id: unknown }> }>(102, 'GET', '/v2.1/os-hypervisors', {
    token,
  });
  hypervisor.at21 = String(at21.body.hypervisors[0]?.id);
  hypervisor.at102 = String(at102.body.hypervisors[0]?.id);
}, 90_000);

afterAll(async () => {
  if (serverId) await v21Call(1, 'DELETE', `/v2.1/servers/${serverId}`, { token });
  if (aggregateId) await v21Call(1, 'DELETE', `/v2.1/os-aggregates/${aggregateId}`, { token });
  await v21Call(1, 'DELETE', `/v2.1/os-keypairs/${KEYPAIR}`, { token });
  await host?.stop();
});

const COLLECTIONS = [
  '/v2.1/servers',
  '/v2.1/servers/detail',
  '/v2.1/flavors',
  '/v2.1/flavors/detail',
  '/v2.1/os-keypairs',
  '/v2.1/limits',
  '/v2.1/os-availability-zone',
  '/v2.1/os-availability-zone/detail',
  '/v2.1/extensions',
  '/v2.1/os-hypervisors',
  '/v2.1/os-hypervisors/detail',
  '/v2.1/os-services',
  '/v2.1/os-aggregates',
  '/v2.1/os-migrations',
  '/v2.1/os-simple-tenant-usage',
];

/**
 * The show routes, by the path each is asked at 2.1 and at 2.102 (they differ only in the hypervisor
 * id), and whether 2.101 still ignores an unknown parameter (the route became strict at 2.102).
 */
interface ShowRoute {
  name: string;
  path: (minor: number) => string;
  strictAt102: boolean;
}

const server =
  (tail = '') =>
  () =>
    `/v2.1/servers/${serverId}${tail}`;
const SHOWS: ShowRoute[] = [
  { name: 'server', path: server(), strictAt102: true },
  { name: 'server metadata', path: server('/metadata'), strictAt102: true },
  { name: 'server metadata item', path: server('/metadata/color'), strictAt102: true },
  { name: 'server ips', path: server('/ips'), strictAt102: true },
  { name: 'server ips on a network', path: server('/ips/private'), strictAt102: true },
  { name: 'server tags', path: server('/tags'), strictAt102: true },
  { name: 'server tag', path: server('/tags/red'), strictAt102: true },
  { name: 'server topology', path: server('/topology'), strictAt102: true },
  { name: 'server actions', path: server('/os-instance-actions'), strictAt102: false },
  {
    name: 'server action',
    path: () => `/v2.1/servers/${serverId}/os-instance-actions/${requestId}`,
    strictAt102: true,
  },
  { name: 'server migrations', path: server('/migrations'), strictAt102: true },
  { name: 'server migration', path: server('/migrations/1'), strictAt102: true },
  { name: 'key pair', path: () => `/v2.1/os-keypairs/${KEYPAIR}`, strictAt102: false },
  { name: 'quota set', path: () => `/v2.1/os-quota-sets/${projectId}`, strictAt102: false },
  { name: 'quota set defaults', path: () => `/v2.1/os-quota-sets/${projectId}/defaults`, strictAt102: true },
  { name: 'quota set detail', path: () => `/v2.1/os-quota-sets/${projectId}/detail`, strictAt102: false },
  {
    name: 'hypervisor',
    path: (minor) => `/v2.1/os-hypervisors/${minor >= 53 ? hypervisor.at102 : hypervisor.at21}`,
    strictAt102: false,
  },
  { name: 'aggregate', path: () => `/v2.1/os-aggregates/${aggregateId}`, strictAt102: true },
  { name: 'tenant usage', path: () => `/v2.1/os-simple-tenant-usage/${projectId}`, strictAt102: false },
];

describe('unknown query parameters', () => {
  it.each(COLLECTIONS)('GET %s refuses one at 2.102 and ignores it at 2.1', async (path) => {
    const ignored = await v21Call(1, 'GET', `${path}?bogus=1`, { token });
    const refused = await v21Call(102, 'GET', `${path}?bogus=1`, { token });
    expect({ path, at21: ignored.status === 400, at102: refused.status }).toEqual({
      path,
      at21: false,
      at102: 400,
    });
  });

  it.each(SHOWS)('GET $name refuses one at 2.102 and ignores it at 2.1', async ({ path, strictAt102 }) => {
    const ignored = await v21Call(1, 'GET', `${path(1)}?bogus=1`, { token });
    const refused = await v21Call<{ badRequest?: { message: string } }>(102, 'GET', `${path(102)}?bogus=1`, {
      token,
    });
    const known = await v21Call(102, 'GET', path(102), { token });
    expect({ at21: ignored.status === 400, at102: refused.status, without: known.status === 400 }).toEqual({
      at21: false,
      at102: 400,
      without: false,
    });
    expect(refused.body.badRequest?.message).toContain('bogus');
    if (strictAt102) {
      const before = await v21Call(101, 'GET', `${path(101)}?bogus=1`, { token });
      expect(before.status).not.toBe(400);
    }
  });
});
