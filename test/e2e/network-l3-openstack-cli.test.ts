import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, login } from '../helpers/api.ts';
import { createMember } from '../helpers/identity.ts';
import { removeNetworkingNamed } from '../helpers/networks.ts';
import { adminCloud, type OpenstackCloud, openstack, openstackJson } from '../helpers/openstack-cli.ts';

// Debian 12's unmodified `openstack` CLI (python3-openstackclient 6.0 on openstacksdk 0.101) driving
// routers, floating IPs, security groups and the networking quotas, as an operator does. The networks
// and subnets they need are made through the API.

type Row = Record<string, unknown>;
const suffix = crypto.randomUUID().slice(0, 8);

let dir: string;
let cloud: OpenstackCloud;
let admin: string;

const cli = (args: string[]) => openstack(cloud, args);
const cliJson = <T = Row>(args: string[]) => openstackJson<T>(cloud, args);

async function created(path: string, body: Row, key: string): Promise<Row> {
  const response = await call<Record<string, Row>>('POST', path, { token: admin, body });
  if (response.status !== 201)
    throw new Error(`POST ${path}: ${response.status} ${JSON.stringify(response.body)}`);
  return response.body[key] as Row;
}

async function networkWithSubnet(name: string, cidr: string, extra: Row = {}) {
  const network = await created('/network/v2.0/networks', { network: { name, ...extra } }, 'network');
  const subnet = await created(
    '/network/v2.0/subnets',
    { subnet: { name: `${name}-subnet`, network_id: network.id, cidr, ip_version: 4 } },
    'subnet',
  );
  return { network: network.id as string, subnet: subnet.id as string };
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'network-l3-cli-'));
  cloud = await adminCloud(dir);
  admin = await login();
});

afterAll(async () => {
  await removeNetworkingNamed(admin, suffix);
  await rm(dir, { recursive: true, force: true });
});

