import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, IMAGE, login, waitForServer } from '../helpers/api.ts';
import { startRegisteredTestAgent } from '../helpers/hosts.ts';
import { createMember } from '../helpers/identity.ts';
import {
  instanceRow,
  type MoveHost,
  serverAction,
  startMoveHost,
  waitForMigration,
} from '../helpers/moves.ts';
import {
  createNetworkWithSubnet,
  createPort,
  deleteNetworks,
  getPort,
  guestVifs,
  serverPorts,
} from '../helpers/networks.ts';
import { v21Call } from '../helpers/v21.ts';
import { waitUntil } from '../helpers/wait.ts';

// Servers and the networking service: boot allocates (or binds) ports on the chosen host before the
// spawn, the agent plugs them (the fake hypervisor records MAC and IP per guest), the views show the
// addresses from the instance network cache, moves rebind the ports, delete releases them, and an
// interface can be attached to and detached from a running server. The networks belong to the admin
// project the test boots in, and are deleted afterwards, so no other file's boot ever lands on them.
const ZONE = 'az-net';
const HOSTS = ['net-a', 'net-b'];
const FAILING = { host: 'net-failing', zone: 'az-net-failing' };
const OLD = { hosts: ['net-old-a', 'net-old-b'], zone: 'az-net-old' };
const MAC = /^fa:16:3e(:[0-9a-f]{2}){3}$/;
const WAIT = { timeoutMs: 30_000, intervalMs: 100 };

interface Address {
  version: number;
  addr: string;
  type: string;
  mac_addr: string;
}

