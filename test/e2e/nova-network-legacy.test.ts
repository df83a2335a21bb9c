import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { and, eq, isNotNull, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  DEPRECATION_HEADER,
  DEPRECATION_WARNING,
  NEUTRON_MODE_MESSAGE,
} from '../../functions/api/nova/legacy-network.ts';
import {
  allocateLegacyNetworks,
  deallocateLegacyNetworks,
} from '../../functions/network/nova-network/allocation.ts';
import {
  FixedIpAlreadyInUse,
  InvalidLegacyNetworkRequest,
  NoMoreFixedIps,
} from '../../functions/network/nova-network/errors.ts';
import { addLegacyNetworkToProject } from '../../functions/network/nova-network/networks.ts';
import { Conflict } from '../../functions/shared/errors.ts';
import type { NetworkInfo } from '../../schema/objects/network-info.ts';
import {
  fixedIps,
  floatingIps,
  neutronNetworks,
  novaNetworks,
  virtualInterfaces,
} from '../../schema/tables/index.ts';
import {
  type ApiResponse,
  type CallOptions,
  call,
  IMAGE,
  login,
  primaryDb,
  stackInfo,
  waitForServer,
} from '../helpers/api.ts';
import { startRegisteredTestAgent } from '../helpers/hosts.ts';
import { createMember } from '../helpers/identity.ts';
import { useNetworkApi } from '../helpers/network-mode.ts';
import { v21Call } from '../helpers/v21.ts';

// nova-network kept and deprecated (issue 14 §4): its API on /v3 and /v2.1 (gone from 2.36, the
// floating IP actions from 2.44), Havana's allocation (flat networks shared, VLAN networks handed to
// projects, fixed IPs reserved for network, gateway, VPN and broadcast), race-free under concurrent
// boots, and servers booted in legacy mode showing their fixed and floating addresses. Every answer of
// a legacy route is checked for the deprecation headers, errors included.

type Json = Record<string, unknown>;

const runFile = promisify(execFile);

const RUN = crypto.randomUUID().slice(0, 8);
// Ranges of this run's own, so that another file's nova-network rows never overlap them.
const random = (below: number) => Math.floor(Math.random() * below);
const NET = `10.${200 + random(50)}`;
const FLOATING = `172.${16 + random(16)}.${random(256)}`;
const VLAN = 2000 + random(1000) * 2;
const POOL = `pool-${RUN}`;
const ZONE = 'az-legacy-network';
const HOST = 'legacy-network-1';
const UUID = /^[\da-f]{8}-[\da-f]{4}-[\da-f]{4}-[\da-f]{4}-[\da-f]{12}$/;

function expectDeprecated(answer: ApiResponse<unknown>, what: string): void {
  expect(answer.headers.get('deprecation'), what).toBe(DEPRECATION_HEADER);
  expect(answer.headers.get('warning'), what).toBe(DEPRECATION_WARNING);
}

/** A call to a legacy route on /v3: every answer says nova-network is deprecated. */
async function legacy<T = Json>(method: string, path: string, options: CallOptions = {}) {
  const answer = await call<T>(method, `/v3${path}`, options);
  expectDeprecated(answer, `${method} /v3${path} → ${answer.status}`);
  return answer;
}

/** The same on /v2.1 at 2.`minor`. */
async function legacyV21<T = Json>(minor: number, method: string, path: string, options: CallOptions) {
  const answer = await v21Call<T>(minor, method, `/v2.1${path}`, options);
  expectDeprecated(answer, `${method} /v2.1${path} at 2.${minor} → ${answer.status}`);
  return answer;
}

async function rejection(work: Promise<unknown>): Promise<unknown> {
  try {
    await work;
  } catch (error) {
    return error;
  }
  throw new Error('expected a rejection');
}

function fixedAddresses(info: NetworkInfo): string[] {
  return info.flatMap((vif) => vif.network.subnets.flatMap((subnet) => subnet.ips.map((ip) => ip.address)));
}

let admin: string;
let alice: string;
let bob: string;
/** The shared flat network os-networks creates first: every default boot gets a VIF on it. */
let flatNetworkId = '';

beforeAll(async () => {
  admin = await login();
  await createMember(`nn-alice-${RUN}`, 'secret-pw');
  await createMember(`nn-bob-${RUN}`, 'secret-pw');
  alice = await login(`nn-alice-${RUN}`, 'secret-pw');
  bob = await login(`nn-bob-${RUN}`, 'secret-pw');
  await useNetworkApi('nova-network');
});

