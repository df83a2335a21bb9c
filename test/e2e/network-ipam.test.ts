import { eq, inArray } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { neutronIpAllocations, neutronPorts } from '../../schema/tables/index.ts';
import { login, primaryDb } from '../helpers/api.ts';
import { createMember } from '../helpers/identity.ts';
import {
  createNetwork,
  createPort,
  createSubnet,
  failure,
  type NetworkBody,
  neutron,
  type PortBody,
  type SubnetBody,
} from '../helpers/network-api.ts';

// Address and MAC allocation under concurrency, against the real database: every create that
// succeeds holds an address and a MAC nobody else holds, an exhausted subnet says so with 409
// IpAddressGenerationFailure, and what a delete frees is handed out again.
const suffix = crypto.randomUUID().slice(0, 8);
let token: string;
const networks: string[] = [];

beforeAll(async () => {
  await createMember(`ipam-${suffix}`, 'ipam-password');
  token = await login(`ipam-${suffix}`, 'ipam-password');
});

afterAll(async () => {
  for (const id of networks) {
    const ports = await neutron<{ ports: PortBody[] }>('GET', `/ports?network_id=${id}`, token);
    await Promise.all(ports.body.ports.map((port) => neutron('DELETE', `/ports/${port.id}`, token)));
    await neutron('DELETE', `/networks/${id}`, token);
  }
});

async function networkWithSubnet(cidr: string): Promise<{ network: NetworkBody; subnet: SubnetBody }> {
  const network = await createNetwork(token, { name: `ipam-${suffix}` });
  networks.push(network.id);
  const subnet = await createSubnet(token, { network_id: network.id, cidr });
  return { network, subnet };
}

/** What the database holds for the subnet: one row per address, by port. */
async function allocationsOf(subnetId: string) {
  return primaryDb()
    .select({ port: neutronIpAllocations.port_uuid, address: neutronIpAllocations.ip_address })
    .from(neutronIpAllocations)
    .where(eq(neutronIpAllocations.subnet_uuid, subnetId));
}

async function macsOf(portIds: string[]) {
  if (portIds.length === 0) return [];
  const rows = await primaryDb()
    .select({ mac: neutronPorts.mac_address })
    .from(neutronPorts)
    .where(inArray(neutronPorts.uuid, portIds));
  return rows.map((row) => row.mac);
}

function unique<T>(values: T[]): Set<T> {
  return new Set(values);
}

