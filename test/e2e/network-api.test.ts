import { and, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadNetworkInfo } from '../../functions/network/instance-cache.ts';
import {
  instanceInfoCaches,
  instances,
  neutronQuotas,
  neutronSecurityGroups,
} from '../../schema/tables/index.ts';
import { login, primaryDb } from '../helpers/api.ts';
import { createMember } from '../helpers/identity.ts';
import { newInstanceRow } from '../helpers/instance-rows.ts';
import {
  type Body,
  createNetwork,
  createPort,
  createSubnet,
  failure,
  type NetworkBody,
  neutron,
  type PortBody,
  type SubnetBody,
} from '../helpers/network-api.ts';

// The networks, subnets and ports of /network/v2.0 against the local stack: every attribute, Neutron's
// validation errors, list conventions (filters, fields, sorting, paging), project isolation, the
// admin-only attributes, quotas and deletes refused while in use.
const suffix = crypto.randomUUID().slice(0, 8);

let admin: string;
let alice: string;
let aliceProject: string;
let bob: string;
let bobProject: string;

beforeAll(async () => {
  admin = await login();
  ({ projectId: aliceProject } = await createMember(`net-alice-${suffix}`, 'alice-password'));
  alice = await login(`net-alice-${suffix}`, 'alice-password');
  ({ projectId: bobProject } = await createMember(`net-bob-${suffix}`, 'bob-password'));
  bob = await login(`net-bob-${suffix}`, 'bob-password');
});

const made: Array<{ token: () => string; path: string }> = [];
/** Deleted after the file, ports before networks (the order they are pushed in is reversed). */
function cleanup(token: () => string, path: string) {
  made.push({ token, path });
}
afterAll(async () => {
  for (const { token, path } of made.reverse()) await neutron('DELETE', path, token());
});

describe('networks', () => {
  it('creates, shows, updates and deletes a network with every attribute', async () => {
    const response = await neutron<{ network: Body }>('POST', '/networks', alice, {
      network: {
        name: `net-${suffix}`,
        description: 'a test network',
        admin_state_up: false,
        mtu: 1400,
        port_security_enabled: false,
      },
    });
    expect(response.status).toBe(201);
    const network = response.body.network;
    expect(network).toEqual({
      id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      name: `net-${suffix}`,
      description: 'a test network',
      tenant_id: aliceProject,
      project_id: aliceProject,
      admin_state_up: false,
      status: 'ACTIVE',
      shared: false,
      'router:external': false,
      mtu: 1400,
      port_security_enabled: false,
      subnets: [],
      availability_zone_hints: [],
      availability_zones: ['nova'],
      ipv4_address_scope: null,
      ipv6_address_scope: null,
      is_default: false,
      tags: [],
      created_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/),
      updated_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/),
      revision_number: 1,
    });
    const id = network.id as string;

    // The provider attributes are an admin's to see.
    const asAdmin = await neutron<{ network: Body }>('GET', `/networks/${id}`, admin);
    expect(asAdmin.body.network).toMatchObject({
      'provider:network_type': 'local',
      'provider:physical_network': null,
      'provider:segmentation_id': null,
    });

    const fields = await neutron<{ network: Body }>('GET', `/networks/${id}?fields=id&fields=name`, alice);
    expect(fields.body.network).toEqual({ id, name: `net-${suffix}` });

    const updated = await neutron<{ network: Body }>('PUT', `/networks/${id}`, alice, {
      network: { name: `renamed-${suffix}`, admin_state_up: true, mtu: 1450, description: '' },
    });
    expect(updated.status).toBe(200);
    expect(updated.body.network).toMatchObject({
      name: `renamed-${suffix}`,
      admin_state_up: true,
      mtu: 1450,
      description: '',
      revision_number: 2,
    });

    expect((await neutron('DELETE', `/networks/${id}`, alice)).status).toBe(204);
    expect(failure(await neutron('GET', `/networks/${id}`, alice))).toEqual({
      status: 404,
      type: 'NetworkNotFound',
      message: `Network ${id} could not be found.`,
    });
  });

  it('refuses unknown attributes, bad values and admin-only attributes from members', async () => {
    const unknown = failure(
      await neutron('POST', '/networks', alice, { network: { name: 'x', colour: 'red' } }),
    );
    expect(unknown.status).toBe(400);
    expect(unknown.message).toContain('colour');
    expect(failure(await neutron('POST', '/networks', alice, { network: { mtu: 9000 } }))).toMatchObject({
      status: 400,
      message: expect.stringContaining('Requested MTU is too big, maximum is 1500'),
    });
    expect(
      failure(await neutron('POST', '/networks', alice, { network: { admin_state_up: 'yes' } })).status,
    ).toBe(400);
    expect(failure(await neutron('POST', '/networks', alice, { net: {} })).status).toBe(400);
    for (const attribute of [
      { shared: true },
      { 'router:external': true },
      { 'provider:network_type': 'flat', 'provider:physical_network': 'physnet1' },
    ]) {
      expect(failure(await neutron('POST', '/networks', alice, { network: attribute }))).toMatchObject({
        status: 403,
        type: 'PolicyNotAuthorized',
      });
    }
    // Giving the default value sets nothing: allowed, as in Neutron.
    const plain = await createNetwork(alice, { name: `plain-${suffix}`, shared: false });
    cleanup(() => alice, `/networks/${plain.id}`);
    expect(
      failure(await neutron('PUT', `/networks/${plain.id}`, alice, { network: { shared: true } })),
    ).toMatchObject({ status: 403, type: 'PolicyNotAuthorized' });
    expect(
      failure(await neutron('PUT', `/networks/${plain.id}`, alice, { network: { id: 'other' } })).status,
    ).toBe(400);
  });

  it('validates provider networks and keeps a VLAN id unique per physical network', async () => {
    const physnet = `phys-${suffix}`;
    const cases: Array<[Body, string]> = [
      [
        { 'provider:network_type': 'vlan', 'provider:segmentation_id': 10 },
        'physical_network required for VLAN provider network.',
      ],
      [
        { 'provider:network_type': 'vlan', 'provider:physical_network': physnet },
        'segmentation_id required for VLAN provider network.',
      ],
      [
        {
          'provider:network_type': 'vlan',
          'provider:physical_network': physnet,
          'provider:segmentation_id': 4095,
        },
        'segmentation_id out of range (1 through 4094).',
      ],
      [{ 'provider:network_type': 'flat' }, 'physical_network required for flat provider network.'],
      [
        {
          'provider:network_type': 'flat',
          'provider:physical_network': physnet,
          'provider:segmentation_id': 7,
        },
        'segmentation_id prohibited for flat provider network.',
      ],
    ];
    for (const [attributes, message] of cases) {
      expect(failure(await neutron('POST', '/networks', admin, { network: attributes }))).toEqual({
        status: 400,
        type: 'InvalidInput',
        message: `Invalid input for operation: ${message}`,
      });
    }
    expect(
      failure(await neutron('POST', '/networks', admin, { network: { 'provider:network_type': 'vxlan' } }))
        .status,
    ).toBe(400);

    const vlan = await createNetwork(admin, {
      name: `vlan-${suffix}`,
      'provider:network_type': 'vlan',
      'provider:physical_network': physnet,
      'provider:segmentation_id': 100,
    });
    cleanup(() => admin, `/networks/${vlan.id}`);
    expect(vlan).toMatchObject({
      'provider:network_type': 'vlan',
      'provider:physical_network': physnet,
      'provider:segmentation_id': 100,
    });
    expect(
      failure(
        await neutron('POST', '/networks', admin, {
          network: {
            'provider:network_type': 'vlan',
            'provider:physical_network': physnet,
            'provider:segmentation_id': 100,
          },
        }),
      ),
    ).toEqual({
      status: 409,
      type: 'VlanIdInUse',
      message: `Unable to create the network. The VLAN 100 on physical network ${physnet} is in use.`,
    });
    // The same VLAN id on another physical network is another segment.
    const other = await createNetwork(admin, {
      'provider:network_type': 'vlan',
      'provider:physical_network': `${physnet}-b`,
      'provider:segmentation_id': 100,
    });
    cleanup(() => admin, `/networks/${other.id}`);
    const flat = await createNetwork(admin, {
      'provider:network_type': 'flat',
      'provider:physical_network': physnet,
    });
    cleanup(() => admin, `/networks/${flat.id}`);
    expect(flat).toMatchObject({ 'provider:network_type': 'flat', 'provider:segmentation_id': null });
    expect(
      failure(
        await neutron('PUT', `/networks/${vlan.id}`, admin, { network: { 'provider:segmentation_id': 101 } }),
      ).status,
    ).toBe(400);
    // Members see neither another project's network nor, on their own, the provider attributes.
    expect(failure(await neutron('GET', `/networks/${vlan.id}`, alice)).type).toBe('NetworkNotFound');
  });
});