afterAll(async () => {
  // Only this file (and the migration's, which checks for leftovers) writes nova-network's tables, and
  // stack files run one at a time: every live row is this file's. Soft-deleted as Havana deletes them.
  const db = primaryDb();
  for (const table of [virtualInterfaces, fixedIps, floatingIps, novaNetworks]) {
    await db
      .update(table)
      .set({ deleted: sql`${table.id}`, deleted_at: new Date() })
      .where(eq(table.deleted, 0));
  }
  await useNetworkApi('neutron');
});

describe('under the networking service', () => {
  it('answers every legacy route 404 naming /network/v2.0, still deprecated', async () => {
    await useNetworkApi('neutron');
    try {
      for (const answer of [
        await legacy('GET', '/os-networks', { token: admin }),
        await legacy('POST', '/os-floating-ips', { token: alice }),
        await legacy('GET', '/os-floating-ips-bulk', { token: null }),
        await legacyV21(1, 'GET', '/os-floating-ip-pools', { token: alice }),
      ]) {
        expect(answer.status).toBe(404);
        expect(answer.body).toMatchObject({ itemNotFound: { code: 404, message: NEUTRON_MODE_MESSAGE } });
      }
      const action = await legacy('POST', `/servers/${crypto.randomUUID()}/action`, {
        token: alice,
        body: { addFloatingIp: { address: '192.0.2.1' } },
      });
      expect(action.status).toBe(404);
      // Other server actions are not the legacy API's.
      const other = await call('POST', `/v3/servers/${crypto.randomUUID()}/action`, {
        token: alice,
        body: { reboot: { type: 'SOFT' } },
      });
      expect(other.headers.get('deprecation')).toBeNull();
    } finally {
      await useNetworkApi('nova-network');
    }
  });
});

