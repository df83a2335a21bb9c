import { DescribeExecutionCommand, SFNClient, StopExecutionCommand } from '@aws-sdk/client-sfn';
import { and, asc, eq, inArray, like } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  fixedIps,
  floatingIps,
  instanceInfoCaches,
  instances as instancesTable,
  networkMigrationMap,
  networkMigrationPlugs,
  networkMigrations,
  neutronFloatingIps,
  neutronIpAllocations,
  neutronNetworks,
  neutronPorts,
  neutronRouters,
  neutronSubnets,
  novaNetworks,
  virtualInterfaces,
} from '../../schema/tables/index.ts';
import { call, IMAGE, login, primaryDb, stackInfo, waitForServer } from '../helpers/api.ts';
import { startRegisteredTestAgent } from '../helpers/hosts.ts';
import {
  cachesText,
  type GuestInterfaces,
  guestInterfaces,
  legacyTables,
  type NetworkMigrationView,
  recordedNetworkApi,
  showNetworkMigration,
  tableCounts,
  waitForNetworkMigration,
} from '../helpers/network-migration-state.ts';
import { useNetworkApi } from '../helpers/network-mode.ts';
import { waitUntil } from '../helpers/wait.ts';

// The migration of a nova-network deployment to the networking service (issue 14, item 5): three
// legacy networks (two FlatDHCP, one VLAN), 200 servers booted through the API onto four fake hosts of
// this file's own, and 50 floating IPs (30 associated). A dry run, a dry run and a real run with
// planted conflicts, a run stopped mid-way and rolled back, and a run stopped mid-way (the crash) and
// resumed to the end, checked address by address: every VIF's MAC and IP against its port, every
// floating IP against its counterpart, and every guest's interfaces as its fake driver recorded them.

const ZONE = 'az-netmig';
const HOSTS = ['netmig-1', 'netmig-2', 'netmig-3', 'netmig-4'];
const SERVERS = 200;
const FLOATING_IPS = 50;
const ASSOCIATED = 30;
// Ranges and a physical network no other test file uses, so leftovers elsewhere cannot clash.
const PHYSNET = 'physnet-netmig';
const VLAN = 3917;
const POOL = 'netmig-pool';
const NETWORKS = [
  { label: 'netmig-flat-a', cidr: '100.100.0.0/24', bridge: 'br-netmig-a' },
  { label: 'netmig-flat-b', cidr: '100.100.1.0/24', bridge: 'br-netmig-b' },
  { label: 'netmig-vlan-c', cidr: '100.100.2.0/24', vlan: VLAN },
];
const FLOATING_RANGE = '198.18.77.0/26';

const sfn = new SFNClient({
  region: 'us-east-1',
  endpoint: stackInfo().sfnEndpoint,
  credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
});

let token: string;
let projectId: string;
const agents: Array<{ stop(): Promise<void> }> = [];
const networkIds: number[] = [];
const networkUuids: string[] = [];
const servers: string[] = [];
const migrationUuids: string[] = [];
/** The API's view of every server's addresses, before any migration. */
const addressesBefore = new Map<string, unknown>();

async function adminProject(): Promise<string> {
  const response = await fetch(`${stackInfo().apiUrl}/identity/v3/auth/tokens`, {
    headers: { 'x-auth-token': token, 'x-subject-token': token },
  });
  const body = (await response.json()) as { token: { project: { id: string } } };
  return body.token.project.id;
}

/** Runs `work` over `items`, `width` at a time. */
async function inParallel<T, R>(
  items: readonly T[],
  width: number,
  work: (item: T, index: number) => Promise<R>,
) {
  const results: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < items.length) {
        const index = next++;
        results[index] = await work(items[index] as T, index);
      }
    }),
  );
  return results;
}

async function expectStatus(response: Promise<{ status: number; body: unknown }>, status: number) {
  const answered = await response;
  expect(answered.status, JSON.stringify(answered.body)).toBe(status);
  return answered.body;
}

async function startMigration(body: Record<string, unknown>): Promise<NetworkMigrationView> {
  const answer = (await expectStatus(
    call('POST', '/v3/os-network-migrations', { token, body: { network_migration: body } }),
    202,
  )) as { network_migration: NetworkMigrationView };
  migrationUuids.push(answer.network_migration.id);
  return answer.network_migration;
}