describe('the openstack CLI against routers, floating IPs, security groups and quotas', () => {
  let external: { network: string; subnet: string };
  let inside: { network: string; subnet: string };

  beforeAll(async () => {
    external = await networkWithSubnet(`cli-public-${suffix}`, '203.0.113.0/24', { 'router:external': true });
    inside = await networkWithSubnet(`cli-inside-${suffix}`, '10.50.0.0/24');
  });

  it('creates a router, sets its gateway, adds and removes a subnet, and deletes it', {
    timeout: 180_000,
  }, async () => {
    const name = `cli-router-${suffix}`;
    const made = await cliJson(['router', 'create', name]);
    expect(made).toMatchObject({ name, status: 'ACTIVE', admin_state_up: true });
    expect(made.external_gateway_info ?? null).toBeNull();

    await cli(['router', 'set', '--external-gateway', `cli-public-${suffix}`, name]);
    const withGateway = await cliJson(['router', 'show', name]);
    const gateway = withGateway.external_gateway_info as {
      network_id: string;
      enable_snat: boolean;
      external_fixed_ips: Array<{ subnet_id: string; ip_address: string }>;
    };
    expect(gateway).toMatchObject({ network_id: external.network, enable_snat: true });
    expect(gateway.external_fixed_ips[0]).toMatchObject({ subnet_id: external.subnet });
    expect(gateway.external_fixed_ips[0]?.ip_address).toMatch(/^203\.0\.113\.\d+$/);

    await cli(['router', 'add', 'subnet', name, `cli-inside-${suffix}-subnet`]);
    const withInterface = await cliJson(['router', 'show', name]);
    expect(withInterface.interfaces_info).toEqual([
      { port_id: expect.any(String), ip_address: '10.50.0.1', subnet_id: inside.subnet },
    ]);
    const listed = await cliJson<Row[]>(['router', 'list']);
    expect(listed.find((router) => router.Name === name)).toMatchObject({ ID: made.id, Status: 'ACTIVE' });

    await cli(['router', 'remove', 'subnet', name, inside.subnet]);
    expect((await cliJson(['router', 'show', name])).interfaces_info).toEqual([]);
    await cli(['router', 'unset', '--external-gateway', name]);
    expect((await cliJson(['router', 'show', name])).external_gateway_info ?? null).toBeNull();
    await cli(['router', 'delete', name]);
    expect((await cliJson<Row[]>(['router', 'list'])).map((router) => router.Name)).not.toContain(name);
  });

  it('creates a floating IP, sets and unsets its port, lists, shows and deletes it', {
    timeout: 180_000,
  }, async () => {
    const routerName = `cli-fip-router-${suffix}`;
    await cli(['router', 'create', routerName]);
    await cli(['router', 'set', '--external-gateway', external.network, routerName]);
    await cli(['router', 'add', 'subnet', routerName, inside.subnet]);
    const port = await created(
      '/network/v2.0/ports',
      { port: { name: `cli-port-${suffix}`, network_id: inside.network } },
      'port',
    );
    const fixedIp = (port.fixed_ips as Array<{ ip_address: string }>)[0]?.ip_address;

    const fip = await cliJson(['floating', 'ip', 'create', `cli-public-${suffix}`]);
    expect(fip).toMatchObject({ floating_network_id: external.network, status: 'DOWN' });
    expect(fip.port_id ?? null).toBeNull();
    expect(fip.floating_ip_address).toMatch(/^203\.0\.113\.\d+$/);

    await cli(['floating', 'ip', 'set', '--port', `cli-port-${suffix}`, fip.id as string]);
    const associated = await cliJson(['floating', 'ip', 'show', fip.floating_ip_address as string]);
    expect(associated).toMatchObject({
      id: fip.id,
      port_id: port.id,
      fixed_ip_address: fixedIp,
      status: 'ACTIVE',
    });
    expect(associated.router_id).toEqual(expect.any(String));
    const listed = await cliJson<Row[]>(['floating', 'ip', 'list']);
    expect(listed.find((row) => row.ID === fip.id)).toMatchObject({
      'Floating IP Address': fip.floating_ip_address,
      'Fixed IP Address': fixedIp,
      Port: port.id,
      'Floating Network': external.network,
    });

    await cli(['floating', 'ip', 'unset', '--port', fip.id as string]);
    const disassociated = await cliJson(['floating', 'ip', 'show', fip.id as string]);
    expect(disassociated).toMatchObject({ status: 'DOWN' });
    expect(disassociated.port_id ?? null).toBeNull();

    await cli(['floating', 'ip', 'delete', fip.id as string]);
    expect((await cliJson<Row[]>(['floating', 'ip', 'list'])).map((row) => row.ID)).not.toContain(fip.id);
    await cli(['router', 'remove', 'subnet', routerName, inside.subnet]);
    await cli(['router', 'delete', routerName]);
  });

  it('creates, lists, shows and deletes a security group and its rules', { timeout: 180_000 }, async () => {
    const name = `cli-sg-${suffix}`;
    const group = await cliJson(['security', 'group', 'create', name, '--description', 'ssh in']);
    expect(group).toMatchObject({ name, description: 'ssh in' });
    const groups = await cliJson<Row[]>(['security', 'group', 'list']);
    expect(groups.find((row) => row.Name === name)).toMatchObject({ ID: group.id, Description: 'ssh in' });
    expect(groups.map((row) => row.Name)).toContain('default');

    const rule = await cliJson([
      'security',
      'group',
      'rule',
      'create',
      '--protocol',
      'tcp',
      '--dst-port',
      '22',
      '--remote-ip',
      '0.0.0.0/0',
      name,
    ]);
    expect(rule).toMatchObject({
      security_group_id: group.id,
      direction: 'ingress',
      ether_type: 'IPv4',
      protocol: 'tcp',
      port_range_min: 22,
      port_range_max: 22,
      remote_ip_prefix: '0.0.0.0/0',
    });
    const duplicate = cli([
      'security',
      'group',
      'rule',
      'create',
      '--protocol',
      'tcp',
      '--dst-port',
      '22',
      '--remote-ip',
      '0.0.0.0/0',
      name,
    ]);
    await expect(duplicate).rejects.toThrow(/already exists/);

    const rules = await cliJson<Row[]>(['security', 'group', 'rule', 'list', name]);
    expect(rules.find((row) => row.ID === rule.id)).toMatchObject({
      'IP Protocol': 'tcp',
      'IP Range': '0.0.0.0/0',
      'Port Range': '22:22',
      Direction: 'ingress',
    });
    const shown = await cliJson(['security', 'group', 'show', name]);
    expect(JSON.stringify(shown.rules)).toContain(rule.id as string);

    await cli(['security', 'group', 'rule', 'delete', rule.id as string]);
    expect(
      (await cliJson<Row[]>(['security', 'group', 'rule', 'list', name])).map((row) => row.ID),
    ).not.toContain(rule.id);
    await cli(['security', 'group', 'delete', name]);
    expect((await cliJson<Row[]>(['security', 'group', 'list'])).map((row) => row.Name)).not.toContain(name);
  });

  it('shows and sets the networking quotas with compute', { timeout: 180_000 }, async () => {
    const own = await cliJson(['quota', 'show']);
    // Networking's limits beside compute's: OSC merges both services' answers.
    expect(own).toMatchObject({ networks: 100, subnets: 100, ports: 500, routers: 10, 'floating-ips': 50 });
    expect(own.instances).toEqual(expect.any(Number));

    const member = `cli-quota-${suffix}`;
    const { projectId } = await createMember(member, 'secret-password');
    await cli(['quota', 'set', '--ports', '20', `${member}-project`]);
    await cli(['quota', 'set', '--networks', '5', projectId]);
    const shown = await cliJson(['quota', 'show', projectId]);
    expect(shown).toMatchObject({ ports: 20, networks: 5, subnets: 100, project: projectId });
    const network = await call<{ quota: Row }>('GET', `/network/v2.0/quotas/${projectId}`, { token: admin });
    expect(network.body.quota).toMatchObject({ port: 20, network: 5 });
  });
});