describe('subnets', () => {
  let network: NetworkBody;
  beforeAll(async () => {
    network = await createNetwork(alice, { name: `subnets-${suffix}` });
    cleanup(() => alice, `/networks/${network.id}`);
  });

  it('creates an IPv4 subnet with Neutron defaults and shows it on its network', async () => {
    const subnet = await createSubnet(alice, { network_id: network.id, cidr: '10.20.0.0/24', name: 'v4' });
    cleanup(() => alice, `/subnets/${subnet.id}`);
    expect(subnet).toEqual({
      id: expect.any(String),
      name: 'v4',
      description: '',
      tenant_id: aliceProject,
      project_id: aliceProject,
      network_id: network.id,
      ip_version: 4,
      cidr: '10.20.0.0/24',
      gateway_ip: '10.20.0.1',
      enable_dhcp: true,
      allocation_pools: [{ start: '10.20.0.2', end: '10.20.0.254' }],
      dns_nameservers: [],
      host_routes: [],
      ipv6_address_mode: null,
      ipv6_ra_mode: null,
      subnetpool_id: null,
      segment_id: null,
      service_types: [],
      tags: [],
      created_at: expect.any(String),
      updated_at: expect.any(String),
      revision_number: 1,
    });
    const shown = await neutron<{ network: NetworkBody }>('GET', `/networks/${network.id}`, alice);
    expect(shown.body.network.subnets).toEqual([subnet.id]);
  });

  it('splits the default pools around a given gateway and takes DNS servers and host routes', async () => {
    const subnet = await createSubnet(alice, {
      network_id: network.id,
      cidr: '10.21.0.0/24',
      gateway_ip: '10.21.0.100',
      dns_nameservers: ['8.8.8.8', '2001:4860:4860:0:0:0:0:8888'],
      host_routes: [{ destination: '192.168.0.0/16', nexthop: '10.21.0.9' }],
      enable_dhcp: false,
    });
    cleanup(() => alice, `/subnets/${subnet.id}`);
    expect(subnet).toMatchObject({
      gateway_ip: '10.21.0.100',
      allocation_pools: [
        { start: '10.21.0.1', end: '10.21.0.99' },
        { start: '10.21.0.101', end: '10.21.0.254' },
      ],
      dns_nameservers: ['8.8.8.8', '2001:4860:4860::8888'],
      host_routes: [{ destination: '192.168.0.0/16', nexthop: '10.21.0.9' }],
      enable_dhcp: false,
    });
    const noGateway = await createSubnet(alice, {
      network_id: network.id,
      cidr: '10.22.0.0/29',
      gateway_ip: null,
    });
    cleanup(() => alice, `/subnets/${noGateway.id}`);
    expect(noGateway).toMatchObject({
      gateway_ip: null,
      allocation_pools: [{ start: '10.22.0.1', end: '10.22.0.6' }],
    });
  });

  it('creates an IPv6 subnet in canonical form', async () => {
    const subnet = await createSubnet(alice, {
      network_id: network.id,
      ip_version: 6,
      cidr: '2001:DB8:20:0::/64',
      ipv6_address_mode: 'slaac',
      ipv6_ra_mode: 'slaac',
    });
    cleanup(() => alice, `/subnets/${subnet.id}`);
    expect(subnet).toMatchObject({
      ip_version: 6,
      cidr: '2001:db8:20::/64',
      gateway_ip: '2001:db8:20::1',
      allocation_pools: [{ start: '2001:db8:20::2', end: '2001:db8:20:0:ffff:ffff:ffff:ffff' }],
      ipv6_address_mode: 'slaac',
      ipv6_ra_mode: 'slaac',
    });
    const stateful = await createSubnet(alice, {
      network_id: network.id,
      ip_version: 6,
      cidr: '2001:db8:21::/120',
      gateway_ip: '2001:db8:21::ff',
      ipv6_address_mode: 'dhcpv6-stateful',
    });
    cleanup(() => alice, `/subnets/${stateful.id}`);
    expect(stateful.allocation_pools).toEqual([{ start: '2001:db8:21::1', end: '2001:db8:21::fe' }]);
    expect(
      failure(
        await neutron('POST', '/subnets', alice, {
          subnet: {
            network_id: network.id,
            ip_version: 6,
            cidr: '2001:db8:22::/80',
            ipv6_address_mode: 'slaac',
          },
        }),
      ),
    ).toMatchObject({
      status: 400,
      type: 'InvalidInput',
      message: expect.stringContaining('requires the prefix to be /64'),
    });
  });

  it('refuses bad CIDRs, gateways, pools, DNS servers and routes with Neutron errors', async () => {
    const attempt = async (attributes: Body) =>
      failure(
        await neutron('POST', '/subnets', alice, {
          subnet: { network_id: network.id, ip_version: 4, cidr: '10.30.0.0/24', ...attributes },
        }),
      );
    expect(await attempt({ cidr: '10.20.0.128/25' })).toEqual({
      status: 400,
      type: 'InvalidInput',
      message: `Invalid input for operation: Requested subnet with cidr: 10.20.0.128/25 for network: ${network.id} overlaps with another subnet.`,
    });
    expect(await attempt({ cidr: '10.30.0.5/24' })).toEqual({
      status: 400,
      type: 'HTTPBadRequest',
      message:
        "Invalid input for cidr. Reason: '10.30.0.5/24' isn't a recognized IP subnet cidr, '10.30.0.0/24' is recommended.",
    });
    expect(await attempt({ cidr: 'ten/8' })).toMatchObject({
      status: 400,
      message: expect.stringContaining('is not a valid IP subnet'),
    });
    expect(await attempt({ ip_version: 6 })).toEqual({
      status: 400,
      type: 'InvalidInput',
      message: "Invalid input for operation: cidr '10.30.0.0/24' does not match the ip_version '6'",
    });
    expect(await attempt({ gateway_ip: '10.31.0.1' })).toEqual({
      status: 400,
      type: 'InvalidInput',
      message: 'Invalid input for operation: Gateway is not valid on subnet',
    });
    expect(await attempt({ allocation_pools: [{ start: '10.30.0.10', end: '10.30.1.10' }] })).toEqual({
      status: 400,
      type: 'OutOfBoundsAllocationPool',
      message: 'The allocation pool 10.30.0.10-10.30.1.10 spans beyond the subnet cidr.',
    });
    expect(await attempt({ allocation_pools: [{ start: '10.30.0.200', end: '10.30.0.255' }] })).toMatchObject(
      {
        status: 400,
        type: 'OutOfBoundsAllocationPool',
      },
    );
    expect(await attempt({ allocation_pools: [{ start: '10.30.0.20', end: '10.30.0.10' }] })).toMatchObject({
      status: 400,
      type: 'InvalidAllocationPool',
    });
    expect(
      await attempt({
        allocation_pools: [
          { start: '10.30.0.10', end: '10.30.0.50' },
          { start: '10.30.0.40', end: '10.30.0.60' },
        ],
      }),
    ).toEqual({
      status: 409,
      type: 'OverlappingAllocationPools',
      message: 'Found overlapping allocation pools: 10.30.0.10-10.30.0.50 and 10.30.0.40-10.30.0.60.',
    });
    expect(await attempt({ allocation_pools: [{ start: '10.30.0.1', end: '10.30.0.9' }] })).toEqual({
      status: 409,
      type: 'GatewayConflictWithAllocationPools',
      message: 'Gateway ip 10.30.0.1 conflicts with allocation pool 10.30.0.1-10.30.0.9.',
    });
    expect(
      await attempt({ dns_nameservers: ['1.1.1.1', '1.1.1.2', '1.1.1.3', '1.1.1.4', '1.1.1.5', '1.1.1.6'] }),
    ).toMatchObject({
      status: 400,
      type: 'DNSNameServersExhausted',
    });
    expect(await attempt({ dns_nameservers: ['1.1.1.1', '1.1.1.1'] })).toMatchObject({
      status: 400,
      message: expect.stringContaining("Duplicate nameserver '1.1.1.1'"),
    });
    expect(await attempt({ dns_nameservers: ['dns.example'] })).toMatchObject({ status: 400 });
    const routes = Array.from({ length: 21 }, (_, index) => ({
      destination: `172.16.${index}.0/24`,
      nexthop: '10.30.0.2',
    }));
    expect(await attempt({ host_routes: routes })).toMatchObject({
      status: 400,
      type: 'HostRoutesExhausted',
    });
    expect(
      await attempt({ host_routes: [{ destination: '2001:db8::/64', nexthop: '10.30.0.2' }] }),
    ).toMatchObject({
      status: 400,
      type: 'InvalidInput',
    });
    expect(await attempt({ subnetpool_id: 'a-pool' })).toMatchObject({ status: 400 });
    expect(await attempt({ colour: 'red' })).toMatchObject({
      status: 400,
      message: expect.stringContaining('colour'),
    });
    // Nothing was written by the refusals.
    const listed = await neutron<{ subnets: SubnetBody[] }>(
      'GET',
      `/subnets?network_id=${network.id}&cidr=10.30.0.0/24`,
      alice,
    );
    expect(listed.body.subnets).toEqual([]);
  });

  it('updates a subnet, and refuses pools that leave out an allocated address', async () => {
    const subnet = await createSubnet(alice, { network_id: network.id, cidr: '10.40.0.0/24' });
    cleanup(() => alice, `/subnets/${subnet.id}`);
    const port = await createPort(alice, {
      network_id: network.id,
      fixed_ips: [{ subnet_id: subnet.id, ip_address: '10.40.0.50' }],
    });
    const updated = await neutron<{ subnet: Body }>('PUT', `/subnets/${subnet.id}`, alice, {
      subnet: {
        name: 'renamed',
        dns_nameservers: ['9.9.9.9'],
        host_routes: [{ destination: '0.0.0.0/0', nexthop: '10.40.0.254' }],
        enable_dhcp: false,
        allocation_pools: [{ start: '10.40.0.10', end: '10.40.0.200' }],
      },
    });
    expect(updated.status).toBe(200);
    expect(updated.body.subnet).toMatchObject({
      name: 'renamed',
      dns_nameservers: ['9.9.9.9'],
      host_routes: [{ destination: '0.0.0.0/0', nexthop: '10.40.0.254' }],
      enable_dhcp: false,
      allocation_pools: [{ start: '10.40.0.10', end: '10.40.0.200' }],
      revision_number: 2,
    });
    expect(
      failure(
        await neutron('PUT', `/subnets/${subnet.id}`, alice, {
          subnet: { allocation_pools: [{ start: '10.40.0.100', end: '10.40.0.200' }] },
        }),
      ),
    ).toMatchObject({
      status: 409,
      type: 'IpAddressAlreadyAllocated',
      message: expect.stringContaining('10.40.0.50'),
    });
    expect(
      failure(await neutron('PUT', `/subnets/${subnet.id}`, alice, { subnet: { gateway_ip: '10.40.0.20' } })),
    ).toMatchObject({ status: 409, type: 'GatewayConflictWithAllocationPools' });
    const moved = await neutron<{ subnet: Body }>('PUT', `/subnets/${subnet.id}`, alice, {
      subnet: { gateway_ip: '10.40.0.254' },
    });
    expect(moved.body.subnet).toMatchObject({ gateway_ip: '10.40.0.254' });
    expect(
      failure(await neutron('PUT', `/subnets/${subnet.id}`, alice, { subnet: { cidr: '10.41.0.0/24' } }))
        .status,
    ).toBe(400);

    expect(failure(await neutron('DELETE', `/subnets/${subnet.id}`, alice))).toEqual({
      status: 409,
      type: 'SubnetInUse',
      message: `Unable to complete operation on subnet ${subnet.id}: One or more ports have an IP allocation from this subnet.`,
    });
    expect((await neutron('DELETE', `/ports/${port.id}`, alice)).status).toBe(204);
    expect((await neutron('DELETE', `/subnets/${subnet.id}`, alice)).status).toBe(204);
    expect(failure(await neutron('GET', `/subnets/${subnet.id}`, alice)).type).toBe('SubnetNotFound');
  });
});

