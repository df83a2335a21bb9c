import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { neutronIpAllocations, neutronPorts } from '../../schema/tables/index.ts';
import { call, login, primaryDb } from '../helpers/api.ts';
import { createMember } from '../helpers/identity.ts';
import { removeNetworkingNamed } from '../helpers/networks.ts';

// Routers and floating IPs through /network/v2.0 against the stack: gateways on an external network,
// interfaces by subnet and by port, floating IPs allocated from the external pool, associated with a
// port through a router, released; the conflicts Neutron refuses; two projects kept apart; quotas.

type Body = Record<string, unknown>;
interface Router {
  id: string;
  external_gateway_info: {
    network_id: string;
    enable_snat: boolean;
    external_fixed_ips: Array<{ subnet_id: string; ip_address: string }>;
  } | null;
  [key: string]: unknown;
}
interface FloatingIp {
  id: string;
  floating_ip_address: string;
  floating_network_id: string;
  router_id: string | null;
  port_id: string | null;
  fixed_ip_address: string | null;
  status: string;
  port_details: Body | null;
  [key: string]: unknown;
}
interface NeutronError {
  NeutronError: { type: string; message: string; detail: string };
}

const suffix = crypto.randomUUID().slice(0, 8);
const EXTERNAL_CIDR = '198.51.100.0/24';
const POOL = { start: '198.51.100.10', end: '198.51.100.59' };

function inPool(address: string): boolean {
  const last = Number(address.split('.')[3]);
  return address.startsWith('198.51.100.') && last >= 10 && last <= 59;
}

async function created<T>(path: string, token: string, body: Body, key: string): Promise<T> {
  const response = await call<Record<string, T>>('POST', path, { token, body });
  if (response.status !== 201) {
    throw new Error(`POST ${path}: ${response.status} ${JSON.stringify(response.body)}`);
  }
  return response.body[key] as T;
}

async function network(token: string, name: string, extra: Body = {}): Promise<string> {
  return (
    await created<{ id: string }>('/network/v2.0/networks', token, { network: { name, ...extra } }, 'network')
  ).id;
}

async function subnet(token: string, networkId: string, cidr: string, extra: Body = {}): Promise<string> {
  const body = { subnet: { network_id: networkId, cidr, ip_version: 4, ...extra } };
  return (await created<{ id: string }>('/network/v2.0/subnets', token, body, 'subnet')).id;
}

/** A port of the caller's project on `networkId`, owned by a server when `deviceOwner` names one. */
async function port(token: string, networkId: string, deviceOwner = ''): Promise<{ id: string; ip: string }> {
  const owner = deviceOwner === '' ? {} : { device_owner: deviceOwner, device_id: crypto.randomUUID() };
  const made = await created<{ id: string; fixed_ips: Array<{ ip_address: string }> }>(
    '/network/v2.0/ports',
    token,
    { port: { network_id: networkId, ...owner } },
    'port',
  );
  return { id: made.id, ip: made.fixed_ips[0]?.ip_address ?? '' };
}

async function router(token: string, body: Body): Promise<Router> {
  return created<Router>('/network/v2.0/routers', token, { router: body }, 'router');
}

function errorType(body: unknown): string {
  return (body as NeutronError).NeutronError?.type;
}

async function addInterface(token: string, routerId: string, body: Body) {
  return call<Body>('PUT', `/network/v2.0/routers/${routerId}/add_router_interface`, { token, body });
}

async function removeInterface(token: string, routerId: string, body: Body) {
  return call<Body>('PUT', `/network/v2.0/routers/${routerId}/remove_router_interface`, { token, body });
}

async function floatingIp(token: string, body: Body) {
  return call<{ floatingip: FloatingIp }>('POST', '/network/v2.0/floatingips', {
    token,
    body: { floatingip: body },
  });
}

async function addressHeld(address: string): Promise<boolean> {
  const rows = await primaryDb()
    .select()
    .from(neutronIpAllocations)
    .where(eq(neutronIpAllocations.ip_address, address));
  return rows.length > 0;
}