describe('IPAM under concurrency', () => {
  let network: NetworkBody;
  let subnet: SubnetBody;
  let made: PortBody[] = [];

  it('gives 50 concurrent creates on a /28 exactly its 13 free addresses, then 409s', {
    timeout: 120_000,
  }, async () => {
    ({ network, subnet } = await networkWithSubnet('10.128.0.0/28'));
    expect(subnet.allocation_pools).toEqual([{ start: '10.128.0.2', end: '10.128.0.14' }]);
    const answers = await Promise.all(
      Array.from({ length: 50 }, (_, index) =>
        neutron<{ port: PortBody }>('POST', '/ports', token, {
          port: { network_id: network.id, name: `p${index}` },
        }),
      ),
    );
    made = answers.filter((answer) => answer.status === 201).map((answer) => answer.body.port);
    const refused = answers.filter((answer) => answer.status !== 201).map(failure);
    expect(made).toHaveLength(13);
    expect(refused).toHaveLength(37);
    for (const refusal of refused) {
      expect(refusal).toEqual({
        status: 409,
        type: 'IpAddressGenerationFailure',
        message: `No more IP addresses available on network ${network.id}.`,
      });
    }
    const addresses = made.map((port) => port.fixed_ips[0]?.ip_address);
    const expected = Array.from({ length: 13 }, (_, index) => `10.128.0.${index + 2}`);
    expect([...unique(addresses)].sort()).toEqual([...expected].sort());
    expect(unique(made.map((port) => port.mac_address)).size).toBe(13);

    const rows = await allocationsOf(subnet.id);
    expect(rows).toHaveLength(13);
    expect(unique(rows.map((row) => row.address)).size).toBe(13);
    expect(unique(rows.map((row) => row.port))).toEqual(unique(made.map((port) => port.id)));
    expect(unique(await macsOf(made.map((port) => port.id))).size).toBe(13);
  });

  it('refuses an address already taken, naming it, and a MAC already used', async () => {
    const taken = made[0] as PortBody;
    const address = taken.fixed_ips[0]?.ip_address as string;
    expect(
      failure(
        await neutron('POST', '/ports', token, {
          port: { network_id: network.id, fixed_ips: [{ ip_address: address }] },
        }),
      ),
    ).toEqual({
      status: 409,
      type: 'IpAddressInUse',
      message: `Unable to complete operation for network ${network.id}. The IP address ${address} is in use.`,
    });
    const { network: other } = await networkWithSubnet('10.129.0.0/24');
    expect(
      failure(
        await neutron('POST', '/ports', token, {
          port: { network_id: other.id, mac_address: taken.mac_address },
        }),
      ),
    ).toEqual({
      status: 409,
      type: 'MacAddressInUse',
      message: `Unable to complete operation for network ${other.id}. The mac address ${taken.mac_address} is in use.`,
    });
  });

  it('hands a deleted port’s address to the next create', async () => {
    const freed = made[5] as PortBody;
    expect((await neutron('DELETE', `/ports/${freed.id}`, token)).status).toBe(204);
    const next = await createPort(token, { network_id: network.id });
    expect(next.fixed_ips).toEqual([{ subnet_id: subnet.id, ip_address: freed.fixed_ips[0]?.ip_address }]);
    expect(failure(await neutron('POST', '/ports', token, { port: { network_id: network.id } })).type).toBe(
      'IpAddressGenerationFailure',
    );
  });

  it('never gives 20 concurrent creates on a /24 the same address or MAC', { timeout: 120_000 }, async () => {
    const { network: wide, subnet: wideSubnet } = await networkWithSubnet('10.130.0.0/24');
    const answers = await Promise.all(
      Array.from({ length: 20 }, () =>
        neutron<{ port: PortBody }>('POST', '/ports', token, { port: { network_id: wide.id } }),
      ),
    );
    expect(answers.map((answer) => answer.status)).toEqual(Array(20).fill(201));
    const ports = answers.map((answer) => answer.body.port);
    expect(unique(ports.map((port) => port.fixed_ips[0]?.ip_address)).size).toBe(20);
    expect(unique(ports.map((port) => port.mac_address)).size).toBe(20);
    const rows = await allocationsOf(wideSubnet.id);
    expect(rows).toHaveLength(20);
    expect(unique(rows.map((row) => row.address)).size).toBe(20);
    expect(unique(await macsOf(ports.map((port) => port.id))).size).toBe(20);
  });

  it('never leaves a port on a network deleted while ports were being created on it', {
    timeout: 120_000,
  }, async () => {
    const { network: doomed } = await networkWithSubnet('10.131.0.0/24');
    const creates = Array.from({ length: 10 }, () =>
      neutron<{ port: PortBody }>('POST', '/ports', token, {
        port: { network_id: doomed.id, device_owner: 'network:dhcp' },
      }),
    );
    const deleted = neutron('DELETE', `/networks/${doomed.id}`, token);
    const [answers, deleteAnswer] = await Promise.all([Promise.all(creates), deleted]);
    expect(deleteAnswer.status).toBe(204);
    for (const answer of answers) {
      if (answer.status !== 201)
        expect(failure(answer)).toMatchObject({ status: 404, type: 'NetworkNotFound' });
    }
    const left = await primaryDb()
      .select()
      .from(neutronPorts)
      .where(eq(neutronPorts.network_uuid, doomed.id));
    expect(left).toEqual([]);
    const addresses = await primaryDb()
      .select()
      .from(neutronIpAllocations)
      .where(eq(neutronIpAllocations.network_uuid, doomed.id));
    expect(addresses).toEqual([]);
  });

  it('re-allocates fixed IPs of concurrent updates without giving one address twice', {
    timeout: 120_000,
  }, async () => {
    const { network: busy, subnet: busySubnet } = await networkWithSubnet('10.132.0.0/28');
    const ports = await Promise.all(
      Array.from({ length: 4 }, () => createPort(token, { network_id: busy.id, fixed_ips: [] })),
    );
    // Four ports ask for a new address each, twice over, on a subnet of 13: never the same one.
    const answers = await Promise.all(
      [...ports, ...ports].map((port) =>
        neutron<{ port: PortBody }>('PUT', `/ports/${port.id}`, token, {
          port: { fixed_ips: [{ subnet_id: busySubnet.id }] },
        }),
      ),
    );
    expect(answers.map((answer) => answer.status)).toEqual(Array(8).fill(200));
    const rows = await allocationsOf(busySubnet.id);
    expect(unique(rows.map((row) => row.address)).size).toBe(rows.length);
    expect(rows.length).toBe(unique(rows.map((row) => row.port)).size);
    expect(rows.length).toBe(4);
  });
});