async function executionArn(uuid: string): Promise<string> {
  const [row] = await primaryDb()
    .select({ arn: networkMigrations.execution_arn })
    .from(networkMigrations)
    .where(eq(networkMigrations.uuid, uuid));
  if (!row?.arn) throw new Error(`migration ${uuid} has no execution`);
  return row.arn;
}

/** Stops the run's execution as a crash would (nothing of the run's own gets to react), once `when` holds. */
async function crashWhen(uuid: string, what: string, when: (run: NetworkMigrationView) => boolean) {
  await waitUntil(what, () => showNetworkMigration(token, uuid), {
    timeoutMs: 120_000,
    intervalMs: 20,
    until: when,
  });
  const arn = await executionArn(uuid);
  await sfn.send(
    new StopExecutionCommand({ executionArn: arn, error: 'Crash', cause: 'the test stopped it' }),
  );
  await waitUntil(
    'the stopped execution to be aborted',
    () => sfn.send(new DescribeExecutionCommand({ executionArn: arn })),
    { timeoutMs: 10_000, intervalMs: 50, until: (execution) => execution.status === 'ABORTED' },
  );
}

/** What each legacy VIF of the file's networks is, address by address. */
async function legacyInterfaces() {
  const db = primaryDb();
  const vifs = await db
    .select({
      id: virtualInterfaces.id,
      uuid: virtualInterfaces.uuid,
      mac: virtualInterfaces.address,
      instance: virtualInterfaces.instance_uuid,
      network: novaNetworks.uuid,
    })
    .from(virtualInterfaces)
    .innerJoin(novaNetworks, eq(novaNetworks.id, virtualInterfaces.network_id))
    .where(and(inArray(virtualInterfaces.network_id, networkIds), eq(virtualInterfaces.deleted, 0)))
    .orderBy(asc(virtualInterfaces.id));
  const addresses = await db
    .select({ id: fixedIps.id, address: fixedIps.address, vif: fixedIps.virtual_interface_id })
    .from(fixedIps)
    .where(and(inArray(fixedIps.network_id, networkIds), eq(fixedIps.deleted, 0)));
  return vifs.map((vif) => ({
    ...vif,
    ips: addresses.filter((ip) => ip.vif === vif.id).map((ip) => ip.address),
  }));
}

async function serverAddresses(id: string) {
  const response = await call<{ server: { addresses: Record<string, unknown[]> } }>(
    'GET',
    `/v3/servers/${id}`,
    {
      token,
    },
  );
  expect(response.status).toBe(200);
  return response.body.server.addresses;
}