describe('ports', () => {
  let network: NetworkBody;
  let v4: SubnetBody;
  let v6: SubnetBody;
  let defaultGroup: string;
  beforeAll(async () => {
    network = await createNetwork(alice, { name: `ports-${suffix}` });
    cleanup(() => alice, `/networks/${network.id}`);
    v4 = await createSubnet(alice, { network_id: network.id, cidr: '10.50.0.0/24' });
    v6 = await createSubnet(alice, { network_id: network.id, ip_version: 6, cidr: '2001:db8:50::/64' });
  });

  it('creates a port with an address on each IP version, a generated MAC and the default group', async () => {
    const response = await neutron<{ port: Body }>('POST', '/ports', alice, {
      port: { network_id: network.id, name: 'first', device_id: 'vm-1', device_owner: 'compute:nova' },
    });
    expect(response.status).toBe(201);
    const port = response.body.port as PortBody;
    cleanup(() => alice, `/ports/${port.id}`);
    expect(port).toEqual({
      id: expect.any(String),
      name: 'first',
      description: '',
      network_id: network.id,
      tenant_id: aliceProject,
      project_id: aliceProject,
      mac_address: expect.stringMatching(/^fa:16:3e(:[0-9a-f]{2}){3}$/),
      admin_state_up: true,
      status: 'DOWN',
      device_id: 'vm-1',
      device_owner: 'compute:nova',
      fixed_ips: [
        { subnet_id: v4.id, ip_address: expect.stringMatching(/^10\.50\.0\.\d+$/) },
        { subnet_id: v6.id, ip_address: expect.stringMatching(/^2001:db8:50:0:/) },
      ],
      security_groups: [expect.any(String)],
      allowed_address_pairs: [],
      extra_dhcp_opts: [],
      port_security_enabled: true,
      'binding:vnic_type': 'normal',
      tags: [],
      created_at: expect.any(String),
      updated_at: expect.any(String),
      revision_number: 1,
    });
    defaultGroup = port.security_groups[0] as string;
    const [group] = await primaryDb()
      .select({ name: neutronSecurityGroups.name, project_id: neutronSecurityGroups.project_id })
      .from(neutronSecurityGroups)
      .where(eq(neutronSecurityGroups.uuid, defaultGroup));
    expect(group).toEqual({ name: 'default', project_id: aliceProject });

    const asAdmin = await neutron<{ port: Body }>('GET', `/ports/${port.id}`, admin);
    expect(asAdmin.body.port).toMatchObject({
      'binding:host_id': '',
      'binding:vif_type': 'unbound',
      'binding:vif_details': {},
      'binding:profile': {},
    });
  });

  it('takes fixed IPs by subnet and address, a given MAC, address pairs and port security', async () => {
    const exact = await createPort(alice, {
      network_id: network.id,
      fixed_ips: [{ subnet_id: v4.id, ip_address: '10.50.0.10' }, { ip_address: '2001:DB8:50::A' }],
      mac_address: 'FA:16:3E:AA:BB:01',
      allowed_address_pairs: [
        { ip_address: '10.50.0.128/25' },
        { ip_address: '10.50.0.7', mac_address: 'fa:16:3e:00:00:07' },
      ],
    });
    cleanup(() => alice, `/ports/${exact.id}`);
    expect(exact).toMatchObject({
      mac_address: 'fa:16:3e:aa:bb:01',
      fixed_ips: [
        { subnet_id: v4.id, ip_address: '10.50.0.10' },
        { subnet_id: v6.id, ip_address: '2001:db8:50::a' },
      ],
      allowed_address_pairs: [
        { ip_address: '10.50.0.128/25', mac_address: 'fa:16:3e:aa:bb:01' },
        { ip_address: '10.50.0.7', mac_address: 'fa:16:3e:00:00:07' },
      ],
    });
    const bySubnet = await createPort(alice, { network_id: network.id, fixed_ips: [{ subnet_id: v6.id }] });
    cleanup(() => alice, `/ports/${bySubnet.id}`);
    expect(bySubnet.fixed_ips).toEqual([
      { subnet_id: v6.id, ip_address: expect.stringMatching(/^2001:db8:50:0:/) },
    ]);
    const noAddress = await createPort(alice, {
      network_id: network.id,
      fixed_ips: [],
      port_security_enabled: false,
    });
    cleanup(() => alice, `/ports/${noAddress.id}`);
    expect(noAddress).toMatchObject({ fixed_ips: [], security_groups: [], port_security_enabled: false });

    const refusals: Array<[Body, { status: number; type: string }]> = [
      [{ fixed_ips: [{ ip_address: '10.50.0.10' }] }, { status: 409, type: 'IpAddressInUse' }],
      [{ fixed_ips: [{ ip_address: '10.50.0.1' }] }, { status: 400, type: 'InvalidInput' }],
      [{ fixed_ips: [{ ip_address: '10.50.0.255' }] }, { status: 400, type: 'InvalidIpForSubnet' }],
      [{ fixed_ips: [{ ip_address: '10.99.0.5' }] }, { status: 400, type: 'InvalidIpForSubnet' }],
      [
        { fixed_ips: [{ subnet_id: v4.id, ip_address: '2001:db8:50::9' }] },
        { status: 400, type: 'InvalidIpForSubnet' },
      ],
      [{ mac_address: 'fa:16:3e:aa:bb:01' }, { status: 409, type: 'MacAddressInUse' }],
      [{ mac_address: '01:00:5e:00:00:01' }, { status: 400, type: 'HTTPBadRequest' }],
      [
        { port_security_enabled: false, security_groups: [defaultGroup] },
        { status: 409, type: 'PortSecurityAndIPRequiredForSecurityGroups' },
      ],
      [{ 'binding:host_id': 'compute-1' }, { status: 403, type: 'PolicyNotAuthorized' }],
      [{ 'binding:profile': { a: 1 } }, { status: 403, type: 'PolicyNotAuthorized' }],
      [{ security_groups: [crypto.randomUUID()] }, { status: 404, type: 'SecurityGroupNotFound' }],
      [{ 'binding:vnic_type': 'weird' }, { status: 400, type: 'BadRequest' }],
      [{ extra: 1 }, { status: 400, type: 'BadRequest' }],
    ];
    for (const [attributes, expected] of refusals) {
      const answer = failure(
        await neutron('POST', '/ports', alice, { port: { network_id: network.id, ...attributes } }),
      );
      expect({ ...answer, message: undefined }, JSON.stringify(attributes)).toEqual({
        ...expected,
        message: undefined,
      });
    }
    expect(
      failure(
        await neutron('POST', '/ports', alice, {
          port: { network_id: network.id, fixed_ips: [{ ip_address: '10.50.0.10' }] },
        }),
      ).message,
    ).toBe(`Unable to complete operation for network ${network.id}. The IP address 10.50.0.10 is in use.`);

    const bound = await createPort(admin, {
      network_id: network.id,
      tenant_id: aliceProject,
      'binding:host_id': 'compute-1',
      'binding:profile': { pci_slot: '0000:00:01.0' },
      'binding:vnic_type': 'direct',
    });
    cleanup(() => admin, `/ports/${bound.id}`);
    expect(bound).toMatchObject({
      project_id: aliceProject,
      'binding:host_id': 'compute-1',
      'binding:vif_type': 'bridge',
      'binding:profile': { pci_slot: '0000:00:01.0' },
      'binding:vnic_type': 'direct',
    });
    const seenByOwner = await neutron<{ port: Body }>('GET', `/ports/${bound.id}`, alice);
    expect(seenByOwner.body.port).not.toHaveProperty('binding:host_id');
    expect(seenByOwner.body.port).not.toHaveProperty('binding:profile');
    expect(seenByOwner.body.port).toHaveProperty('binding:vnic_type', 'direct');
  });

  it('updates a port: attributes, fixed IPs re-allocated, the freed address reusable', async () => {
    const port = await createPort(alice, {
      network_id: network.id,
      fixed_ips: [{ subnet_id: v4.id, ip_address: '10.50.0.20' }, { subnet_id: v6.id }],
    });
    cleanup(() => alice, `/ports/${port.id}`);
    const v6Address = port.fixed_ips[1]?.ip_address;
    const updated = await neutron<{ port: PortBody }>('PUT', `/ports/${port.id}`, alice, {
      port: {
        name: 'changed',
        description: 'moved',
        admin_state_up: false,
        device_id: 'vm-2',
        device_owner: 'compute:nova',
        fixed_ips: [
          { subnet_id: v6.id, ip_address: v6Address },
          { subnet_id: v4.id, ip_address: '10.50.0.21' },
          { subnet_id: v4.id },
        ],
        allowed_address_pairs: [{ ip_address: '10.50.0.99' }],
      },
    });
    expect(updated.status).toBe(200);
    const after = updated.body.port;
    expect(after).toMatchObject({
      name: 'changed',
      description: 'moved',
      admin_state_up: false,
      device_id: 'vm-2',
      device_owner: 'compute:nova',
      allowed_address_pairs: [{ ip_address: '10.50.0.99', mac_address: port.mac_address }],
      revision_number: 2,
    });
    expect(after.fixed_ips.map((fixedIp) => fixedIp.ip_address).sort()).toEqual(
      expect.arrayContaining([v6Address, '10.50.0.21']),
    );
    expect(after.fixed_ips).toHaveLength(3);
    expect(after.fixed_ips.map((fixedIp) => fixedIp.ip_address)).not.toContain('10.50.0.20');
    // The address the port gave up is free again.
    const reuse = await createPort(alice, {
      network_id: network.id,
      fixed_ips: [{ ip_address: '10.50.0.20' }],
    });
    cleanup(() => alice, `/ports/${reuse.id}`);
    expect(
      failure(
        await neutron('PUT', `/ports/${port.id}`, alice, {
          port: { fixed_ips: [{ ip_address: '10.50.0.20' }] },
        }),
      ),
    ).toMatchObject({ status: 409, type: 'IpAddressInUse' });

    expect(
      failure(await neutron('PUT', `/ports/${port.id}`, alice, { port: { port_security_enabled: false } })),
    ).toMatchObject({ status: 409, type: 'PortSecurityPortHasSecurityGroup' });
    const insecure = await neutron<{ port: PortBody }>('PUT', `/ports/${port.id}`, alice, {
      port: { port_security_enabled: false, security_groups: [], allowed_address_pairs: [] },
    });
    expect(insecure.body.port).toMatchObject({ port_security_enabled: false, security_groups: [] });

    // The MAC is an admin's to change, and only while the port is unbound.
    expect(
      failure(
        await neutron('PUT', `/ports/${port.id}`, alice, { port: { mac_address: 'fa:16:3e:aa:bb:02' } }),
      ),
    ).toMatchObject({ status: 403, type: 'PolicyNotAuthorized' });
    const newMac = await neutron<{ port: PortBody }>('PUT', `/ports/${port.id}`, admin, {
      port: { mac_address: 'fa:16:3e:aa:bb:02' },
    });
    expect(newMac.body.port.mac_address).toBe('fa:16:3e:aa:bb:02');
    await neutron('PUT', `/ports/${port.id}`, admin, { port: { 'binding:host_id': 'compute-2' } });
    expect(
      failure(
        await neutron('PUT', `/ports/${port.id}`, admin, { port: { mac_address: 'fa:16:3e:aa:bb:03' } }),
      ),
    ).toMatchObject({ status: 409, type: 'PortBound' });
    expect(
      failure(await neutron('PUT', `/ports/${port.id}`, alice, { port: { network_id: network.id } })).status,
    ).toBe(400);
  });

  it("refuses to delete a router's port through the port API", async () => {
    const port = await createPort(alice, {
      network_id: network.id,
      device_owner: 'network:router_interface',
      device_id: 'r1',
    });
    expect(failure(await neutron('DELETE', `/ports/${port.id}`, alice))).toEqual({
      status: 409,
      type: 'ServicePortInUse',
      message: `Port ${port.id} cannot be deleted directly via the port API: has device owner network:router_interface.`,
    });
    await neutron('PUT', `/ports/${port.id}`, alice, { port: { device_owner: '' } });
    expect((await neutron('DELETE', `/ports/${port.id}`, alice)).status).toBe(204);
    expect(failure(await neutron('GET', `/ports/${port.id}`, alice)).type).toBe('PortNotFound');
  });

  it('creates ports in bulk, all or nothing', async () => {
    const bulk = await neutron<{ ports: PortBody[] }>('POST', '/ports', alice, {
      ports: [
        { network_id: network.id, name: `bulk-${suffix}`, fixed_ips: [{ ip_address: '10.50.0.60' }] },
        { network_id: network.id, name: `bulk-${suffix}`, fixed_ips: [{ ip_address: '10.50.0.61' }] },
      ],
    });
    expect(bulk.status).toBe(201);
    expect(bulk.body.ports.map((port) => port.fixed_ips[0]?.ip_address)).toEqual([
      '10.50.0.60',
      '10.50.0.61',
    ]);
    for (const port of bulk.body.ports) cleanup(() => alice, `/ports/${port.id}`);

    const refused = await neutron('POST', '/ports', alice, {
      ports: [
        { network_id: network.id, name: `undone-${suffix}`, fixed_ips: [{ ip_address: '10.50.0.70' }] },
        { network_id: network.id, name: `undone-${suffix}`, fixed_ips: [{ ip_address: '10.50.0.60' }] },
      ],
    });
    expect(failure(refused)).toMatchObject({ status: 409, type: 'IpAddressInUse' });
    const left = await neutron<{ ports: PortBody[] }>('GET', `/ports?name=undone-${suffix}`, alice);
    expect(left.body.ports).toEqual([]);
    // The first item's address went with it.
    const again = await createPort(alice, {
      network_id: network.id,
      fixed_ips: [{ ip_address: '10.50.0.70' }],
    });
    cleanup(() => alice, `/ports/${again.id}`);
  });
});