describe('servers on the networking service', () => {
  let token: string;
  let first: string;
  let second: string;
  let firstSubnet: string;
  const hosts: MoveHost[] = [];
  const agents: Array<{ stop(): Promise<void> }> = [];
  const servers: string[] = [];

  beforeAll(async () => {
    token = await login();
    const firstNetwork = await createNetworkWithSubnet(token, 'net-compute-1', '10.61.0.0/24');
    first = firstNetwork.networkId;
    firstSubnet = firstNetwork.subnetId;
    second = (await createNetworkWithSubnet(token, 'net-compute-2', '10.62.0.0/24')).networkId;
    for (const host of HOSTS) hosts.push(await startMoveHost({ host, availabilityZone: ZONE }));
    for (const host of OLD.hosts) {
      hosts.push(
        await startMoveHost({
          host,
          availabilityZone: OLD.zone,
          env: { AGENT_OBJECT_VERSIONS: 'Instance=1.3' },
        }),
      );
    }
    agents.push(
      await startRegisteredTestAgent({
        host: FAILING.host,
        availabilityZone: FAILING.zone,
        env: { AGENT_FAKE_FAIL: 'spawn' },
      }),
    );
  });

  afterAll(async () => {
    for (const id of servers) await call('DELETE', `/v3/servers/${id}`, { token });
    for (const id of servers) await waitForServer(token, id, ['DELETED']);
    await deleteNetworks(token, [first, second].filter(Boolean));
    await Promise.all([...hosts, ...agents].map((host) => host.stop()));
  });

  async function boot(name: string, server: Record<string, unknown>, zone = ZONE): Promise<string> {
    const created = await call<{ server: { id: string } }>('POST', '/v3/servers', {
      token,
      body: { server: { name, image_ref: IMAGE, flavor_ref: '1', availability_zone: zone, ...server } },
    });
    expect(created.status, JSON.stringify(created.body)).toBe(202);
    servers.push(created.body.server.id);
    return created.body.server.id;
  }

  async function bootActive(name: string, server: Record<string, unknown>, zone = ZONE) {
    const id = await boot(name, server, zone);
    const view = await waitForServer(token, id, ['ACTIVE', 'ERROR']);
    expect(view?.status, JSON.stringify(view?.fault)).toBe('ACTIVE');
    return { id, host: (await instanceRow(id)).host ?? '' };
  }

  async function addresses(id: string): Promise<Record<string, Address[]>> {
    const shown = await call<{ server: { addresses: Record<string, Address[]> } }>(
      'GET',
      `/v3/servers/${id}`,
      {
        token,
      },
    );
    return shown.body.server.addresses;
  }

  async function deleteServer(id: string): Promise<void> {
    expect((await call('DELETE', `/v3/servers/${id}`, { token })).status).toBe(204);
    await waitForServer(token, id, ['DELETED']);
  }

  it('boots on a network: the port is bound to the host, plugged by its agent, and shown on both faces', async () => {
    const { id, host } = await bootActive('on-network', { networks: [{ uuid: first }] });
    const [port, ...others] = await serverPorts(token, id);
    expect(others).toEqual([]);
    expect(port).toMatchObject({
      network_id: first,
      device_owner: `compute:${ZONE}`,
      'binding:host_id': host,
      status: 'ACTIVE',
    });
    const ip = port?.fixed_ips[0]?.ip_address ?? '';
    expect(ip).toMatch(/^10\.61\.0\.\d+$/);
    expect(port?.mac_address).toMatch(MAC);
    const fixed = { version: 4, addr: ip, type: 'fixed', mac_addr: port?.mac_address };

    expect(await addresses(id)).toEqual({ 'net-compute-1': [fixed] });
    const ips = await call('GET', `/v3/servers/${id}/ips`, { token });
    expect(ips.body).toEqual({ addresses: { 'net-compute-1': [fixed] } });
    const v21Fixed = {
      version: 4,
      addr: ip,
      'OS-EXT-IPS:type': 'fixed',
      'OS-EXT-IPS-MAC:mac_addr': port?.mac_address,
    };
    const v21Show = await v21Call<{ server: { addresses: unknown } }>(1, 'GET', `/v2.1/servers/${id}`, {
      token,
    });
    expect(v21Show.body.server.addresses).toEqual({ 'net-compute-1': [v21Fixed] });
    const v21Detail = await v21Call<{ servers: Array<{ id: string; addresses: unknown }> }>(
      1,
      'GET',
      '/v2.1/servers/detail',
      { token },
    );
    expect(v21Detail.body.servers.find((server) => server.id === id)?.addresses).toEqual({
      'net-compute-1': [v21Fixed],
    });
    const v21Ips = await v21Call(1, 'GET', `/v2.1/servers/${id}/ips/net-compute-1`, { token });
    expect(v21Ips.body).toEqual({ 'net-compute-1': [v21Fixed] });

    // The list filters by address, from the start of it (Nova's regular expression).
    const byIp = await call<{ servers: Array<{ id: string }> }>(
      'GET',
      `/v3/servers?ip=${encodeURIComponent(`${ip}$`)}`,
      { token },
    );
    expect(byIp.body.servers.map((server) => server.id)).toEqual([id]);
    const byIp6 = await call<{ servers: unknown[] }>('GET', '/v3/servers?ip6=10.61', { token });
    expect(byIp6.body.servers).toEqual([]);

    const guest = await guestVifs(host, id);
    expect(guest?.vifs).toEqual([{ id: port?.id, address: port?.mac_address, ips: [ip] }]);

    await deleteServer(id);
    expect(await getPort(token, port?.id ?? '')).toBeNull();
  });

  it('boots with a port made beforehand, and deleting the server leaves the port, unbound', async () => {
    const made = await createPort(token, first);
    const { id, host } = await bootActive('with-port', { networks: [{ port: made.id }] });
    expect(await getPort(token, made.id)).toMatchObject({ device_id: id, 'binding:host_id': host });
    expect((await addresses(id))['net-compute-1']?.[0]?.addr).toBe(made.fixed_ips[0]?.ip_address);

    // A port another server owns cannot be booted with.
    const taken = await call('POST', '/v3/servers', {
      token,
      body: { server: { name: 'taken', image_ref: IMAGE, flavor_ref: '1', networks: [{ port: made.id }] } },
    });
    expect(taken.status).toBe(409);
    expect(JSON.stringify(taken.body)).toContain(`Port ${made.id} is still in use.`);

    await deleteServer(id);
    expect(await getPort(token, made.id)).toMatchObject({
      id: made.id,
      device_id: '',
      device_owner: '',
      'binding:host_id': '',
    });
  });

  it('refuses what cannot be had before making the server', async () => {
    const missing = crypto.randomUUID();
    const refusals: Array<[unknown, number, string]> = [
      [[{ uuid: missing }], 400, `Network ${missing} could not be found.`],
      [[{ port: missing }], 400, `Port ${missing} could not be found.`],
      [[{ uuid: first, fixed_ip: 'not-an-ip' }], 400, 'Invalid fixed IP address (not-an-ip)'],
      [[{ uuid: first, fixed_ip: '10.99.0.5' }], 400, 'is not on network'],
    ];
    for (const [networks, status, message] of refusals) {
      const refused = await call('POST', '/v3/servers', {
        token,
        body: { server: { name: 'refused', image_ref: IMAGE, flavor_ref: '1', networks } },
      });
      expect(refused.status, JSON.stringify(networks)).toBe(status);
      expect(JSON.stringify(refused.body)).toContain(message);
    }
    const v21Missing = await v21Call(37, 'POST', '/v2.1/servers', {
      token,
      body: { server: { name: 'refused', imageRef: IMAGE, flavorRef: '1', networks: [{ uuid: missing }] } },
    });
    expect(v21Missing.status).toBe(400);
    const v21Required = await v21Call(37, 'POST', '/v2.1/servers', {
      token,
      body: { server: { name: 'refused', imageRef: IMAGE, flavorRef: '1' } },
    });
    expect(v21Required.status).toBe(400);
  });

  it('boots with the fixed IP it asks for', async () => {
    const { id } = await bootActive('fixed-ip', { networks: [{ uuid: first, fixed_ip: '10.61.0.77' }] });
    expect((await addresses(id))['net-compute-1']?.map((address) => address.addr)).toEqual(['10.61.0.77']);
    const again = await call('POST', '/v3/servers', {
      token,
      body: {
        server: {
          name: 'same-ip',
          image_ref: IMAGE,
          flavor_ref: '1',
          networks: [{ uuid: first, fixed_ip: '10.61.0.77' }],
        },
      },
    });
    expect(again.status).toBe(409);
    await deleteServer(id);
  });

  it('boots without networks onto the one network a project has, refuses to guess between several, and with "none" onto none', async () => {
    const ambiguous = await call('POST', '/v3/servers', {
      token,
      body: { server: { name: 'which', image_ref: IMAGE, flavor_ref: '1', availability_zone: ZONE } },
    });
    expect(ambiguous.status).toBe(409);
    expect(ambiguous.body).toEqual({
      conflictingRequest: {
        code: 409,
        message: 'Multiple possible networks found, use a Network ID to be more specific.',
      },
    });
    const auto = await v21Call(37, 'POST', '/v2.1/servers', {
      token,
      body: {
        server: { name: 'auto', imageRef: IMAGE, flavorRef: '1', availability_zone: ZONE, networks: 'auto' },
      },
    });
    expect(auto.status).toBe(409);

    const none = await v21Call<{ server: { id: string } }>(37, 'POST', '/v2.1/servers', {
      token,
      body: {
        server: { name: 'none', imageRef: IMAGE, flavorRef: '1', availability_zone: ZONE, networks: 'none' },
      },
    });
    expect(none.status, JSON.stringify(none.body)).toBe(202);
    servers.push(none.body.server.id);
    await waitForServer(token, none.body.server.id, ['ACTIVE']);
    expect(await addresses(none.body.server.id)).toEqual({});
    expect(await serverPorts(token, none.body.server.id)).toEqual([]);

    // A project with one network: a boot that names none gets a port on it.
    const name = `net-compute-single-${Date.now()}`;
    await createMember(name, 's3cret-single');
    const memberToken = await login(name, 's3cret-single');
    const only = await createNetworkWithSubnet(memberToken, 'net-compute-only', '10.63.0.0/24');
    try {
      const created = await call<{ server: { id: string } }>('POST', '/v3/servers', {
        token: memberToken,
        body: { server: { name: 'single', image_ref: IMAGE, flavor_ref: '1', availability_zone: ZONE } },
      });
      expect(created.status, JSON.stringify(created.body)).toBe(202);
      const id = created.body.server.id;
      await waitForServer(memberToken, id, ['ACTIVE']);
      const [port, ...others] = await serverPorts(memberToken, id);
      expect(others).toEqual([]);
      expect(port?.network_id).toBe(only.networkId);
      expect((await call('DELETE', `/v3/servers/${id}`, { token: memberToken })).status).toBe(204);
      await waitForServer(memberToken, id, ['DELETED']);
    } finally {
      await deleteNetworks(memberToken, [only.networkId]);
    }
  });

  it('releases what a failed boot allocated: its own port deleted, the user port unbound', async () => {
    const made = await createPort(token, second);
    const id = await boot('doomed', { networks: [{ uuid: first }, { port: made.id }] }, FAILING.zone);
    const failed = await waitForServer(token, id, ['ERROR', 'ACTIVE']);
    expect(failed?.status).toBe('ERROR');
    expect(await serverPorts(token, id)).toEqual([]);
    expect(await getPort(token, made.id)).toMatchObject({ device_id: '', 'binding:host_id': '' });
    expect(await addresses(id)).toEqual({});
    await deleteServer(id);
  });

  it('rebinds the port to the destination of a cold migration, and back to the source on revert', async () => {
    const { id, host: source } = await bootActive('cold', { networks: [{ uuid: first }] });
    const [before] = await serverPorts(token, id);
    expect((await serverAction(token, id, { migrate: null })).status).toBe(202);
    await waitForServer(token, id, ['VERIFY_RESIZE']);
    const dest = (await waitForMigration(id, ['finished'])).dest_compute ?? '';
    expect(dest).not.toBe(source);
    const [moved] = await serverPorts(token, id);
    expect(moved).toMatchObject({ id: before?.id, 'binding:host_id': dest });
    const ip = before?.fixed_ips[0]?.ip_address;
    expect((await guestVifs(dest, id))?.vifs).toEqual([
      { id: before?.id, address: before?.mac_address, ips: [ip] },
    ]);

    expect((await serverAction(token, id, { revert_resize: null })).status).toBe(202);
    await waitForMigration(id, ['reverted']);
    await waitForServer(token, id, ['ACTIVE']);
    expect((await serverPorts(token, id))[0]).toMatchObject({ 'binding:host_id': source });
    expect((await guestVifs(source, id))?.vif_history).toEqual([
      [{ address: before?.mac_address, ips: [ip] }],
    ]);
    await deleteServer(id);
  });

  it('rebinds the port to the destination of a live migration', async () => {
    const { id, host: source } = await bootActive('live', { networks: [{ uuid: first }] });
    const dest = HOSTS.find((host) => host !== source) ?? '';
    const moved = await serverAction(token, id, {
      migrate_live: { host: dest, block_migration: false, disk_over_commit: false },
    });
    expect(moved.status).toBe(202);
    expect((await waitForMigration(id, ['done', 'error'])).status).toBe('done');
    await waitForServer(token, id, ['ACTIVE']);
    const [port] = await serverPorts(token, id);
    expect(port?.['binding:host_id']).toBe(dest);
    expect((await guestVifs(dest, id))?.vifs.map((vif) => vif.address)).toEqual([port?.mac_address]);
    await deleteServer(id);
  });

  it('attaches an interface to a running server and detaches it, on both faces', async () => {
    const { id, host } = await bootActive('attach', { networks: [{ uuid: first }] });
    const attached = await call<{
      interface_attachment: { port_id: string; net_id: string; mac_addr: string };
    }>('POST', `/v3/servers/${id}/os-attach-interfaces`, {
      token,
      body: { interface_attachment: { net_id: second } },
    });
    expect(attached.status, JSON.stringify(attached.body)).toBe(200);
    const portId = attached.body.interface_attachment.port_id;
    expect(attached.body.interface_attachment).toMatchObject({
      net_id: second,
      mac_addr: expect.stringMatching(MAC),
    });
    await waitUntil('the attached interface to be plugged', () => guestVifs(host, id), {
      ...WAIT,
      until: (guest) => guest?.vifs.length === 2,
    });
    await waitUntil('the attached interface in the addresses', () => addresses(id), {
      ...WAIT,
      until: (shown) => 'net-compute-2' in shown,
    });
    const listed = await v21Call<{ interfaceAttachments: Array<{ port_id: string; tag: string | null }> }>(
      70,
      'GET',
      `/v2.1/servers/${id}/os-interface`,
      { token },
    );
    expect(listed.body.interfaceAttachments.map((item) => item.port_id)).toContain(portId);

    // A port of the user's, tagged (2.49), shown with its tag (2.70); detaching it keeps it.
    const made = await createPort(token, second);
    const tagged = await v21Call<{ interfaceAttachment: { port_id: string; tag: string } }>(
      70,
      'POST',
      `/v2.1/servers/${id}/os-interface`,
      { token, body: { interfaceAttachment: { port_id: made.id, tag: 'data' } } },
    );
    expect(tagged.status, JSON.stringify(tagged.body)).toBe(200);
    expect(tagged.body.interfaceAttachment).toMatchObject({ port_id: made.id, tag: 'data' });
    await waitUntil('the user port to be plugged', () => guestVifs(host, id), {
      ...WAIT,
      until: (guest) => guest?.vifs.length === 3,
    });

    expect((await call('DELETE', `/v3/servers/${id}/os-attach-interfaces/${portId}`, { token })).status).toBe(
      202,
    );
    expect(
      (await v21Call(2, 'DELETE', `/v2.1/servers/${id}/os-interface/${made.id}`, { token })).status,
    ).toBe(202);
    await waitUntil('both interfaces to be unplugged', () => guestVifs(host, id), {
      ...WAIT,
      until: (guest) => guest?.vifs.length === 1,
    });
    await waitUntil('the detached interfaces to leave the addresses', () => addresses(id), {
      ...WAIT,
      until: (shown) => !('net-compute-2' in shown),
    });
    expect(await getPort(token, portId)).toBeNull();
    expect(await getPort(token, made.id)).toMatchObject({ device_id: '', 'binding:host_id': '' });
    await deleteServer(id);
  });

  it('shows a floating IP after the fixed address it is on, and deleting the server takes it off', async () => {
    const external = await createNetworkWithSubnet(token, 'net-compute-ext', '172.24.61.0/24', true);
    const router = await call<{ router: { id: string } }>('POST', '/network/v2.0/routers', {
      token,
      body: {
        router: { name: 'net-compute-router', external_gateway_info: { network_id: external.networkId } },
      },
    });
    expect(router.status, JSON.stringify(router.body)).toBe(201);
    const routerPath = `/network/v2.0/routers/${router.body.router.id}`;
    const added = await call('PUT', `${routerPath}/add_router_interface`, {
      token,
      body: { subnet_id: firstSubnet },
    });
    expect(added.status, JSON.stringify(added.body)).toBe(200);
    try {
      const { id } = await bootActive('floating', { networks: [{ uuid: first }, { uuid: second }] });
      expect(Object.keys(await addresses(id)).sort()).toEqual(['net-compute-1', 'net-compute-2']);
      const port = (await serverPorts(token, id)).find((candidate) => candidate.network_id === first);
      const floating = await call<{ floatingip: { id: string; floating_ip_address: string } }>(
        'POST',
        '/network/v2.0/floatingips',
        { token, body: { floatingip: { floating_network_id: external.networkId, port_id: port?.id } } },
      );
      expect(floating.status, JSON.stringify(floating.body)).toBe(201);
      const shown = await waitUntil('the floating IP in the addresses', () => addresses(id), {
        ...WAIT,
        until: (listed) => (listed['net-compute-1'] ?? []).length === 2,
      });
      expect(shown['net-compute-1']).toEqual([
        { version: 4, addr: port?.fixed_ips[0]?.ip_address, type: 'fixed', mac_addr: port?.mac_address },
        {
          version: 4,
          addr: floating.body.floatingip.floating_ip_address,
          type: 'floating',
          mac_addr: port?.mac_address,
        },
      ]);
      const v21Ips = await v21Call<{ addresses: Record<string, Array<Record<string, unknown>>> }>(
        1,
        'GET',
        `/v2.1/servers/${id}/ips`,
        { token },
      );
      expect(v21Ips.body.addresses['net-compute-1']?.[1]).toMatchObject({
        addr: floating.body.floatingip.floating_ip_address,
        'OS-EXT-IPS:type': 'floating',
      });

      await deleteServer(id);
      const after = await call<{ floatingip: { port_id: string | null } }>(
        'GET',
        `/network/v2.0/floatingips/${floating.body.floatingip.id}`,
        { token },
      );
      expect(after.body.floatingip.port_id).toBeNull();
      await call('DELETE', `/network/v2.0/floatingips/${floating.body.floatingip.id}`, { token });
    } finally {
      await call('PUT', `${routerPath}/remove_router_interface`, { token, body: { subnet_id: firstSubnet } });
      await call('DELETE', routerPath, { token });
      await deleteNetworks(token, [external.networkId]);
    }
  });

  it('boots, moves and deletes on agents pinned to Instance 1.3, which plug no VIFs', async () => {
    const { id, host } = await bootActive('old-agent', { networks: [{ uuid: first }] }, OLD.zone);
    const [port] = await serverPorts(token, id);
    expect(port?.['binding:host_id']).toBe(host);
    expect(Object.keys(await addresses(id))).toEqual(['net-compute-1']);
    expect((await guestVifs(host, id))?.vifs).toEqual([]);

    expect((await serverAction(token, id, { migrate: null })).status).toBe(202);
    const dest = (await waitForMigration(id, ['finished'])).dest_compute ?? '';
    expect((await serverPorts(token, id))[0]?.['binding:host_id']).toBe(dest);
    expect((await serverAction(token, id, { confirm_resize: null })).status).toBe(204);
    await waitForMigration(id, ['confirmed']);
    await waitForServer(token, id, ['ACTIVE']);

    await deleteServer(id);
    expect(await getPort(token, port?.id ?? '')).toBeNull();
  });
});