beforeAll(async () => {
  await useNetworkApi('nova-network');
  token = await login();
  projectId = await adminProject();
  // The migration carries every live legacy object: this file's must be the only ones.
  const leftovers = await primaryDb()
    .select({ uuid: novaNetworks.uuid })
    .from(novaNetworks)
    .where(eq(novaNetworks.deleted, 0));
  expect(leftovers, 'nova-network networks another test file left behind').toEqual([]);
  const floatingLeftovers = await primaryDb()
    .select({ address: floatingIps.address })
    .from(floatingIps)
    .where(eq(floatingIps.deleted, 0));
  expect(floatingLeftovers, 'nova-network floating IPs another test file left behind').toEqual([]);

  for (const host of HOSTS) {
    agents.push(
      await startRegisteredTestAgent({
        host,
        availabilityZone: ZONE,
        vcpus: 64,
        memoryMb: 64 * 1024,
        localGb: 2000,
        // A re-plug takes a moment, so that a run can be caught half way through its re-plugging.
        env: { AGENT_FAKE_LATENCY_MS: 'plug_vifs=200' },
      }),
    );
  }
  for (const network of NETWORKS) {
    const body = (await expectStatus(
      call('POST', '/v3/os-networks', {
        token,
        body: { network: { ...network, ...(network.vlan ? { project_id: projectId } : {}) } },
      }),
      200,
    )) as { network: { id: string } };
    networkUuids.push(body.network.id);
  }
  const rows = await primaryDb()
    .select({ id: novaNetworks.id })
    .from(novaNetworks)
    .where(inArray(novaNetworks.uuid, networkUuids))
    .orderBy(asc(novaNetworks.id));
  networkIds.push(...rows.map((row) => row.id));
  await expectStatus(
    call('POST', '/v3/os-floating-ips-bulk', {
      token,
      body: { floating_ips_bulk_create: { ip_range: FLOATING_RANGE, pool: POOL } },
    }),
    200,
  );

  // 200 servers over the three networks; every tenth also on the VLAN network (two interfaces).
  const created = await inParallel(
    Array.from({ length: SERVERS }, (_, i) => i),
    25,
    async (i) => {
      const own = networkUuids[i % 3] ?? '';
      const networks =
        i % 10 === 0 && i % 3 !== 2 ? [{ uuid: own }, { uuid: networkUuids[2] }] : [{ uuid: own }];
      const response = await call<{ server: { id: string } }>('POST', '/v3/servers', {
        token,
        body: {
          server: {
            name: `netmig-${i}`,
            image_ref: IMAGE,
            flavor_ref: '1',
            availability_zone: ZONE,
            networks,
          },
        },
      });
      if (response.status !== 202)
        throw new Error(`boot ${i}: ${response.status} ${JSON.stringify(response.body)}`);
      servers.push(response.body.server.id);
      await waitForServer(token, response.body.server.id, ['ACTIVE', 'ERROR'], 180_000);
      return response.body.server.id;
    },
  );
  const statuses = await inParallel(
    created,
    25,
    async (id) => (await waitForServer(token, id, ['ACTIVE']))?.status,
  );
  expect(statuses.every((status) => status === 'ACTIVE')).toBe(true);

  const floating = await inParallel(Array.from({ length: FLOATING_IPS }), 10, async () => {
    const body = (await expectStatus(
      call('POST', '/v3/os-floating-ips', { token, body: { pool: POOL } }),
      200,
    )) as {
      floating_ip: { ip: string };
    };
    return body.floating_ip.ip;
  });
  // 30 associated: ten on servers of each network.
  await inParallel(floating.slice(0, ASSOCIATED), 10, async (address, i) => {
    await expectStatus(
      call('POST', `/v3/servers/${created[i]}/action`, { token, body: { addFloatingIp: { address } } }),
      202,
    );
  });
  await inParallel(created, 25, async (id) => {
    addressesBefore.set(id, await serverAddresses(id));
  });
}, 900_000);

afterAll(async () => {
  const db = primaryDb();
  await inParallel(servers, 25, async (id) => {
    await call('DELETE', `/v3/servers/${id}`, { token });
    await waitForServer(token, id, ['DELETED'], 120_000);
  });
  await Promise.all(agents.map((agent) => agent.stop()));
  // What the runs created in the networking service, by their map, then the runs themselves.
  const created = migrationUuids.length
    ? await db
        .select()
        .from(networkMigrationMap)
        .where(inArray(networkMigrationMap.migration_uuid, migrationUuids))
    : [];
  const uuidsOf = (kind: string) =>
    created.filter((entry) => entry.kind === kind).map((entry) => entry.new_uuid);
  const networks = uuidsOf('network');
  const routers = uuidsOf('router');
  if (networks.length > 0) {
    const ports = await db
      .select({ uuid: neutronPorts.uuid })
      .from(neutronPorts)
      .where(inArray(neutronPorts.network_uuid, networks));
    const portUuids = ports.map((port) => port.uuid);
    if (portUuids.length > 0) {
      await db.delete(neutronFloatingIps).where(inArray(neutronFloatingIps.floating_port_uuid, portUuids));
      await db.delete(neutronIpAllocations).where(inArray(neutronIpAllocations.port_uuid, portUuids));
      await db.delete(neutronPorts).where(inArray(neutronPorts.uuid, portUuids));
    }
    await db.delete(neutronSubnets).where(inArray(neutronSubnets.network_uuid, networks));
    await db.delete(neutronNetworks).where(inArray(neutronNetworks.uuid, networks));
  }
  if (routers.length > 0) await db.delete(neutronRouters).where(inArray(neutronRouters.uuid, routers));
  if (migrationUuids.length > 0) {
    await db.delete(networkMigrationMap).where(inArray(networkMigrationMap.migration_uuid, migrationUuids));
    await db
      .delete(networkMigrationPlugs)
      .where(inArray(networkMigrationPlugs.migration_uuid, migrationUuids));
    await db.delete(networkMigrations).where(inArray(networkMigrations.uuid, migrationUuids));
  }
  if (networkIds.length > 0) {
    await db.delete(virtualInterfaces).where(inArray(virtualInterfaces.network_id, networkIds));
    await db.delete(fixedIps).where(inArray(fixedIps.network_id, networkIds));
    await db.delete(novaNetworks).where(inArray(novaNetworks.id, networkIds));
  }
  await db.delete(floatingIps).where(eq(floatingIps.pool, POOL));
  if (servers.length > 0)
    await db.delete(instanceInfoCaches).where(inArray(instanceInfoCaches.instance_uuid, servers));
  await useNetworkApi('neutron');
  sfn.destroy();
}, 600_000);