describe('list conventions', () => {
  const names = ['alpha', 'bravo', 'charlie', 'delta', 'echo'].map((name) => `list-${suffix}-${name}`);
  const ids = new Map<string, string>();
  beforeAll(async () => {
    const bulk = await neutron<{ networks: NetworkBody[] }>('POST', '/networks', alice, {
      networks: names.map((name, index) => ({ name, admin_state_up: index % 2 === 0, mtu: 1400 + index })),
    });
    expect(bulk.status).toBe(201);
    for (const network of bulk.body.networks) {
      ids.set(network.name, network.id);
      cleanup(() => alice, `/networks/${network.id}`);
    }
  });

  async function listNetworks(query: string) {
    return neutron<{ networks: NetworkBody[]; networks_links?: Array<{ rel: string; href: string }> }>(
      'GET',
      `/networks?${query}`,
      alice,
    );
  }

  it('filters, repeated values meaning any of them, booleans and integers', async () => {
    const both = await listNetworks(`name=${names[0]}&name=${names[3]}`);
    expect(both.body.networks.map((network) => network.name).sort()).toEqual([names[0], names[3]]);
    const down = await listNetworks(`admin_state_up=False&project_id=${aliceProject}`);
    expect(
      down.body.networks
        .map((network) => network.name)
        .filter((name) => names.includes(name))
        .sort(),
    ).toEqual([names[1], names[3]]);
    const mtu = await listNetworks('mtu=1402');
    expect(mtu.body.networks.map((network) => network.name)).toContain(names[2]);
    expect(mtu.body.networks.every((network) => network.mtu === 1402)).toBe(true);
    expect(failure(await listNetworks('colour=red'))).toMatchObject({
      status: 400,
      message: "['colour'] is invalid attribute for filtering",
    });
    expect(failure(await listNetworks('admin_state_up=maybe')).status).toBe(400);
    expect(failure(await listNetworks('mtu=big')).status).toBe(400);
    expect(failure(await listNetworks('sort_key=subnets')).status).toBe(400);
    expect(failure(await listNetworks('sort_key=name&sort_dir=sideways')).status).toBe(400);
  });

  it('trims items to the fields asked for and sorts by the keys given', async () => {
    const filter = names.map((name) => `name=${name}`).join('&');
    const trimmed = await listNetworks(`${filter}&fields=id&fields=name`);
    for (const network of trimmed.body.networks) expect(Object.keys(network).sort()).toEqual(['id', 'name']);
    const descending = await listNetworks(`${filter}&sort_key=name&sort_dir=desc`);
    expect(descending.body.networks.map((network) => network.name)).toEqual([...names].reverse());
    const byState = await listNetworks(
      `${filter}&sort_key=admin_state_up&sort_dir=asc&sort_key=name&sort_dir=desc`,
    );
    expect(byState.body.networks.map((network) => network.name)).toEqual([
      names[3],
      names[1],
      names[4],
      names[2],
      names[0],
    ]);
  });

  it('pages with limit and marker, with next and previous links', async () => {
    const filter = names.map((name) => `name=${name}`).join('&');
    const first = await listNetworks(`${filter}&sort_key=name&limit=2`);
    expect(first.body.networks.map((network) => network.name)).toEqual(names.slice(0, 2));
    const next = first.body.networks_links?.find((link) => link.rel === 'next')?.href;
    expect(next).toBeDefined();
    expect(first.body.networks_links?.find((link) => link.rel === 'previous')).toBeUndefined();
    const nextUrl = new URL(next as string);
    expect(nextUrl.searchParams.get('marker')).toBe(ids.get(names[1] as string));
    const second = await neutron<{
      networks: NetworkBody[];
      networks_links: Array<{ rel: string; href: string }>;
    }>('GET', `${nextUrl.pathname.replace('/network/v2.0', '')}${nextUrl.search}`, alice);
    expect(second.body.networks.map((network) => network.name)).toEqual(names.slice(2, 4));
    const previous = second.body.networks_links.find((link) => link.rel === 'previous')?.href as string;
    const previousUrl = new URL(previous);
    const back = await neutron<{ networks: NetworkBody[] }>(
      'GET',
      `${previousUrl.pathname.replace('/network/v2.0', '')}${previousUrl.search}`,
      alice,
    );
    expect(back.body.networks.map((network) => network.name)).toEqual(names.slice(0, 2));
    const last = await listNetworks(`${filter}&sort_key=name&limit=2&marker=${ids.get(names[3] as string)}`);
    expect(last.body.networks.map((network) => network.name)).toEqual([names[4]]);
    expect(last.body.networks_links?.map((link) => link.rel)).toEqual(['previous']);
    expect(failure(await listNetworks(`marker=${crypto.randomUUID()}`))).toMatchObject({
      status: 404,
      type: 'NetworkNotFound',
    });
  });

  it("filters ports by fixed IP, subnet, device and MAC with Neutron's syntax", async () => {
    const network = await createNetwork(alice, { name: `filters-${suffix}` });
    cleanup(() => alice, `/networks/${network.id}`);
    const a = await createSubnet(alice, { network_id: network.id, cidr: '10.60.0.0/24' });
    const b = await createSubnet(alice, { network_id: network.id, cidr: '10.61.0.0/24' });
    const one = await createPort(alice, {
      network_id: network.id,
      device_id: `dev-${suffix}`,
      fixed_ips: [{ ip_address: '10.60.0.5' }],
    });
    const two = await createPort(alice, { network_id: network.id, fixed_ips: [{ ip_address: '10.61.0.5' }] });
    cleanup(() => alice, `/ports/${one.id}`);
    cleanup(() => alice, `/ports/${two.id}`);
    const ids = async (query: string) =>
      (await neutron<{ ports: PortBody[] }>('GET', `/ports?${query}`, alice)).body.ports
        .map((port) => port.id)
        .sort();
    expect(await ids('fixed_ips=ip_address%3D10.60.0.5')).toEqual([one.id]);
    expect(await ids(`fixed_ips=subnet_id%3D${b.id}`)).toEqual([two.id]);
    expect(await ids(`fixed_ips=subnet_id%3D${a.id}&fixed_ips=subnet_id%3D${b.id}`)).toEqual(
      [one.id, two.id].sort(),
    );
    expect(await ids(`fixed_ips=subnet_id%3D${a.id}&fixed_ips=ip_address%3D10.61.0.5`)).toEqual([]);
    expect(await ids(`network_id=${network.id}&fixed_ips=ip_address_substr%3D61.0`)).toEqual([two.id]);
    expect(await ids(`device_id=dev-${suffix}`)).toEqual([one.id]);
    expect(await ids(`mac_address=${two.mac_address}`)).toEqual([two.id]);
    expect(await ids(`network_id=${network.id}&status=DOWN`)).toEqual([one.id, two.id].sort());
    expect(failure(await neutron('GET', '/ports?fixed_ips=mac%3D1', alice)).status).toBe(400);
    expect(failure(await neutron('GET', '/ports?binding:host_id=compute-1', alice)).status).toBe(400);
    const asAdmin = await neutron<{ ports: PortBody[] }>(
      'GET',
      `/ports?network_id=${network.id}&binding:host_id=`,
      admin,
    );
    expect(asAdmin.body.ports).toHaveLength(2);
  });
});