describe('os-networks', () => {
  let flat: Json;
  let vlan: Json;

  it('creates a flat network sized to its CIDR, its fixed IPs written with it', async () => {
    const created = await legacy<{ network: Json }>('POST', '/os-networks', {
      token: admin,
      body: { network: { label: `flat-${RUN}`, cidr: `${NET}.1.0/24`, dns2: '8.8.8.8' } },
    });
    expect(created.status).toBe(200);
    flat = created.body.network;
    flatNetworkId = String(flat.id);
    expect(flat).toMatchObject({
      label: `flat-${RUN}`,
      cidr: `${NET}.1.0/24`,
      netmask: '255.255.255.0',
      gateway: `${NET}.1.1`,
      broadcast: `${NET}.1.255`,
      dhcp_start: `${NET}.1.2`,
      bridge: 'br100',
      vlan: null,
      dns1: '8.8.4.4',
      dns2: '8.8.8.8',
      project_id: null,
      vpn_private_address: null,
      deleted: false,
    });
    expect(flat.id).toMatch(UUID);
    const [row] = await primaryDb()
      .select()
      .from(novaNetworks)
      .where(eq(novaNetworks.uuid, String(flat.id)));
    const rows = await primaryDb()
      .select({ address: fixedIps.address, reserved: fixedIps.reserved })
      .from(fixedIps)
      .where(and(eq(fixedIps.network_id, row?.id ?? 0), eq(fixedIps.deleted, 0)));
    expect(rows).toHaveLength(256);
    expect(
      rows
        .filter((ip) => ip.reserved)
        .map((ip) => ip.address)
        .sort(),
    ).toEqual([`${NET}.1.0`, `${NET}.1.1`, `${NET}.1.255`].sort());
  });

  it('creates a VLAN network: its bridge br<vlan>, the VPN address reserved, the VLAN unique', async () => {
    const created = await legacy<{ network: Json }>('POST', '/os-networks', {
      token: admin,
      body: {
        network: { label: `vlan-${RUN}`, cidr: `${NET}.2.0/28`, vlan: VLAN, bridge_interface: 'eth1' },
      },
    });
    expect(created.status).toBe(200);
    vlan = created.body.network;
    expect(vlan).toMatchObject({
      vlan: VLAN,
      bridge: `br${VLAN}`,
      bridge_interface: 'eth1',
      vpn_private_address: `${NET}.2.2`,
      dhcp_start: `${NET}.2.3`,
      project_id: null,
    });
    const again = await legacy('POST', '/os-networks', {
      token: admin,
      body: { network: { label: `vlan-again-${RUN}`, cidr: `${NET}.3.0/28`, vlan: VLAN } },
    });
    expect(again.status).toBe(409);
    expect(JSON.stringify(again.body)).toContain(`VLAN ${VLAN}`);
  });

  it.each([
    ['an overlapping CIDR', { label: 'overlap', cidr: `${NET}.1.128/25` }, 409, /overlaps network/],
    ['a CIDR wider than /16', { label: 'wide', cidr: '10.0.0.0/12' }, 400, /'cidr'.*wider than \/16/],
    [
      'a VLAN /30 with nothing to lease',
      { label: 'tiny', cidr: `${NET}.9.0/30`, vlan: VLAN + 1 },
      400,
      /'cidr'/,
    ],
    ['no label', { cidr: `${NET}.9.0/24` }, 400, /label/],
    ['an unknown key', { label: 'x', cidr: `${NET}.9.0/24`, share_address: true }, 400, /share_address/],
  ])('refuses %s', async (_case, network, status, message) => {
    const answer = await legacy('POST', '/os-networks', { token: admin, body: { network } });
    expect(answer.status).toBe(status);
    expect(JSON.stringify(answer.body)).toMatch(message);
  });

  it('shows members only the networks they may use, with the fields Havana showed them', async () => {
    expect(
      (
        await legacy('POST', '/os-networks', {
          token: alice,
          body: { network: { label: 'no', cidr: `${NET}.9.0/24` } },
        })
      ).status,
    ).toBe(403);
    const listed = await legacy<{ networks: Json[] }>('GET', '/os-networks', { token: alice });
    expect(listed.status).toBe(200);
    const mine = listed.body.networks.find((network) => network.id === flat.id);
    expect(mine).toMatchObject({ label: `flat-${RUN}`, cidr: `${NET}.1.0/24`, gateway: `${NET}.1.1` });
    expect(mine).not.toHaveProperty('bridge');
    expect(mine).not.toHaveProperty('project_id');
    expect(listed.body.networks.map((network) => network.id)).not.toContain(vlan.id);
    expect((await legacy('GET', `/os-networks/${String(vlan.id)}`, { token: alice })).status).toBe(404);
    const shown = await legacy<{ network: Json }>('GET', `/os-networks/${String(vlan.id)}`, { token: admin });
    expect(shown.body.network).toMatchObject({ id: vlan.id, vlan: VLAN });
  });

  it('adds VLAN networks to a project (501 for a flat one) and disassociates them', async () => {
    const flatAdd = await legacy('POST', '/os-networks/add', { token: admin, body: { id: flat.id } });
    expect(flatAdd.status).toBe(501);
    expect(flatAdd.body).toHaveProperty('notImplemented.code', 501);
    expect((await legacy('POST', '/os-networks/add', { token: admin, body: { id: vlan.id } })).status).toBe(
      202,
    );
    const owned = await legacy<{ network: Json }>('GET', `/os-networks/${String(vlan.id)}`, { token: admin });
    expect(owned.body.network.project_id).not.toBeNull();
    // Another project cannot be handed a network that is this one's.
    expect(
      await rejection(addLegacyNetworkToProject(primaryDb(), `other-${RUN}`, String(vlan.id))),
    ).toBeInstanceOf(Conflict);
    const refused = await legacy('DELETE', `/os-networks/${String(vlan.id)}`, { token: admin });
    expect(refused.status).toBe(409);
    expect(JSON.stringify(refused.body)).toMatch(/disassociated/);
    const action = await legacy('POST', `/os-networks/${String(vlan.id)}/action`, {
      token: admin,
      body: { disassociate: null },
    });
    expect(action.status).toBe(202);
    const freed = await legacy<{ network: Json }>('GET', `/os-networks/${String(vlan.id)}`, { token: admin });
    expect(freed.body.network).toMatchObject({ project_id: null, host: null });
    expect(
      (
        await legacy('POST', `/os-networks/${String(vlan.id)}/action`, {
          token: admin,
          body: { associate_host: 'net-1' },
        })
      ).status,
    ).toBe(202);
    expect(
      (await legacy<{ network: Json }>('GET', `/os-networks/${String(vlan.id)}`, { token: admin })).body
        .network.host,
    ).toBe('net-1');
  });

  it('serves the same routes on /v2.1 until 2.35, with Nova times, and 404 from 2.36', async () => {
    const created = await legacyV21<{ network: Json }>(1, 'POST', '/os-networks', {
      token: admin,
      body: { network: { label: `v21-${RUN}`, cidr: `${NET}.4.0/29` } },
    });
    expect(created.status).toBe(200);
    expect(created.body.network.created_at).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}$/);
    const id = String(created.body.network.id);
    expect((await legacyV21(35, 'GET', `/os-networks/${id}`, { token: admin })).status).toBe(200);
    const gone = await legacyV21(36, 'GET', `/os-networks/${id}`, { token: admin });
    expect(gone.status).toBe(404);
    expect((await legacyV21(36, 'GET', '/os-networks', { token: admin })).status).toBe(404);
    expect((await legacyV21(1, 'DELETE', `/os-networks/${id}`, { token: admin })).status).toBe(202);
    expect((await legacy('GET', `/os-networks/${id}`, { token: admin })).status).toBe(404);
    const rows = await primaryDb()
      .select({ id: fixedIps.id })
      .from(fixedIps)
      .where(and(eq(fixedIps.address, `${NET}.4.3`), eq(fixedIps.deleted, 0)));
    expect(rows).toEqual([]);
  });
});