describe('nova-network → networking service migration', () => {
  it('boots the legacy deployment: 200 servers on nova-network, 50 floating IPs, 30 associated', async () => {
    const interfaces = await legacyInterfaces();
    expect(new Set(interfaces.map((vif) => vif.instance)).size).toBe(SERVERS);
    expect(interfaces.every((vif) => vif.ips.length === 1)).toBe(true);
    const allocated = await primaryDb().select().from(floatingIps).where(eq(floatingIps.pool, POOL));
    expect(allocated.filter((ip) => ip.project_id !== null)).toHaveLength(FLOATING_IPS);
    expect(allocated.filter((ip) => ip.fixed_ip_id !== null)).toHaveLength(ASSOCIATED);
  });

  it('reports a dry run and writes nothing but its own row', async () => {
    const counts = await tableCounts();
    const legacy = await legacyTables(networkIds);
    const caches = await cachesText(servers);
    const started = await startMigration({ dry_run: true, physical_network: PHYSNET });
    expect(started).toMatchObject({ status: 'planning', dry_run: true });
    const run = await waitForNetworkMigration(token, started.id, ['planned', 'refused']);
    expect(run.status).toBe('planned');
    expect(run.report.conflicts).toEqual([]);
    const plan = run.report.plan;
    const vifs = await legacyInterfaces();
    expect(plan?.ports).toHaveLength(vifs.length);
    expect(plan?.floating_ips).toHaveLength(FLOATING_IPS);
    expect(plan?.instances_to_plug).toBe(SERVERS);
    // One router per network with floating IPs on its servers' addresses: all three.
    expect(plan?.routers).toHaveLength(3);
    expect(
      plan?.networks.map((network) => [
        network.name,
        network.network_type,
        network.segmentation_id,
        network.physical_network,
      ]),
    ).toEqual([
      ['netmig-flat-a', 'flat', null, PHYSNET],
      ['netmig-flat-b', 'flat', null, PHYSNET],
      ['netmig-vlan-c', 'vlan', VLAN, PHYSNET],
      [POOL, 'flat', null, PHYSNET],
    ]);
    const [flat, , vlan, external] = plan?.networks ?? [];
    expect(flat?.subnet).toMatchObject({
      cidr: '100.100.0.0/24',
      gateway_ip: '100.100.0.1',
      allocation_pools: [{ start: '100.100.0.2', end: '100.100.0.254' }],
    });
    // VlanManager held the address above the gateway back for the VPN: the pool starts after it.
    expect(vlan?.subnet).toMatchObject({ cidr: '100.100.2.0/24', gateway_ip: '100.100.2.1' });
    const vlanPools = (vlan?.subnet.allocation_pools ?? []) as Array<{ start: string }>;
    expect(vlanPools[0]?.start).toBe('100.100.2.3');
    expect(external).toMatchObject({ router_external: true, subnet: { cidr: FLOATING_RANGE } });
    // Address by address: the port each VIF would get.
    for (const vif of vifs) {
      const port = plan?.ports.find((candidate) => candidate.id === vif.uuid);
      expect(port).toMatchObject({
        mac_address: vif.mac,
        fixed_ips: vif.ips,
        device_id: vif.instance,
        network_id: vif.network,
      });
      expect(port?.device_owner).toBe(`compute:${ZONE}`);
      expect(HOSTS).toContain(port?.binding_host_id);
    }
    expect(await legacyTables(networkIds)).toBe(legacy);
    expect(await cachesText(servers)).toBe(caches);
    expect(await tableCounts()).toEqual({
      ...counts,
      network_migrations: (counts.network_migrations ?? 0) + 1,
    });
    expect((await recordedNetworkApi())?.network_api).toBe('nova-network');
  }, 120_000);

  it('reports planted conflicts in a dry run, and a real run with them is refused without writing', async () => {
    const db = primaryDb();
    const planted = { network: crypto.randomUUID(), subnet: crypto.randomUUID() };
    const now = new Date();
    // A networking-service network on the legacy VLAN, with a subnet overlapping a legacy range.
    await db.insert(neutronNetworks).values({
      uuid: planted.network,
      project_id: projectId,
      name: 'netmig-planted',
      network_type: 'vlan',
      physical_network: PHYSNET,
      segmentation_id: VLAN,
      created_at: now,
    });
    await db.insert(neutronSubnets).values({
      uuid: planted.subnet,
      network_uuid: planted.network,
      project_id: projectId,
      ip_version: 4,
      cidr: '100.100.1.128/25',
      allocation_pools: [],
      dns_nameservers: [],
      host_routes: [],
      created_at: now,
    });
    try {
      const dry = await startMigration({ dry_run: true, physical_network: PHYSNET });
      const reported = await waitForNetworkMigration(token, dry.id, ['planned']);
      expect(reported.report.conflicts?.map((conflict) => conflict.type).sort()).toEqual([
        'overlapping_subnet',
        'vlan_clash',
      ]);
      expect(reported.report.conflicts?.find((conflict) => conflict.type === 'vlan_clash')).toMatchObject({
        vlan: VLAN,
        clashes_with: planted.network,
      });
      expect(
        reported.report.conflicts?.find((conflict) => conflict.type === 'overlapping_subnet'),
      ).toMatchObject({
        range: '100.100.1.0/24',
        subnet: planted.subnet,
      });

      const counts = await tableCounts();
      const legacy = await legacyTables(networkIds);
      const real = await startMigration({ physical_network: PHYSNET });
      const refused = await waitForNetworkMigration(token, real.id, [
        'refused',
        'migrating',
        'completed',
        'failed',
      ]);
      expect(refused.status).toBe('refused');
      expect(refused.report.conflicts).toHaveLength(2);
      expect(await tableCounts()).toEqual({
        ...counts,
        network_migrations: (counts.network_migrations ?? 0) + 1,
      });
      expect(await legacyTables(networkIds)).toBe(legacy);
    } finally {
      await db.delete(neutronSubnets).where(eq(neutronSubnets.uuid, planted.subnet));
      await db.delete(neutronNetworks).where(eq(neutronNetworks.uuid, planted.network));
    }
  }, 120_000);

  let stopped: string;

  it('freezes the legacy API while a run holds its copy, and lets only one run be unfinished', async () => {
    const run = await startMigration({ physical_network: PHYSNET });
    stopped = run.id;
    await crashWhen(
      run.id,
      'the run to be re-plugging',
      (current) => (current.progress.instances_plugged?.done ?? 0) >= 20,
    );
    const halfway = await showNetworkMigration(token, run.id);
    expect(halfway.status).toBe('migrating');
    expect(halfway.progress.instances_plugged?.done).toBeLessThan(SERVERS);
    // A second run is refused while this one is unfinished, dry or not.
    await expectStatus(
      call('POST', '/v3/os-network-migrations', { token, body: { network_migration: { dry_run: true } } }),
      409,
    );
    // The legacy API refuses writes; a read still answers.
    const write = await call<{ floating_ip?: { id: string } }>('POST', '/v3/os-floating-ips', {
      token,
      body: { pool: POOL },
    });
    // Were it let through, it is given back, so that the tests after this one see the deployment as it was.
    if (write.body.floating_ip)
      await call('DELETE', `/v3/os-floating-ips/${write.body.floating_ip.id}`, { token });
    expect(write.status, JSON.stringify(write.body)).toBe(409);
    await expectStatus(call('GET', '/v3/os-floating-ips', { token }), 200);
  }, 180_000);

  it('rolls a run back before the cut-over: nothing it created is left, the legacy tables and the mode untouched', async () => {
    const legacy = await legacyTables(networkIds);
    const caches = await cachesText(servers);
    const beforeRun = await primaryDb()
      .select({ uuid: neutronPorts.uuid })
      .from(neutronPorts)
      .where(eq(neutronPorts.device_owner, `compute:${ZONE}`));
    expect(beforeRun.length).toBeGreaterThan(0);
    await expectStatus(
      call('POST', `/v3/os-network-migrations/${stopped}/action`, { token, body: { rollback: null } }),
      202,
    );
    const rolledBack = await waitForNetworkMigration(token, stopped, ['rolled_back', 'failed']);
    expect(rolledBack.status, rolledBack.error ?? '').toBe('rolled_back');
    const left = await primaryDb()
      .select()
      .from(networkMigrationMap)
      .where(eq(networkMigrationMap.migration_uuid, stopped));
    expect(left).toEqual([]);
    const vifs = await legacyInterfaces();
    const ports = await primaryDb()
      .select()
      .from(neutronPorts)
      .where(
        inArray(
          neutronPorts.uuid,
          vifs.map((vif) => vif.uuid),
        ),
      );
    expect(ports).toEqual([]);
    const networks = await primaryDb()
      .select()
      .from(neutronNetworks)
      .where(inArray(neutronNetworks.uuid, networkUuids));
    expect(networks).toEqual([]);
    const floating = await primaryDb()
      .select()
      .from(neutronFloatingIps)
      .where(like(neutronFloatingIps.floating_ip_address, '198.18.77.%'));
    expect(floating).toEqual([]);
    expect(await legacyTables(networkIds)).toBe(legacy);
    expect(await cachesText(servers)).toBe(caches);
    expect((await recordedNetworkApi())?.network_api).toBe('nova-network');
    // Unfrozen: the legacy API writes again (an allocation, given back at once).
    const allocated = (await expectStatus(
      call('POST', '/v3/os-floating-ips', { token, body: { pool: POOL } }),
      200,
    )) as {
      floating_ip: { id: string };
    };
    await expectStatus(call('DELETE', `/v3/os-floating-ips/${allocated.floating_ip.id}`, { token }), 202);
    // Rolled back is final: no second rollback, no resume.
    await expectStatus(
      call('POST', `/v3/os-network-migrations/${stopped}/action`, { token, body: { resume: null } }),
      409,
    );
  }, 180_000);

  it('migrates, crashed in the middle and resumed: every MAC, IP, floating IP and guest kept, nothing doubled', async () => {
    const legacy = await legacyTables(networkIds);
    const vifs = await legacyInterfaces();
    const floatingBefore = await primaryDb()
      .select({
        address: floatingIps.address,
        project: floatingIps.project_id,
        fixed: fixedIps.address,
        vif: fixedIps.virtual_interface_id,
      })
      .from(floatingIps)
      .leftJoin(fixedIps, eq(fixedIps.id, floatingIps.fixed_ip_id))
      .where(eq(floatingIps.pool, POOL));

    const run = await startMigration({ physical_network: PHYSNET });
    await crashWhen(run.id, 'the run to be half way through re-plugging', (current) => {
      const plugged = current.progress.instances_plugged?.done ?? 0;
      return plugged >= 60;
    });
    const crashed = await showNetworkMigration(token, run.id);
    expect(crashed.status).toBe('migrating');
    expect(crashed.progress.ports).toEqual({ total: vifs.length, done: vifs.length });
    expect(crashed.progress.instances_plugged?.done).toBeLessThan(SERVERS);

    const resumed = (await expectStatus(
      call('POST', `/v3/os-network-migrations/${run.id}/action`, { token, body: { resume: null } }),
      202,
    )) as { network_migration: NetworkMigrationView };
    expect(resumed.network_migration.status).toBe('migrating');
    const done = await waitForNetworkMigration(token, run.id, ['completed', 'failed'], 300_000);
    expect(done.status, `${done.error}: ${JSON.stringify(done.report.differences?.slice(0, 5))}`).toBe(
      'completed',
    );
    expect(done.report.differences).toEqual([]);
    expect(done.progress).toMatchObject({
      networks: { total: 4, done: 4 },
      ports: { total: vifs.length, done: vifs.length },
      floating_ips: { total: FLOATING_IPS, done: FLOATING_IPS },
      routers: { total: 3, done: 3 },
      instances_plugged: { total: SERVERS, done: SERVERS },
      caches_rewritten: { total: SERVERS, done: SERVERS },
    });

    // Nothing doubled: one map entry and one port per VIF, one floating IP per address.
    const db = primaryDb();
    const map = await db
      .select()
      .from(networkMigrationMap)
      .where(eq(networkMigrationMap.migration_uuid, run.id));
    const kinds = (kind: string) => map.filter((entry) => entry.kind === kind).length;
    expect([kinds('network'), kinds('subnet'), kinds('port'), kinds('floatingip'), kinds('router')]).toEqual([
      4,
      4,
      vifs.length,
      FLOATING_IPS,
      3,
    ]);
    const computePorts = await db
      .select()
      .from(neutronPorts)
      .where(eq(neutronPorts.device_owner, `compute:${ZONE}`));
    expect(computePorts).toHaveLength(vifs.length);
    const allocations = await db
      .select()
      .from(neutronIpAllocations)
      .where(
        inArray(
          neutronIpAllocations.port_uuid,
          computePorts.map((port) => port.uuid),
        ),
      );
    expect(allocations).toHaveLength(vifs.length);

    // Address by address: each VIF's port has its uuid, MAC, address, instance and host.
    const placed = await db
      .select({ uuid: instancesTable.uuid, host: instancesTable.host })
      .from(instancesTable)
      .where(inArray(instancesTable.uuid, servers));
    const hostOf = new Map(placed.map((instance) => [instance.uuid, instance.host]));
    for (const vif of vifs) {
      const port = computePorts.find((candidate) => candidate.uuid === vif.uuid);
      expect(port, `the port of VIF ${vif.uuid}`).toMatchObject({
        mac_address: vif.mac,
        device_id: vif.instance,
        network_uuid: vif.network,
        status: 'ACTIVE',
      });
      expect(port?.binding_host_id).toBe(hostOf.get(vif.instance ?? ''));
      expect(
        allocations.filter((allocation) => allocation.port_uuid === vif.uuid).map((a) => a.ip_address),
      ).toEqual(vif.ips);
    }
    // Every floating IP kept its address, its project and its association.
    const floatingAfter = await db
      .select()
      .from(neutronFloatingIps)
      .where(like(neutronFloatingIps.floating_ip_address, '198.18.77.%'));
    expect(floatingAfter).toHaveLength(FLOATING_IPS);
    for (const before of floatingBefore.filter((ip) => ip.project !== null)) {
      const after = floatingAfter.find((ip) => ip.floating_ip_address === before.address);
      const vif = vifs.find((candidate) => candidate.id === before.vif);
      expect(after, `floating IP ${before.address}`).toMatchObject({
        project_id: before.project,
        fixed_ip_address: before.fixed,
        fixed_port_uuid: vif?.uuid ?? null,
      });
    }

    // Each guest, as its host's fake driver recorded it: the same interfaces, and only ever one set of
    // (MAC, IPs) in its history (a set: the order the host plugged them in is not the guest's concern).
    const byAddress = <T extends { address: string }>(list: T[]) =>
      [...list].sort((a, b) => a.address.localeCompare(b.address));
    const guests = new Map<string, GuestInterfaces>();
    for (const host of HOSTS)
      for (const [uuid, guest] of await guestInterfaces(host)) guests.set(uuid, guest);
    for (const id of servers) {
      const guest = guests.get(id);
      const own = vifs.filter((vif) => vif.instance === id);
      expect(
        byAddress(guest?.vifs ?? []).map(({ id: vifId, address, ips }) => ({ vifId, address, ips })),
        `guest ${id}`,
      ).toEqual(byAddress(own.map((vif) => ({ vifId: vif.uuid, address: vif.mac, ips: vif.ips }))));
      expect(guest?.vif_history.map(byAddress), `guest ${id}'s history`).toEqual([
        byAddress(own.map((vif) => ({ address: vif.mac, ips: vif.ips }))),
      ]);
    }

    // The deployment runs the networking service, recorded by this run; the legacy tables are as they were.
    expect(await recordedNetworkApi()).toEqual({ network_api: 'neutron', changed_by: run.id });
    expect(await legacyTables(networkIds)).toBe(legacy);
    // Each server shows the very addresses it showed under nova-network, now from its ports.
    await inParallel(servers, 25, async (id) => {
      expect(await serverAddresses(id), `server ${id}`).toEqual(addressesBefore.get(id));
    });
    const cache = await db
      .select()
      .from(instanceInfoCaches)
      .where(inArray(instanceInfoCaches.instance_uuid, servers));
    expect(cache.every((row) => row.network_info.every((vif) => vif.network.bridge === null))).toBe(true);
    // Completed is final: nothing to roll back or resume.
    await expectStatus(
      call('POST', `/v3/os-network-migrations/${run.id}/action`, { token, body: { rollback: null } }),
      409,
    );
  }, 600_000);
});
