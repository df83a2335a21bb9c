import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { expect } from 'vitest';
import { FAKE_STATE_FILE } from '../../agent/drivers/fake.ts';
import { call, stackInfo } from './api.ts';

// Networks, subnets and ports for the compute tests, made through the networking API as a user would,
// and what a host's fake hypervisor says its guests have plugged.

export interface Port {
  id: string;
  network_id: string;
  mac_address: string;
  device_id: string;
  device_owner: string;
  status: string;
  fixed_ips: Array<{ subnet_id: string; ip_address: string }>;
  'binding:host_id': string;
}

/** A network with one IPv4 subnet on `cidr` (`external`: router:external, for floating IPs). */
export async function createNetworkWithSubnet(
  token: string,
  name: string,
  cidr: string,
  external = false,
): Promise<{ networkId: string; subnetId: string }> {
  const network = await call<{ network: { id: string } }>('POST', '/network/v2.0/networks', {
    token,
    body: { network: { name, ...(external ? { 'router:external': true } : {}) } },
  });
  expect(network.status, JSON.stringify(network.body)).toBe(201);
  const subnet = await call<{ subnet: { id: string } }>('POST', '/network/v2.0/subnets', {
    token,
    body: { subnet: { network_id: network.body.network.id, cidr, ip_version: 4, name: `${name}-v4` } },
  });
  expect(subnet.status, JSON.stringify(subnet.body)).toBe(201);
  return { networkId: network.body.network.id, subnetId: subnet.body.subnet.id };
}

export async function createPort(token: string, networkId: string): Promise<Port> {
  const created = await call<{ port: Port }>('POST', '/network/v2.0/ports', {
    token,
    body: { port: { network_id: networkId } },
  });
  expect(created.status, JSON.stringify(created.body)).toBe(201);
  return created.body.port;
}

/** The port, or null once it is gone. */
export async function getPort(token: string, id: string): Promise<Port | null> {
  const found = await call<{ port: Port }>('GET', `/network/v2.0/ports/${id}`, { token });
  if (found.status === 404) return null;
  expect(found.status, JSON.stringify(found.body)).toBe(200);
  return found.body.port;
}

/** The ports a server owns (device_id = the server). */
export async function serverPorts(token: string, serverId: string): Promise<Port[]> {
  const found = await call<{ ports: Port[] }>('GET', `/network/v2.0/ports?device_id=${serverId}`, { token });
  expect(found.status, JSON.stringify(found.body)).toBe(200);
  return found.body.ports;
}

/** Deletes the networks with every port left on them (the servers using them are gone). */
export async function deleteNetworks(token: string, networkIds: readonly string[]): Promise<void> {
  for (const id of networkIds) {
    const ports = await call<{ ports: Port[] }>('GET', `/network/v2.0/ports?network_id=${id}`, { token });
    for (const port of ports.body.ports ?? []) {
      await call('DELETE', `/network/v2.0/ports/${port.id}`, { token });
    }
    const deleted = await call('DELETE', `/network/v2.0/networks/${id}`, { token });
    expect(deleted.status, JSON.stringify(deleted.body)).toBe(204);
  }
}

export interface GuestVifs {
  uuid: string;
  vifs: Array<{ id: string; address: string; ips: string[] }>;
  vif_history: Array<Array<{ address: string; ips: string[] }>>;
}

/** What the host's fake hypervisor holds for the guest: its VIFs and their history (undefined: no guest). */
export async function guestVifs(host: string, uuid: string): Promise<GuestVifs | undefined> {
  const path = join(stackInfo().dataDir, 'agents', host, FAKE_STATE_FILE);
  const state = JSON.parse(await readFile(path, 'utf8')) as { instances: GuestVifs[] };
  return state.instances.find((guest) => guest.uuid === uuid);
}

interface Named {
  id: string;
  name: string;
}

/**
 * Removes, as an admin, every router and network of any project whose name contains `marker` (a test
 * file's run suffix), with what hangs on them: floating IPs, router interfaces and gateways, ports.
 * Stack files share one cloud and a boot that names no network uses the project's only one, so a file
 * that makes networks must leave none behind.
 */
export async function removeNetworkingNamed(adminToken: string, marker: string): Promise<void> {
  const token = adminToken;
  const routers = await call<{ routers: Named[] }>('GET', '/network/v2.0/routers', { token });
  for (const router of (routers.body.routers ?? []).filter((item) => item.name.includes(marker))) {
    const ports = await call<{ ports: Port[] }>('GET', `/network/v2.0/ports?device_id=${router.id}`, {
      token,
    });
    for (const port of ports.body.ports ?? []) {
      if (port.device_owner !== 'network:router_interface') continue;
      await call('PUT', `/network/v2.0/routers/${router.id}/remove_router_interface`, {
        token,
        body: { port_id: port.id },
      });
    }
    await call('PUT', `/network/v2.0/routers/${router.id}`, {
      token,
      body: { router: { external_gateway_info: {} } },
    });
    await call('DELETE', `/network/v2.0/routers/${router.id}`, { token });
  }
  const networks = await call<{ networks: Named[] }>('GET', '/network/v2.0/networks', { token });
  const mine = (networks.body.networks ?? []).filter((item) => item.name.includes(marker));
  const floating = await call<{
    floatingips: Array<{ id: string; floating_network_id: string; port_id: string | null }>;
  }>('GET', '/network/v2.0/floatingips', { token });
  const ids = new Set(mine.map((network) => network.id));
  for (const fip of floating.body.floatingips ?? []) {
    if (ids.has(fip.floating_network_id))
      await call('DELETE', `/network/v2.0/floatingips/${fip.id}`, { token });
  }
  for (const network of mine) {
    const ports = await call<{ ports: Port[] }>('GET', `/network/v2.0/ports?network_id=${network.id}`, {
      token,
    });
    for (const port of ports.body.ports ?? []) {
      for (const fip of (floating.body.floatingips ?? []).filter((item) => item.port_id === port.id)) {
        await call('DELETE', `/network/v2.0/floatingips/${fip.id}`, { token });
      }
      await call('DELETE', `/network/v2.0/ports/${port.id}`, { token });
    }
    const deleted = await call('DELETE', `/network/v2.0/networks/${network.id}`, { token });
    expect(deleted.status, `network ${network.name}: ${JSON.stringify(deleted.body)}`).toBe(204);
  }
}