describe('project isolation', () => {
  let privateNet: NetworkBody;
  let privateSubnet: SubnetBody;
  let privatePort: PortBody;
  let sharedNet: NetworkBody;
  let sharedSubnet: SubnetBody;
  let externalNet: NetworkBody;
  beforeAll(async () => {
    privateNet = await createNetwork(alice, { name: `private-${suffix}` });
    cleanup(() => alice, `/networks/${privateNet.id}`);
    privateSubnet = await createSubnet(alice, { network_id: privateNet.id, cidr: '10.70.0.0/24' });
    privatePort = await createPort(alice, { network_id: privateNet.id });
    cleanup(() => alice, `/ports/${privatePort.id}`);
    sharedNet = await createNetwork(admin, { name: `shared-${suffix}`, shared: true });
    cleanup(() => admin, `/networks/${sharedNet.id}`);
    sharedSubnet = await createSubnet(admin, { network_id: sharedNet.id, cidr: '10.71.0.0/24' });
    externalNet = await createNetwork(admin, { name: `external-${suffix}`, 'router:external': true });
    cleanup(() => admin, `/networks/${externalNet.id}`);
  });

  it("answers 404 for another project's network, subnet and port", async () => {
    for (const [path, type] of [
      [`/networks/${privateNet.id}`, 'NetworkNotFound'],
      [`/subnets/${privateSubnet.id}`, 'SubnetNotFound'],
      [`/ports/${privatePort.id}`, 'PortNotFound'],
    ] as const) {
      expect(failure(await neutron('GET', path, bob))).toMatchObject({ status: 404, type });
      expect(failure(await neutron('DELETE', path, bob))).toMatchObject({ status: 404, type });
    }
    expect(
      failure(await neutron('PUT', `/networks/${privateNet.id}`, bob, { network: { name: 'x' } })).type,
    ).toBe('NetworkNotFound');
    expect(
      failure(await neutron('POST', '/ports', bob, { port: { network_id: privateNet.id } })),
    ).toMatchObject({
      status: 404,
      type: 'NetworkNotFound',
    });
    expect(
      failure(
        await neutron('POST', '/subnets', bob, {
          subnet: { network_id: privateNet.id, ip_version: 4, cidr: '10.72.0.0/24' },
        }),
      ),
    ).toMatchObject({ status: 404, type: 'NetworkNotFound' });
    const listed = await neutron<{ networks: NetworkBody[] }>('GET', '/networks', bob);
    expect(listed.body.networks.map((network) => network.id)).not.toContain(privateNet.id);
    const ports = await neutron<{ ports: PortBody[] }>('GET', '/ports', bob);
    expect(ports.body.ports.map((port) => port.id)).not.toContain(privatePort.id);
    expect(
      failure(await neutron('POST', '/networks', bob, { network: { tenant_id: aliceProject } })),
    ).toMatchObject({ status: 400 });
  });

  it('shows shared and external networks to every project, writable only by their owner', async () => {
    const visible = await neutron<{ networks: NetworkBody[] }>('GET', '/networks', bob);
    const ids = visible.body.networks.map((network) => network.id);
    expect(ids).toEqual(expect.arrayContaining([sharedNet.id, externalNet.id]));
    const external = await neutron<{ networks: NetworkBody[] }>('GET', '/networks?router:external=True', bob);
    expect(external.body.networks.map((network) => network.id)).toContain(externalNet.id);
    expect(external.body.networks.every((network) => network['router:external'] === true)).toBe(true);
    const shared = await neutron<{ networks: NetworkBody[] }>('GET', '/networks?shared=true', bob);
    expect(shared.body.networks.map((network) => network.id)).toContain(sharedNet.id);
    expect((await neutron('GET', `/subnets/${sharedSubnet.id}`, bob)).status).toBe(200);

    expect(
      failure(await neutron('PUT', `/networks/${sharedNet.id}`, bob, { network: { name: 'mine' } })),
    ).toMatchObject({
      status: 403,
      type: 'PolicyNotAuthorized',
    });
    expect(failure(await neutron('DELETE', `/networks/${externalNet.id}`, bob))).toMatchObject({
      status: 403,
    });
    expect(
      failure(await neutron('PUT', `/subnets/${sharedSubnet.id}`, bob, { subnet: { name: 'mine' } })),
    ).toMatchObject({
      status: 403,
    });
    expect(
      failure(
        await neutron('POST', '/subnets', bob, {
          subnet: { network_id: sharedNet.id, ip_version: 4, cidr: '10.73.0.0/24' },
        }),
      ),
    ).toMatchObject({ status: 403, type: 'PolicyNotAuthorized' });
    // A port on an external network that is not shared is not the project's to make.
    expect(
      failure(await neutron('POST', '/ports', bob, { port: { network_id: externalNet.id } })),
    ).toMatchObject({
      status: 404,
      type: 'NetworkNotFound',
    });

    // On a shared network: a port by subnet, not by address (that is the network owner's).
    const port = await createPort(bob, {
      network_id: sharedNet.id,
      fixed_ips: [{ subnet_id: sharedSubnet.id }],
    });
    cleanup(() => bob, `/ports/${port.id}`);
    expect(port).toMatchObject({ project_id: bobProject });
    expect(
      failure(
        await neutron('POST', '/ports', bob, {
          port: { network_id: sharedNet.id, fixed_ips: [{ ip_address: '10.71.0.9' }] },
        }),
      ),
    ).toMatchObject({ status: 403, type: 'PolicyNotAuthorized' });
    // Bob's port keeps the network shared.
    expect(
      failure(await neutron('PUT', `/networks/${sharedNet.id}`, admin, { network: { shared: false } })),
    ).toMatchObject({
      status: 409,
      type: 'InvalidSharedSetting',
    });
  });

  it('keeps an external network external while a floating IP holds an address on it', async () => {
    const subnet = await createSubnet(admin, { network_id: externalNet.id, cidr: '10.74.0.0/24' });
    const floating = await createPort(admin, {
      network_id: externalNet.id,
      device_owner: 'network:floatingip',
    });
    expect(
      failure(
        await neutron('PUT', `/networks/${externalNet.id}`, admin, { network: { 'router:external': false } }),
      ),
    ).toMatchObject({ status: 409, type: 'ExternalNetworkInUse' });
    expect(failure(await neutron('DELETE', `/networks/${externalNet.id}`, admin))).toMatchObject({
      status: 409,
      type: 'NetworkInUse',
    });
    await neutron('PUT', `/ports/${floating.id}`, admin, { port: { device_owner: '' } });
    expect((await neutron('DELETE', `/ports/${floating.id}`, admin)).status).toBe(204);
    expect((await neutron('DELETE', `/subnets/${subnet.id}`, admin)).status).toBe(204);
    const internal = await neutron<{ network: NetworkBody }>('PUT', `/networks/${externalNet.id}`, admin, {
      network: { 'router:external': false },
    });
    expect(internal.body.network).toMatchObject({ 'router:external': false });
    await neutron('PUT', `/networks/${externalNet.id}`, admin, { network: { 'router:external': true } });
  });

  it("shows a network's owner the ports other projects have on it", async () => {
    const port = await createPort(admin, { network_id: privateNet.id, tenant_id: bobProject });
    cleanup(() => admin, `/ports/${port.id}`);
    const asAlice = await neutron<{ ports: PortBody[] }>('GET', `/ports?network_id=${privateNet.id}`, alice);
    expect(asAlice.body.ports.map((listed) => listed.id)).toEqual(
      expect.arrayContaining([port.id, privatePort.id]),
    );
    expect((await neutron('GET', `/ports/${port.id}`, bob)).status).toBe(200);
  });
});

