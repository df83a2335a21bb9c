import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stackInfo } from '../helpers/api.ts';
import { createMember } from '../helpers/identity.ts';
import {
  adminCloud,
  type OpenstackCloud,
  openstack,
  openstackJson,
  writeCloudsYaml,
} from '../helpers/openstack-cli.ts';

// Debian 12's unmodified `openstack` CLI (python3-openstackclient 6.0, openstacksdk 0.101) against the
// networking API: networks, subnets and ports as an operator and a project member drive them.
const suffix = crypto.randomUUID().slice(0, 8);
const NETWORK = `cli-net-${suffix}`;
const RENAMED = `cli-net-renamed-${suffix}`;
const EXTERNAL = `cli-ext-${suffix}`;
const SUBNET = `cli-subnet-${suffix}`;
const SUBNET6 = `cli-subnet6-${suffix}`;
const PORT = `cli-port-${suffix}`;

let dir: string;
let cloud: OpenstackCloud;
let memberCloud: OpenstackCloud;

type Row = Record<string, unknown>;
const cli = (args: string[]) => openstack(cloud, args);
const cliJson = <T = Row>(args: string[]) => openstackJson<T>(cloud, args);

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'network-cli-'));
  cloud = await adminCloud(dir);
  const member = `cli-member-${suffix}`;
  await createMember(member, 'member-password');
  const memberDir = join(dir, 'member');
  await mkdir(memberDir);
  memberCloud = await writeCloudsYaml(memberDir, {
    authUrl: `${stackInfo().apiUrl}/identity/v3`,
    username: member,
    password: 'member-password',
    projectName: `${member}-project`,
  });
});

afterAll(async () => {
  for (const args of [
    ['port', 'delete', PORT],
    ['network', 'delete', RENAMED],
    ['network', 'delete', NETWORK],
    ['network', 'delete', EXTERNAL],
  ]) {
    await cli(args).catch(() => undefined);
  }
  await rm(dir, { recursive: true, force: true });
});