describe('os-fixed-ips', () => {
  it('shows a fixed IP, reserves and unreserves it (reserved shown on /v2.1 from 2.4)', async () => {
    const address = `${NET}.1.7`;
    const shown = await legacy<{ fixed_ip: Json }>('GET', `/os-fixed-ips/${address}`, { token: admin });
    expect(shown.body.fixed_ip).toEqual({
      address,
      cidr: `${NET}.1.0/24`,
      hostname: null,
      host: null,
      reserved: false,
    });
    const reserve = await legacy('POST', `/os-fixed-ips/${address}/action`, {
      token: admin,
      body: { reserve: null },
    });
    expect(reserve.status).toBe(202);
    const old = await legacyV21<{ fixed_ip: Json }>(1, 'GET', `/os-fixed-ips/${address}`, { token: admin });
    expect(old.body.fixed_ip).not.toHaveProperty('reserved');
    const at4 = await legacyV21<{ fixed_ip: Json }>(4, 'GET', `/os-fixed-ips/${address}`, { token: admin });
    expect(at4.body.fixed_ip).toMatchObject({ address, reserved: true });
    expect(
      (
        await legacyV21(1, 'POST', `/os-fixed-ips/${address}/action`, {
          token: admin,
          body: { unreserve: null },
        })
      ).status,
    ).toBe(202);
    expect(
      (await legacy<{ fixed_ip: Json }>('GET', `/os-fixed-ips/${address}`, { token: admin })).body.fixed_ip
        .reserved,
    ).toBe(false);
    expect((await legacyV21(36, 'GET', `/os-fixed-ips/${address}`, { token: admin })).status).toBe(404);
  });

  it.each([
    ['an address no network has', `${NET}.250.1`, 404],
    ['a malformed address', 'not-an-ip', 400],
  ])('answers %s with %i', async (_case, address, status) => {
    expect((await legacy('GET', `/os-fixed-ips/${address}`, { token: admin })).status).toBe(status);
  });

  it('is for admins only', async () => {
    expect((await legacy('GET', `/os-fixed-ips/${NET}.1.7`, { token: alice })).status).toBe(403);
    const answer = await legacy('POST', `/os-fixed-ips/${NET}.1.7/action`, {
      token: alice,
      body: { reserve: null },
    });
    expect(answer.status).toBe(403);
  });
});