describe('quotas and deletes in use', () => {
  it('refuses a network, subnet or port over quota with 409 OverQuota, bulk creates undone', async () => {
    const name = `quota-${suffix}`;
    const { projectId } = await createMember(name, 'quota-password');
    const token = await login(name, 'quota-password');
    await primaryDb()
      .insert(neutronQuotas)
      .values(
        (['network', 'subnet', 'port'] as const).map((resource) => ({
          project_id: projectId,
          resource,
          hard_limit: 1,
          created_at: new Date(),
        })),
      );
    const network = await createNetwork(token, { name });
    cleanup(() => token, `/networks/${network.id}`);
    expect(failure(await neutron('POST', '/networks', token, { network: { name } }))).toEqual({
      status: 409,
      type: 'OverQuota',
      message: "Quota exceeded for resources: ['network'].",
    });
    await createSubnet(token, { network_id: network.id, cidr: '10.80.0.0/24' });
    expect(
      failure(
        await neutron('POST', '/subnets', token, {
          subnet: { network_id: network.id, ip_version: 4, cidr: '10.81.0.0/24' },
        }),
      ),
    ).toMatchObject({ status: 409, type: 'OverQuota' });
    const port = await createPort(token, { network_id: network.id });
    cleanup(() => token, `/ports/${port.id}`);
    expect(
      failure(await neutron('POST', '/ports', token, { port: { network_id: network.id } })),
    ).toMatchObject({
      status: 409,
      type: 'OverQuota',
      message: "Quota exceeded for resources: ['port'].",
    });
    // A bulk create that passes the limit part way leaves nothing behind.
    await primaryDb().update(neutronQuotas).set({ hard_limit: 2 }).where(eqQuota(projectId, 'network'));
    const bulk = await neutron('POST', '/networks', token, {
      networks: [{ name: `${name}-b` }, { name: `${name}-b` }],
    });
    expect(failure(bulk)).toMatchObject({ status: 409, type: 'OverQuota' });
    const listed = await neutron<{ networks: NetworkBody[] }>('GET', `/networks?name=${name}-b`, token);
    expect(listed.body.networks).toEqual([]);
    // What the undo gave back can be used again.
    const third = await createNetwork(token, { name: `${name}-c` });
    cleanup(() => token, `/networks/${third.id}`);
  });

  it('refuses to delete a network while ports use it, but takes its DHCP port with it', async () => {
    const network = await createNetwork(alice, { name: `in-use-${suffix}` });
    const subnet = await createSubnet(alice, { network_id: network.id, cidr: '10.90.0.0/24' });
    const port = await createPort(alice, { network_id: network.id, device_owner: 'compute:nova' });
    expect(failure(await neutron('DELETE', `/networks/${network.id}`, alice))).toEqual({
      status: 409,
      type: 'NetworkInUse',
      message: `Unable to complete operation on network ${network.id}. There are one or more ports still in use on the network, id for these ports is: ${port.id}.`,
    });
    await neutron('DELETE', `/ports/${port.id}`, alice);
    const dhcp = await createPort(alice, { network_id: network.id, device_owner: 'network:dhcp' });
    expect((await neutron('DELETE', `/networks/${network.id}`, alice)).status).toBe(204);
    expect(failure(await neutron('GET', `/subnets/${subnet.id}`, alice)).type).toBe('SubnetNotFound');
    expect(failure(await neutron('GET', `/ports/${dhcp.id}`, alice)).type).toBe('PortNotFound');
  });
});