describe('the openstack CLI against the networking API', () => {
  it('creates, lists, shows and updates a network', { timeout: 120_000 }, async () => {
    const created = await cliJson(['network', 'create', '--description', 'made by the CLI', NETWORK]);
    expect(created).toMatchObject({
      name: NETWORK,
      description: 'made by the CLI',
      admin_state_up: true,
      status: 'ACTIVE',
      shared: false,
      'router:external': false,
      mtu: 1500,
      'provider:network_type': 'local',
      subnets: [],
    });
    const listed = await cliJson<Row[]>(['network', 'list']);
    expect(listed).toContainEqual({ ID: created.id, Name: NETWORK, Subnets: [] });
    const long = await cliJson<Row[]>(['network', 'list', '--long', '--name', NETWORK]);
    expect(long).toEqual([
      expect.objectContaining({
        ID: created.id,
        Status: 'ACTIVE',
        State: true,
        Shared: false,
        'Network Type': 'local',
      }),
    ]);

    await cli(['network', 'set', '--name', RENAMED, '--mtu', '1400', '--disable', NETWORK]);
    const shown = await cliJson(['network', 'show', RENAMED]);
    expect(shown).toMatchObject({ id: created.id, name: RENAMED, mtu: 1400, admin_state_up: false });
    await cli(['network', 'set', '--enable', RENAMED]);
    expect(await cliJson(['network', 'show', created.id as string])).toMatchObject({ admin_state_up: true });
  });

  it('creates IPv4 and IPv6 subnets with pools, DNS servers and a gateway', {
    timeout: 120_000,
  }, async () => {
    const v4 = await cliJson([
      'subnet',
      'create',
      '--network',
      RENAMED,
      '--subnet-range',
      '10.150.0.0/24',
      '--allocation-pool',
      'start=10.150.0.10,end=10.150.0.100',
      '--allocation-pool',
      'start=10.150.0.150,end=10.150.0.200',
      '--dns-nameserver',
      '8.8.8.8',
      '--dns-nameserver',
      '8.8.4.4',
      '--gateway',
      '10.150.0.254',
      '--host-route',
      'destination=10.151.0.0/16,gateway=10.150.0.5',
      SUBNET,
    ]);
    expect(v4).toMatchObject({
      name: SUBNET,
      cidr: '10.150.0.0/24',
      ip_version: 4,
      gateway_ip: '10.150.0.254',
      allocation_pools: [
        { start: '10.150.0.10', end: '10.150.0.100' },
        { start: '10.150.0.150', end: '10.150.0.200' },
      ],
      dns_nameservers: ['8.8.8.8', '8.8.4.4'],
      host_routes: [{ destination: '10.151.0.0/16', nexthop: '10.150.0.5' }],
      enable_dhcp: true,
    });
    const v6 = await cliJson([
      'subnet',
      'create',
      '--network',
      RENAMED,
      '--ip-version',
      '6',
      '--subnet-range',
      '2001:db8:150::/64',
      '--ipv6-ra-mode',
      'slaac',
      '--ipv6-address-mode',
      'slaac',
      SUBNET6,
    ]);
    expect(v6).toMatchObject({
      ip_version: 6,
      cidr: '2001:db8:150::/64',
      gateway_ip: '2001:db8:150::1',
      ipv6_ra_mode: 'slaac',
      ipv6_address_mode: 'slaac',
    });
    const subnets = await cliJson<Row[]>(['subnet', 'list', '--network', RENAMED]);
    expect(subnets.map((subnet) => subnet.Subnet).sort()).toEqual(['10.150.0.0/24', '2001:db8:150::/64']);
    const only6 = await cliJson<Row[]>(['subnet', 'list', '--network', RENAMED, '--ip-version', '6']);
    expect(only6.map((subnet) => subnet.Name)).toEqual([SUBNET6]);
    expect((await cliJson(['network', 'show', RENAMED])).subnets).toHaveLength(2);

    await cli(['subnet', 'set', '--dns-nameserver', '1.1.1.1', '--no-host-route', SUBNET]);
    expect(await cliJson(['subnet', 'show', SUBNET])).toMatchObject({
      dns_nameservers: expect.arrayContaining(['8.8.8.8', '8.8.4.4', '1.1.1.1']),
      host_routes: [],
    });
    await expect(
      cli([
        'subnet',
        'create',
        '--network',
        RENAMED,
        '--subnet-range',
        '10.150.0.128/25',
        `${SUBNET}-overlap`,
      ]),
    ).rejects.toThrow(/overlaps with another subnet/);
  });

  it('creates, lists, shows, renames and deletes a port', { timeout: 120_000 }, async () => {
    const port = await cliJson([
      'port',
      'create',
      '--network',
      RENAMED,
      '--fixed-ip',
      `subnet=${SUBNET},ip-address=10.150.0.50`,
      PORT,
    ]);
    const subnet = await cliJson(['subnet', 'show', SUBNET]);
    expect(port).toMatchObject({
      name: PORT,
      status: 'DOWN',
      mac_address: expect.stringMatching(/^fa:16:3e(:[0-9a-f]{2}){3}$/),
      fixed_ips: [{ subnet_id: subnet.id, ip_address: '10.150.0.50' }],
      security_group_ids: [expect.any(String)],
      binding_vif_type: 'unbound',
    });
    const listed = await cliJson<Row[]>(['port', 'list', '--network', RENAMED]);
    expect(listed).toEqual([
      {
        ID: port.id,
        Name: PORT,
        'MAC Address': port.mac_address,
        'Fixed IP Addresses': [{ subnet_id: subnet.id, ip_address: '10.150.0.50' }],
        Status: 'DOWN',
      },
    ]);
    const byAddress = await cliJson<Row[]>(['port', 'list', '--fixed-ip', 'ip-address=10.150.0.50']);
    expect(byAddress.map((row) => row.ID)).toEqual([port.id]);

    await cli(['port', 'set', '--name', `${PORT}-renamed`, PORT]);
    expect(await cliJson(['port', 'show', `${PORT}-renamed`])).toMatchObject({
      id: port.id,
      name: `${PORT}-renamed`,
    });
    await cli(['port', 'set', '--name', PORT, port.id as string]);

    await expect(cli(['network', 'delete', RENAMED])).rejects.toThrow(/ports still in use/);
    await cli(['port', 'delete', PORT]);
    expect(await cliJson<Row[]>(['port', 'list', '--network', RENAMED])).toEqual([]);
  });

  it('lists external and shared networks, which members see but cannot change', {
    timeout: 120_000,
  }, async () => {
    const external = await cliJson(['network', 'create', '--external', '--share', EXTERNAL]);
    expect(external).toMatchObject({ 'router:external': true, shared: true });
    const externals = await cliJson<Row[]>(['network', 'list', '--external']);
    expect(externals.map((row) => row.Name)).toContain(EXTERNAL);
    expect(externals.map((row) => row.Name)).not.toContain(RENAMED);
    const shared = await cliJson<Row[]>(['network', 'list', '--share']);
    expect(shared.map((row) => row.Name)).toContain(EXTERNAL);
    const internal = await cliJson<Row[]>(['network', 'list', '--internal']);
    expect(internal.map((row) => row.Name)).toContain(RENAMED);

    const asMember = await openstackJson<Row[]>(memberCloud, ['network', 'list']);
    expect(asMember.map((row) => row.Name)).toContain(EXTERNAL);
    expect(asMember.map((row) => row.Name)).not.toContain(RENAMED);
    const memberShow = await openstackJson<Row>(memberCloud, ['network', 'show', EXTERNAL]);
    // The provider attributes are an admin's to see.
    expect(memberShow['provider:network_type']).toBeNull();
    await expect(openstack(memberCloud, ['network', 'set', '--name', 'mine', EXTERNAL])).rejects.toThrow(
      /disallowed by policy/,
    );
    await expect(
      openstack(memberCloud, ['network', 'create', '--share', `${EXTERNAL}-member`]),
    ).rejects.toThrow(/disallowed by policy/);
  });

  it('deletes subnets and networks', { timeout: 120_000 }, async () => {
    await cli(['subnet', 'delete', SUBNET6]);
    await expect(cli(['subnet', 'show', SUBNET6])).rejects.toThrow(/No Subnet found/);
    await cli(['network', 'delete', RENAMED, EXTERNAL]);
    const names = (await cliJson<Row[]>(['network', 'list'])).map((row) => row.Name);
    expect(names).not.toContain(RENAMED);
    expect(names).not.toContain(EXTERNAL);
    await expect(cli(['subnet', 'show', SUBNET])).rejects.toThrow(/No Subnet found/);
  });
});