describe('floating IPs', () => {
  it('adds a range to a pool, refuses it twice, lists the pool and every address', async () => {
    const range = `${FLOATING}.0/28`;
    const created = await legacy('POST', '/os-floating-ips-bulk', {
      token: admin,
      body: { floating_ips_bulk_create: { ip_range: range, pool: POOL } },
    });
    expect(created.status).toBe(200);
    expect(created.body).toEqual({
      floating_ips_bulk_create: { ip_range: range, pool: POOL, interface: 'eth0' },
    });
    const twice = await legacy('POST', '/os-floating-ips-bulk', {
      token: admin,
      body: { floating_ips_bulk_create: { ip_range: `${FLOATING}.5`, pool: POOL } },
    });
    expect(twice.status).toBe(409);
    const pools = await legacy<{ floating_ip_pools: Array<{ name: string }> }>(
      'GET',
      '/os-floating-ip-pools',
      {
        token: alice,
      },
    );
    expect(pools.body.floating_ip_pools).toContainEqual({ name: POOL });
    const listed = await legacy<{ floating_ip_info: Json[] }>('GET', '/os-floating-ips-bulk', {
      token: admin,
    });
    const ours = listed.body.floating_ip_info.filter((info) => info.pool === POOL);
    expect(ours).toHaveLength(14);
    expect(ours[0]).toEqual({
      address: `${FLOATING}.1`,
      instance_uuid: null,
      interface: 'eth0',
      pool: POOL,
      project_id: null,
    });
    expect((await legacy('GET', '/os-floating-ips-bulk', { token: alice })).status).toBe(403);
    expect((await legacyV21(36, 'GET', '/os-floating-ips-bulk', { token: admin })).status).toBe(404);
  });

  it("allocates from a pool to the caller's project, and hides it from other projects", async () => {
    const allocated = await legacy<{ floating_ip: Json }>('POST', '/os-floating-ips', {
      token: alice,
      body: { pool: POOL },
    });
    expect(allocated.status).toBe(200);
    const floating = allocated.body.floating_ip;
    expect(floating).toMatchObject({ pool: POOL, fixed_ip: null, instance_id: null });
    expect(String(floating.ip)).toMatch(new RegExp(`^${FLOATING.replaceAll('.', '\\.')}\\.`));
    expect((await legacy('GET', `/os-floating-ips/${String(floating.id)}`, { token: alice })).status).toBe(
      200,
    );
    expect((await legacy('GET', `/os-floating-ips/${String(floating.id)}`, { token: bob })).status).toBe(404);
    expect((await legacy('DELETE', `/os-floating-ips/${String(floating.id)}`, { token: bob })).status).toBe(
      404,
    );
    const bobs = await legacy<{ floating_ips: Json[] }>('GET', '/os-floating-ips', { token: bob });
    expect(bobs.body.floating_ips.map((ip) => ip.id)).not.toContain(floating.id);
    const alices = await legacyV21<{ floating_ips: Json[] }>(1, 'GET', '/os-floating-ips', { token: alice });
    expect(alices.body.floating_ips).toContainEqual(floating);
    expect((await legacy('GET', '/os-floating-ips/not-a-number', { token: alice })).status).toBe(404);
    expect((await legacy('DELETE', `/os-floating-ips/${String(floating.id)}`, { token: alice })).status).toBe(
      202,
    );
    const after = await legacy<{ floating_ips: Json[] }>('GET', '/os-floating-ips', { token: alice });
    expect(after.body.floating_ips.map((ip) => ip.id)).not.toContain(floating.id);
  });

  it("answers Nova's 404 when a pool has nothing left", async () => {
    const pool = `tiny-${RUN}`;
    await legacy('POST', '/os-floating-ips-bulk', {
      token: admin,
      body: { floating_ips_bulk_create: { ip_range: `${FLOATING}.100`, pool } },
    });
    expect((await legacyV21(1, 'POST', '/os-floating-ips', { token: bob, body: { pool } })).status).toBe(200);
    const none = await legacy('POST', '/os-floating-ips', { token: alice, body: { pool } });
    expect(none.status).toBe(404);
    expect(none.body).toEqual({
      itemNotFound: { code: 404, message: `No more floating ips in pool ${pool}.` },
    });
    // The default pool when no body names one.
    const defaultPool = await legacy('POST', '/os-floating-ips', { token: alice });
    expect(JSON.stringify(defaultPool.body)).toMatch(/nova/);
  });

  it('removes a range with PUT /os-floating-ips-bulk/delete', async () => {
    const pool = `gone-${RUN}`;
    await legacy('POST', '/os-floating-ips-bulk', {
      token: admin,
      body: { floating_ips_bulk_create: { ip_range: `${FLOATING}.200/30`, pool } },
    });
    const removed = await legacyV21(1, 'PUT', '/os-floating-ips-bulk/delete', {
      token: admin,
      body: { ip_range: `${FLOATING}.200/30` },
    });
    expect(removed.status).toBe(200);
    expect(removed.body).toEqual({ floating_ips_bulk_delete: `${FLOATING}.200/30` });
    const pools = await legacy<{ floating_ip_pools: Array<{ name: string }> }>(
      'GET',
      '/os-floating-ip-pools',
      {
        token: admin,
      },
    );
    expect(pools.body.floating_ip_pools).not.toContainEqual({ name: pool });
  });
});