describe('server network cache', () => {
  it("rewrites a server's cached addresses when its port changes or goes, not when another project names it", async () => {
    const network = await createNetwork(alice, { name: `cache-${suffix}` });
    cleanup(() => alice, `/networks/${network.id}`);
    const subnet = await createSubnet(alice, { network_id: network.id, cidr: '10.95.0.0/24' });
    const server = newInstanceRow({ project_id: aliceProject, display_name: `cache-${suffix}` });
    const serverId = server.uuid as string;
    await primaryDb().insert(instances).values(server);
    try {
      const addresses = async () =>
        (await loadNetworkInfo(primaryDb(), serverId)).flatMap((vif) =>
          vif.network.subnets.flatMap((on) => on.ips.map((held) => held.address)),
        );
      const port = await createPort(alice, {
        network_id: network.id,
        device_id: serverId,
        device_owner: 'compute:nova',
        fixed_ips: [{ subnet_id: subnet.id, ip_address: '10.95.0.10' }],
      });
      expect(await addresses()).toEqual(['10.95.0.10']);
      await neutron('PUT', `/ports/${port.id}`, alice, {
        port: { fixed_ips: [{ ip_address: '10.95.0.11' }] },
      });
      expect(await addresses()).toEqual(['10.95.0.11']);
      expect((await neutron('DELETE', `/ports/${port.id}`, alice)).status).toBe(204);
      expect(await addresses()).toEqual([]);
      // Bob's port naming Alice's server as its device does not reach Alice's server.
      const shared = await createNetwork(admin, { name: `cache-shared-${suffix}`, shared: true });
      cleanup(() => admin, `/networks/${shared.id}`);
      await createSubnet(admin, { network_id: shared.id, cidr: '10.96.0.0/24' });
      const intruder = await createPort(bob, {
        network_id: shared.id,
        device_id: serverId,
        device_owner: 'compute:nova',
      });
      cleanup(() => bob, `/ports/${intruder.id}`);
      expect(await addresses()).toEqual([]);
      // Nor does it when Alice's server is next rebuilt from its ports: only her own port is read.
      const own = await createPort(alice, {
        network_id: network.id,
        device_id: serverId,
        device_owner: 'compute:nova',
        fixed_ips: [{ subnet_id: subnet.id, ip_address: '10.95.0.12' }],
      });
      cleanup(() => alice, `/ports/${own.id}`);
      expect(await addresses()).toEqual(['10.95.0.12']);
    } finally {
      await primaryDb().delete(instanceInfoCaches).where(eq(instanceInfoCaches.instance_uuid, serverId));
      await primaryDb().delete(instances).where(eq(instances.uuid, serverId));
    }
  });
});

function eqQuota(projectId: string, resource: string) {
  return and(eq(neutronQuotas.project_id, projectId), eq(neutronQuotas.resource, resource));
}