describe('routers and floating IPs', () => {
  let admin: string;
  let member: string;
  let memberProject: string;
  let other: string;
  let external: string;
  let externalSubnet: string;
  let plain: string;

  afterAll(() => removeNetworkingNamed(admin, suffix));

  beforeAll(async () => {
    admin = await login();
    ({ projectId: memberProject } = await createMember(`l3-member-${suffix}`, 'secret-password'));
    member = await login(`l3-member-${suffix}`, 'secret-password');
    await createMember(`l3-other-${suffix}`, 'secret-password');
    other = await login(`l3-other-${suffix}`, 'secret-password');
    external = await network(admin, `public-${suffix}`, { 'router:external': true });
    externalSubnet = await subnet(admin, external, EXTERNAL_CIDR, { allocation_pools: [POOL] });
    plain = await network(admin, `not-external-${suffix}`, { shared: true });
    await subnet(admin, plain, '192.0.2.0/24');
  });

  it('creates a router with a gateway on the external network, from its pool, and clears it', async () => {
    const made = await router(member, {
      name: `r-gw-${suffix}`,
      external_gateway_info: { network_id: external },
    });
    expect(made).toMatchObject({
      name: `r-gw-${suffix}`,
      project_id: memberProject,
      tenant_id: memberProject,
      admin_state_up: true,
      status: 'ACTIVE',
      routes: [],
      external_gateway_info: { network_id: external, enable_snat: true },
    });
    const [gatewayIp] = made.external_gateway_info?.external_fixed_ips ?? [];
    expect(gatewayIp?.subnet_id).toBe(externalSubnet);
    expect(inPool(gatewayIp?.ip_address ?? '')).toBe(true);
    const [gatewayPort] = await primaryDb()
      .select()
      .from(neutronPorts)
      .where(eq(neutronPorts.device_id, made.id));
    expect(gatewayPort).toMatchObject({ device_owner: 'network:router_gateway', project_id: memberProject });

    const shown = await call<{ router: Router }>('GET', `/network/v2.0/routers/${made.id}`, {
      token: member,
    });
    expect(shown.body.router.external_gateway_info).toEqual(made.external_gateway_info);

    const snatOff = await call<{ router: Router }>('PUT', `/network/v2.0/routers/${made.id}`, {
      token: member,
      body: { router: { external_gateway_info: { network_id: external, enable_snat: false } } },
    });
    expect(snatOff.status).toBe(200);
    expect(snatOff.body.router.external_gateway_info).toEqual({
      ...made.external_gateway_info,
      enable_snat: false,
    });

    const cleared = await call<{ router: Router }>('PUT', `/network/v2.0/routers/${made.id}`, {
      token: member,
      body: { router: { external_gateway_info: {} } },
    });
    expect(cleared.status).toBe(200);
    expect(cleared.body.router.external_gateway_info).toBeNull();
    expect(await addressHeld(gatewayIp?.ip_address ?? '')).toBe(false);
    expect((await call('DELETE', `/network/v2.0/routers/${made.id}`, { token: member })).status).toBe(204);
    expect((await call('GET', `/network/v2.0/routers/${made.id}`, { token: member })).status).toBe(404);
  });

  it('refuses a gateway on a network that is not external, and bad bodies', async () => {
    const refused = await call('POST', '/network/v2.0/routers', {
      token: member,
      body: { router: { name: 'r-bad', external_gateway_info: { network_id: plain } } },
    });
    expect(refused.status).toBe(400);
    expect(JSON.stringify(refused.body)).toContain('not an external network');
    const unknown = await call('POST', '/network/v2.0/routers', {
      token: member,
      body: { router: { name: 'r-bad', colour: 'blue' } },
    });
    expect(unknown.status).toBe(400);
    expect(JSON.stringify(unknown.body)).toContain('colour');
    const routers = await call<{ routers: Router[] }>('GET', '/network/v2.0/routers?name=r-bad', {
      token: member,
    });
    expect(routers.body.routers).toEqual([]);
  });

  it('adds and removes interfaces by subnet and by port, and refuses what Neutron refuses', async () => {
    const net = await network(member, `inside-${suffix}`);
    const sub = await subnet(member, net, '10.10.0.0/24');
    const r1 = await router(member, { name: `r-if-${suffix}` });

    const added = await addInterface(member, r1.id, { subnet_id: sub });
    expect(added.status).toBe(200);
    expect(added.body).toMatchObject({
      id: r1.id,
      tenant_id: memberProject,
      project_id: memberProject,
      subnet_id: sub,
      subnet_ids: [sub],
      network_id: net,
    });
    const [interfacePort] = await primaryDb()
      .select()
      .from(neutronPorts)
      .where(eq(neutronPorts.uuid, added.body.port_id as string));
    expect(interfacePort).toMatchObject({ device_id: r1.id, device_owner: 'network:router_interface' });
    const [gatewayAllocation] = await primaryDb()
      .select()
      .from(neutronIpAllocations)
      .where(eq(neutronIpAllocations.port_uuid, added.body.port_id as string));
    expect(gatewayAllocation?.ip_address).toBe('10.10.0.1');

    const again = await addInterface(member, r1.id, { subnet_id: sub });
    expect(again.status).toBe(400);
    const r2 = await router(member, { name: `r-if2-${suffix}` });
    const second = await addInterface(member, r2.id, { subnet_id: sub });
    expect(second.status).toBe(409);
    expect(errorType(second.body)).toBe('IpAddressInUse');
    const neither = await addInterface(member, r1.id, {});
    expect(neither.status).toBe(400);

    const noGateway = await subnet(member, await network(member, `nogw-${suffix}`), '10.11.0.0/24', {
      gateway_ip: null,
    });
    const refused = await addInterface(member, r1.id, { subnet_id: noGateway });
    expect(refused.status).toBe(400);
    expect(JSON.stringify(refused.body)).toContain('does not have a gateway IP');

    const inUse = await call('DELETE', `/network/v2.0/routers/${r1.id}`, { token: member });
    expect(inUse.status).toBe(409);
    expect(errorType(inUse.body)).toBe('RouterInUse');

    // By port: a port of the project's own on another network joins the router as its interface.
    const net2 = await network(member, `inside2-${suffix}`);
    const sub2 = await subnet(member, net2, '10.12.0.0/24');
    const own = await port(member, net2);
    const byPort = await addInterface(member, r1.id, { port_id: own.id });
    expect(byPort.status).toBe(200);
    expect(byPort.body).toMatchObject({ port_id: own.id, subnet_id: sub2, network_id: net2 });
    const boundPort = await addInterface(member, r2.id, { port_id: own.id });
    expect(boundPort.status).toBe(409);
    expect(errorType(boundPort.body)).toBe('PortInUse');

    const removedByPort = await removeInterface(member, r1.id, { port_id: own.id });
    expect(removedByPort.status).toBe(200);
    expect(removedByPort.body).toMatchObject({ id: r1.id, port_id: own.id, subnet_ids: [sub2] });
    expect(await primaryDb().select().from(neutronPorts).where(eq(neutronPorts.uuid, own.id))).toEqual([]);

    const removedBySubnet = await removeInterface(member, r1.id, { subnet_id: sub });
    expect(removedBySubnet.status).toBe(200);
    expect(removedBySubnet.body).toMatchObject({ port_id: added.body.port_id, subnet_id: sub });
    expect(await addressHeld('10.10.0.1')).toBe(false);
    const gone = await removeInterface(member, r1.id, { subnet_id: sub });
    expect(gone.status).toBe(404);
    expect(errorType(gone.body)).toBe('RouterInterfaceNotFoundForSubnet');

    for (const id of [r1.id, r2.id]) {
      expect((await call('DELETE', `/network/v2.0/routers/${id}`, { token: member })).status).toBe(204);
    }
  });

  it('allocates a floating IP from the external pool, associates, disassociates and releases it', async () => {
    const net = await network(member, `fip-net-${suffix}`);
    const sub = await subnet(member, net, '10.20.0.0/24');
    const r = await router(member, {
      name: `r-fip-${suffix}`,
      external_gateway_info: { network_id: external },
    });
    expect((await addInterface(member, r.id, { subnet_id: sub })).status).toBe(200);
    const target = await port(member, net, 'compute:nova');

    const allocated = await floatingIp(member, { floating_network_id: external, description: 'web' });
    expect(allocated.status).toBe(201);
    const fip = allocated.body.floatingip;
    expect(fip).toMatchObject({
      floating_network_id: external,
      project_id: memberProject,
      tenant_id: memberProject,
      router_id: null,
      port_id: null,
      fixed_ip_address: null,
      status: 'DOWN',
      description: 'web',
      port_details: null,
      dns_name: '',
      dns_domain: '',
      tags: [],
    });
    expect(inPool(fip.floating_ip_address)).toBe(true);
    expect(await addressHeld(fip.floating_ip_address)).toBe(true);

    const associated = await call<{ floatingip: FloatingIp }>('PUT', `/network/v2.0/floatingips/${fip.id}`, {
      token: member,
      body: { floatingip: { port_id: target.id } },
    });
    expect(associated.status).toBe(200);
    expect(associated.body.floatingip).toMatchObject({
      port_id: target.id,
      fixed_ip_address: target.ip,
      router_id: r.id,
      status: 'ACTIVE',
      port_details: { network_id: net, device_owner: 'compute:nova', status: 'DOWN' },
    });
    const listed = await call<{ floatingips: FloatingIp[] }>(
      'GET',
      `/network/v2.0/floatingips?port_id=${target.id}`,
      { token: member },
    );
    expect(listed.body.floatingips.map((item) => item.id)).toEqual([fip.id]);

    // The interface and the gateway the floating IP relies on cannot go while it is associated.
    const interfaceInUse = await removeInterface(member, r.id, { subnet_id: sub });
    expect(interfaceInUse.status).toBe(409);
    expect(errorType(interfaceInUse.body)).toBe('RouterInterfaceInUseByFloatingIP');
    const gatewayInUse = await call('PUT', `/network/v2.0/routers/${r.id}`, {
      token: member,
      body: { router: { external_gateway_info: null } },
    });
    expect(gatewayInUse.status).toBe(409);
    expect(errorType(gatewayInUse.body)).toBe('RouterExternalGatewayInUseByFloatingIp');

    // One floating IP per fixed address.
    const second = await floatingIp(member, { floating_network_id: external, port_id: target.id });
    expect(second.status).toBe(409);
    expect(errorType(second.body)).toBe('FloatingIPPortAlreadyAssociated');

    const disassociated = await call<{ floatingip: FloatingIp }>(
      'PUT',
      `/network/v2.0/floatingips/${fip.id}`,
      {
        token: member,
        body: { floatingip: { port_id: null } },
      },
    );
    expect(disassociated.status).toBe(200);
    expect(disassociated.body.floatingip).toMatchObject({
      port_id: null,
      fixed_ip_address: null,
      router_id: null,
      status: 'DOWN',
      port_details: null,
    });

    // Associated at creation, with the address named.
    const atOnce = await floatingIp(member, {
      floating_network_id: external,
      port_id: target.id,
      fixed_ip_address: target.ip,
    });
    expect(atOnce.status).toBe(201);
    expect(atOnce.body.floatingip).toMatchObject({ port_id: target.id, router_id: r.id, status: 'ACTIVE' });

    for (const id of [fip.id, atOnce.body.floatingip.id]) {
      expect((await call('DELETE', `/network/v2.0/floatingips/${id}`, { token: member })).status).toBe(204);
      expect((await call('GET', `/network/v2.0/floatingips/${id}`, { token: member })).status).toBe(404);
    }
    expect(await addressHeld(fip.floating_ip_address)).toBe(false);
    expect(await addressHeld(atOnce.body.floatingip.floating_ip_address)).toBe(false);
    expect((await removeInterface(member, r.id, { subnet_id: sub })).status).toBe(200);
    expect((await call('DELETE', `/network/v2.0/routers/${r.id}`, { token: member })).status).toBe(204);
  });

  it('lets one of two floating IPs raced onto the same fixed address have it', async () => {
    const net = await network(member, `race-net-${suffix}`);
    const sub = await subnet(member, net, '10.25.0.0/24');
    const r = await router(member, {
      name: `r-race-${suffix}`,
      external_gateway_info: { network_id: external },
    });
    expect((await addInterface(member, r.id, { subnet_id: sub })).status).toBe(200);
    const target = await port(member, net);
    const fips = await Promise.all(
      [1, 2].map(async () => (await floatingIp(member, { floating_network_id: external })).body.floatingip),
    );
    const answers = await Promise.all(
      fips.map((fip) =>
        call('PUT', `/network/v2.0/floatingips/${fip.id}`, {
          token: member,
          body: { floatingip: { port_id: target.id } },
        }),
      ),
    );
    expect(answers.map((answer) => answer.status).sort()).toEqual([200, 409]);
    expect(errorType(answers.find((answer) => answer.status === 409)?.body)).toBe(
      'FloatingIPPortAlreadyAssociated',
    );
    const associated = await call<{ floatingips: FloatingIp[] }>(
      'GET',
      `/network/v2.0/floatingips?port_id=${target.id}`,
      { token: member },
    );
    expect(associated.body.floatingips).toHaveLength(1);
    for (const fip of fips) {
      expect((await call('DELETE', `/network/v2.0/floatingips/${fip.id}`, { token: member })).status).toBe(
        204,
      );
    }
    expect((await removeInterface(member, r.id, { subnet_id: sub })).status).toBe(200);
    expect((await call('DELETE', `/network/v2.0/routers/${r.id}`, { token: member })).status).toBe(204);
  });

  it('refuses a floating IP on a network that is not external, and one that no router connects', async () => {
    const notExternal = await floatingIp(member, { floating_network_id: plain });
    expect(notExternal.status).toBe(400);

    const net = await network(member, `unrouted-${suffix}`);
    await subnet(member, net, '10.30.0.0/24');
    const target = await port(member, net);
    const unreachable = await floatingIp(member, { floating_network_id: external, port_id: target.id });
    expect(unreachable.status).toBe(404);
    expect(errorType(unreachable.body)).toBe('ExternalGatewayForFloatingIPNotFound');

    // A router with an interface on the subnet but no gateway on the external network is no way out either.
    const sub = (
      await call<{ subnets: Array<{ id: string }> }>('GET', `/network/v2.0/subnets?network_id=${net}`, {
        token: member,
      })
    ).body.subnets[0]?.id;
    const r = await router(member, { name: `r-nogw-${suffix}` });
    expect((await addInterface(member, r.id, { subnet_id: sub })).status).toBe(200);
    const fip = (await floatingIp(member, { floating_network_id: external })).body.floatingip;
    const stillUnreachable = await call('PUT', `/network/v2.0/floatingips/${fip.id}`, {
      token: member,
      body: { floatingip: { port_id: target.id } },
    });
    expect(stillUnreachable.status).toBe(404);
    expect(errorType(stillUnreachable.body)).toBe('ExternalGatewayForFloatingIPNotFound');
    // A refused association leaves the floating IP as it was.
    const after = await call<{ floatingip: FloatingIp }>('GET', `/network/v2.0/floatingips/${fip.id}`, {
      token: member,
    });
    expect(after.body.floatingip).toMatchObject({ port_id: null, status: 'DOWN' });
    expect((await call('DELETE', `/network/v2.0/floatingips/${fip.id}`, { token: member })).status).toBe(204);
  });

  it("keeps projects apart: another project's routers and floating IPs are not found", async () => {
    const r = await router(member, { name: `r-mine-${suffix}` });
    const fip = (await floatingIp(member, { floating_network_id: external })).body.floatingip;
    for (const path of [`/network/v2.0/routers/${r.id}`, `/network/v2.0/floatingips/${fip.id}`]) {
      expect((await call('GET', path, { token: other })).status).toBe(404);
      expect((await call('DELETE', path, { token: other })).status).toBe(404);
    }
    const theirRouters = await call<{ routers: Router[] }>('GET', '/network/v2.0/routers', { token: other });
    expect(theirRouters.body.routers.map((item) => item.id)).not.toContain(r.id);
    const theirFips = await call<{ floatingips: FloatingIp[] }>('GET', '/network/v2.0/floatingips', {
      token: other,
    });
    expect(theirFips.body.floatingips.map((item) => item.id)).not.toContain(fip.id);
    const adminFips = await call<{ floatingips: FloatingIp[] }>(
      'GET',
      `/network/v2.0/floatingips?project_id=${memberProject}`,
      { token: admin },
    );
    expect(adminFips.body.floatingips.map((item) => item.id)).toContain(fip.id);

    // The other project's port cannot take this project's floating IP.
    const theirNet = await network(other, `theirs-${suffix}`);
    await subnet(other, theirNet, '10.40.0.0/24');
    const theirPort = await port(other, theirNet);
    const foreign = await call('PUT', `/network/v2.0/floatingips/${fip.id}`, {
      token: member,
      body: { floatingip: { port_id: theirPort.id } },
    });
    expect(foreign.status).toBe(404);
    expect(errorType(foreign.body)).toBe('PortNotFound');
    const foreignInterface = await addInterface(member, r.id, { port_id: theirPort.id });
    expect(foreignInterface.status).toBe(404);

    expect((await call('DELETE', `/network/v2.0/floatingips/${fip.id}`, { token: member })).status).toBe(204);
    expect((await call('DELETE', `/network/v2.0/routers/${r.id}`, { token: member })).status).toBe(204);
  });

  it('refuses a router or a floating IP over the project quota', async () => {
    const name = `l3-quota-${suffix}`;
    const { projectId } = await createMember(name, 'secret-password');
    const token = await login(name, 'secret-password');
    const set = await call('PUT', `/network/v2.0/quotas/${projectId}`, {
      token: admin,
      body: { quota: { router: 1, floatingip: 1 } },
    });
    expect(set.status).toBe(200);
    const first = await router(token, { name: 'only' });
    const over = await call('POST', '/network/v2.0/routers', {
      token,
      body: { router: { name: 'one-too-many' } },
    });
    expect(over.status).toBe(409);
    expect(errorType(over.body)).toBe('OverQuota');
    const fip = await floatingIp(token, { floating_network_id: external });
    expect(fip.status).toBe(201);
    const floatingPorts = async () =>
      (
        await primaryDb()
          .select()
          .from(neutronPorts)
          .where(eq(neutronPorts.device_owner, 'network:floatingip'))
      ).length;
    const before = await floatingPorts();
    const overFip = await floatingIp(token, { floating_network_id: external });
    expect(overFip.status).toBe(409);
    expect(errorType(overFip.body)).toBe('OverQuota');
    // The refused floating IP left no address behind.
    expect(await floatingPorts()).toBe(before);
    const details = await call<{ quota: Record<string, { limit: number; used: number }> }>(
      'GET',
      `/network/v2.0/quotas/${projectId}/details`,
      { token },
    );
    expect(details.body.quota.router).toEqual({ limit: 1, used: 1, reserved: 0 });
    expect(details.body.quota.floatingip).toEqual({ limit: 1, used: 1, reserved: 0 });

    expect((await call('DELETE', `/network/v2.0/routers/${first.id}`, { token })).status).toBe(204);
    expect(
      (await call('DELETE', `/network/v2.0/floatingips/${fip.body.floatingip.id}`, { token })).status,
    ).toBe(204);
    const freed = await call<{ quota: Record<string, { used: number }> }>(
      'GET',
      `/network/v2.0/quotas/${projectId}/details`,
      { token },
    );
    expect(freed.body.quota.router?.used).toBe(0);
    expect(freed.body.quota.floatingip?.used).toBe(0);
  });
});