describe('allocation', () => {
  let raceNetwork: string;
  const raceProject = `race-${RUN}`;

  beforeAll(async () => {
    const created = await legacy<{ network: Json }>('POST', '/os-networks', {
      token: admin,
      body: { network: { label: `race-${RUN}`, cidr: `${NET}.3.0/28`, project_id: raceProject } },
    });
    raceNetwork = String(created.body.network.id);
  });

  it('gives 30 concurrent boots on a /28 its 13 free addresses once each; the rest fail typed', async () => {
    const instances = Array.from({ length: 30 }, () => crypto.randomUUID());
    const results = await Promise.allSettled(
      instances.map((uuid) =>
        allocateLegacyNetworks(primaryDb(), { uuid, project_id: raceProject, host: HOST }, [
          { network_id: raceNetwork },
        ]),
      ),
    );
    const won = results.flatMap((result) => (result.status === 'fulfilled' ? [result.value] : []));
    const lost = results.flatMap((result) => (result.status === 'rejected' ? [result.reason] : []));
    expect(won).toHaveLength(13);
    for (const reason of lost) expect(reason).toBeInstanceOf(NoMoreFixedIps);
    const addresses = won.flatMap(fixedAddresses);
    expect(new Set(addresses).size).toBe(13);
    for (const address of addresses)
      expect(address).toMatch(new RegExp(`^${NET.replace('.', '\\.')}\\.3\\.`));
    expect(addresses).not.toContain(`${NET}.3.0`);
    expect(addresses).not.toContain(`${NET}.3.1`);
    expect(addresses).not.toContain(`${NET}.3.15`);
    const macs = won.map((info) => info[0]?.address ?? '');
    expect(new Set(macs).size).toBe(13);
    for (const mac of macs) expect(mac).toMatch(/^fa:16:3e(:[\da-f]{2}){3}$/);
    // The losers left nothing behind: no VIF without its address.
    const vifs = await primaryDb()
      .select({ instance: virtualInterfaces.instance_uuid })
      .from(virtualInterfaces)
      .innerJoin(novaNetworks, eq(novaNetworks.id, virtualInterfaces.network_id))
      .where(and(eq(novaNetworks.uuid, raceNetwork), eq(virtualInterfaces.deleted, 0)));
    expect(vifs).toHaveLength(13);

    // Giving them back frees every address, and doing it twice changes nothing.
    for (const uuid of instances) await deallocateLegacyNetworks(primaryDb(), uuid);
    await deallocateLegacyNetworks(primaryDb(), instances[0] ?? '');
    const held = await primaryDb()
      .select({ id: fixedIps.id })
      .from(fixedIps)
      .innerJoin(novaNetworks, eq(novaNetworks.id, fixedIps.network_id))
      .where(
        and(eq(novaNetworks.uuid, raceNetwork), isNotNull(fixedIps.instance_uuid), eq(fixedIps.deleted, 0)),
      );
    expect(held).toEqual([]);
  });

  it('honours a requested fixed IP, refuses a taken or reserved one (409) and one outside the network (400)', async () => {
    const instance = { uuid: crypto.randomUUID(), project_id: raceProject, host: HOST };
    const info = await allocateLegacyNetworks(primaryDb(), instance, [
      { network_id: raceNetwork, fixed_ip: `${NET}.3.9` },
    ]);
    expect(fixedAddresses(info)).toEqual([`${NET}.3.9`]);
    // A retried step returns what the first made.
    expect(
      await allocateLegacyNetworks(primaryDb(), instance, [
        { network_id: raceNetwork, fixed_ip: `${NET}.3.9` },
      ]),
    ).toEqual(info);
    const other = { uuid: crypto.randomUUID(), project_id: raceProject, host: HOST };
    for (const [address, type] of [
      [`${NET}.3.9`, FixedIpAlreadyInUse],
      [`${NET}.3.1`, FixedIpAlreadyInUse],
      [`${NET}.1.9`, InvalidLegacyNetworkRequest],
    ] as const) {
      const error = await rejection(
        allocateLegacyNetworks(primaryDb(), other, [{ network_id: raceNetwork, fixed_ip: address }]),
      );
      expect(error, address).toBeInstanceOf(type);
    }
    // A project may not put servers on another project's network.
    const stranger = { uuid: crypto.randomUUID(), project_id: `stranger-${RUN}`, host: HOST };
    expect(
      await rejection(allocateLegacyNetworks(primaryDb(), stranger, [{ network_id: raceNetwork }])),
    ).toBeInstanceOf(InvalidLegacyNetworkRequest);
    await deallocateLegacyNetworks(primaryDb(), instance.uuid);
  });

  it('associates one unassigned VLAN network with a project on its first boots, however many run at once', async () => {
    for (const offset of [2, 4]) {
      const created = await legacy('POST', '/os-networks', {
        token: admin,
        body: {
          network: {
            label: `vlan-${offset}-${RUN}`,
            cidr: `${NET}.${10 + offset}.0/28`,
            vlan: VLAN + offset,
          },
        },
      });
      expect(created.status).toBe(200);
    }
    const project = `vlan-project-${RUN}`;
    const instances = Array.from({ length: 6 }, () => crypto.randomUUID());
    const infos = await Promise.all(
      instances.map((uuid) =>
        allocateLegacyNetworks(primaryDb(), { uuid, project_id: project, host: HOST }, []),
      ),
    );
    const owned = await primaryDb()
      .select({ uuid: novaNetworks.uuid, vlan: novaNetworks.vlan })
      .from(novaNetworks)
      .where(and(eq(novaNetworks.project_id, project), eq(novaNetworks.deleted, 0)));
    expect(owned).toHaveLength(1);
    expect(owned[0]?.vlan).not.toBeNull();
    for (const info of infos) {
      const onVlan = info.filter((vif) => vif.network.vlan !== null);
      expect(onVlan.map((vif) => vif.network.id)).toEqual([owned[0]?.uuid]);
      expect(onVlan[0]?.network.bridge).toBe(`br${owned[0]?.vlan}`);
      // The shared flat network too: one VIF per network.
      expect(info.filter((vif) => vif.network.id === flatNetworkId)).toHaveLength(1);
      expect(new Set(info.map((vif) => vif.network.id)).size).toBe(info.length);
    }
    for (const uuid of instances) await deallocateLegacyNetworks(primaryDb(), uuid);
  });
});

describe('servers booted under nova-network', () => {
  let stopAgent: (() => Promise<void>) | undefined;
  const servers: string[] = [];

  beforeAll(async () => {
    const agent = await startRegisteredTestAgent({ host: HOST, availabilityZone: ZONE });
    stopAgent = () => agent.stop();
  });

  afterAll(async () => {
    for (const id of servers) await call('DELETE', `/v3/servers/${id}`, { token: alice });
    for (const id of servers) await waitForServer(alice, id, ['DELETED']);
    await stopAgent?.();
  });

  async function boot(name: string, networks: unknown): Promise<string> {
    const answer = await call<{ server: { id: string } }>('POST', '/v3/servers', {
      token: alice,
      body: { server: { name, image_ref: IMAGE, flavor_ref: '1', availability_zone: ZONE, networks } },
    });
    expect(answer.status, JSON.stringify(answer.body)).toBe(202);
    servers.push(answer.body.server.id);
    return answer.body.server.id;
  }

  async function addressesAt21(id: string) {
    const shown = await v21Call<{ server: { addresses: Record<string, Json[]> } }>(
      1,
      'GET',
      `/v2.1/servers/${id}`,
      {
        token: alice,
      },
    );
    return shown.body.server.addresses;
  }

  it('gives each server a fixed IP of the network, shown as fixed, and the floating IP put on it as floating', async () => {
    const first = await boot(`legacy-1-${RUN}`, [{ uuid: flatNetworkId }]);
    const second = await boot(`legacy-2-${RUN}`, [{ uuid: flatNetworkId }]);
    for (const id of [first, second])
      expect((await waitForServer(alice, id, ['ACTIVE', 'ERROR']))?.status).toBe('ACTIVE');
    const label = `flat-${RUN}`;
    const [one, two] = [await addressesAt21(first), await addressesAt21(second)];
    for (const addresses of [one, two]) {
      expect(Object.keys(addresses)).toEqual([label]);
      expect(addresses[label]).toEqual([
        expect.objectContaining({
          version: 4,
          'OS-EXT-IPS:type': 'fixed',
          'OS-EXT-IPS-MAC:mac_addr': expect.stringMatching(/^fa:16:3e/),
        }),
      ]);
    }
    const fixedOne = String(one[label]?.[0]?.addr);
    expect(fixedOne).not.toBe(String(two[label]?.[0]?.addr));
    expect(fixedOne).toMatch(new RegExp(`^${NET.replace('.', '\\.')}\\.1\\.`));
    const shown = await legacy<{ fixed_ip: Json }>('GET', `/os-fixed-ips/${fixedOne}`, { token: admin });
    expect(shown.body.fixed_ip).toMatchObject({ host: HOST });
    expect(shown.body.fixed_ip.hostname).not.toBeNull();

    const floating = (
      await legacy<{ floating_ip: Json }>('POST', '/os-floating-ips', { token: alice, body: { pool: POOL } })
    ).body.floating_ip;
    const added = await legacy('POST', `/servers/${first}/action`, {
      token: alice,
      body: { addFloatingIp: { address: floating.ip } },
    });
    expect(added.status).toBe(202);
    expect((await addressesAt21(first))[label]).toEqual([
      expect.objectContaining({ addr: fixedOne, 'OS-EXT-IPS:type': 'fixed' }),
      expect.objectContaining({ addr: floating.ip, 'OS-EXT-IPS:type': 'floating' }),
    ]);
    const onServer = await legacy<{ floating_ip: Json }>('GET', `/os-floating-ips/${String(floating.id)}`, {
      token: alice,
    });
    expect(onServer.body.floating_ip).toMatchObject({ fixed_ip: fixedOne, instance_id: first });
    // Bob can neither see Alice's server nor use her floating IP.
    expect(
      (
        await legacy('POST', `/servers/${first}/action`, {
          token: bob,
          body: { removeFloatingIp: { address: floating.ip } },
        })
      ).status,
    ).toBe(404);

    // Moved to the second server, then taken off it on /v2.1 (2.43 still has the action, 2.44 not).
    expect(
      (
        await legacy('POST', `/servers/${second}/action`, {
          token: alice,
          body: { addFloatingIp: { address: floating.ip } },
        })
      ).status,
    ).toBe(202);
    expect((await addressesAt21(first))[label]).toHaveLength(1);
    expect((await addressesAt21(second))[label]).toHaveLength(2);
    const gone = await legacyV21(44, 'POST', `/servers/${second}/action`, {
      token: alice,
      body: { removeFloatingIp: { address: floating.ip } },
    });
    expect(gone.status).toBe(404);
    const wrongServer = await legacyV21(43, 'POST', `/servers/${first}/action`, {
      token: alice,
      body: { removeFloatingIp: { address: floating.ip } },
    });
    expect(wrongServer.status).toBe(409);
    const removed = await legacyV21(43, 'POST', `/servers/${second}/action`, {
      token: alice,
      body: { removeFloatingIp: { address: floating.ip } },
    });
    expect(removed.status).toBe(202);
    expect((await addressesAt21(second))[label]).toHaveLength(1);

    // Deallocating a floating IP that is on a server takes it off first.
    await legacy('POST', `/servers/${first}/action`, {
      token: alice,
      body: { addFloatingIp: { address: floating.ip } },
    });
    expect((await legacy('DELETE', `/os-floating-ips/${String(floating.id)}`, { token: alice })).status).toBe(
      202,
    );
    expect((await addressesAt21(first))[label]).toHaveLength(1);
  });

  it('refuses a floating IP for a server without a fixed IP (400)', async () => {
    const bare = await boot(`legacy-bare-${RUN}`, 'none');
    expect((await waitForServer(alice, bare, ['ACTIVE', 'ERROR']))?.status).toBe('ACTIVE');
    const floating = (
      await legacy<{ floating_ip: Json }>('POST', '/os-floating-ips', { token: alice, body: { pool: POOL } })
    ).body.floating_ip;
    const answer = await legacy('POST', `/servers/${bare}/action`, {
      token: alice,
      body: { addFloatingIp: { address: floating.ip } },
    });
    expect(answer.status).toBe(400);
    expect(JSON.stringify(answer.body)).toMatch(/No fixed ips/);
  });

  it("the operator tool won't leave nova-network while servers use it, nor return once the networking service has networks", async () => {
    const tool = (...args: string[]) =>
      runFile(process.execPath, ['--import', 'tsx', 'scripts/network-mode.ts', ...args], {
        cwd: new URL('../../', import.meta.url).pathname,
        env: { PATH: process.env.PATH ?? '', DATABASE_URL: stackInfo().database.primaryUrl },
      }).then(
        ({ stdout }) => ({ code: 0, stdout, stderr: '' }),
        (error: { code: number; stdout: string; stderr: string }) => error,
      );
    const toNeutron = await tool('neutron');
    expect(toNeutron.code).toBe(1);
    expect(toNeutron.stderr).toMatch(/nova-network interface\(s\) are in use.*run the migration/);
    const uuid = crypto.randomUUID();
    await primaryDb()
      .insert(neutronNetworks)
      .values({ uuid, project_id: `tool-${RUN}`, created_at: new Date() });
    try {
      const toLegacy = await tool('nova-network');
      expect(toLegacy.code).toBe(1);
      expect(toLegacy.stderr).toMatch(/the networking service has \d+ network/);
    } finally {
      await primaryDb().delete(neutronNetworks).where(eq(neutronNetworks.uuid, uuid));
    }
    expect((await tool()).stdout).toBe('network API: nova-network\n');
  }, 180_000); // each run of the tool starts a Node process with tsx: room for a busy machine

  it('frees the fixed IP when the server is deleted', async () => {
    const id = servers[0] ?? '';
    const address = String((await addressesAt21(id))[`flat-${RUN}`]?.[0]?.addr);
    expect((await call('DELETE', `/v3/servers/${id}`, { token: alice })).status).toBe(204);
    await waitForServer(alice, id, ['DELETED']);
    const shown = await legacy<{ fixed_ip: Json }>('GET', `/os-fixed-ips/${address}`, { token: admin });
    expect(shown.body.fixed_ip).toMatchObject({ address, hostname: null, host: null });
    const [row] = await primaryDb()
      .select({ instance: fixedIps.instance_uuid, vif: fixedIps.virtual_interface_id })
      .from(fixedIps)
      .where(and(eq(fixedIps.address, address), eq(fixedIps.deleted, 0)));
    expect(row).toEqual({ instance: null, vif: null });
  });
});
