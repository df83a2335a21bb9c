import { and, asc, eq, inArray, isNotNull, isNull, notInArray, or } from 'drizzle-orm';
import type { PrimaryDb, PrimaryWriter } from '../../../schema/db.ts';
import {
  fixedIps,
  floatingIps,
  instances,
  networkMigrationMap,
  neutronFloatingIps,
  neutronIpAllocations,
  neutronNetworks,
  neutronPorts,
  neutronRouters,
  neutronSubnets,
  novaNetworks,
  virtualInterfaces,
} from '../../../schema/tables/index.ts';
import { Conflict, duplicateKeyMessage, isDuplicateKey } from '../../shared/errors.ts';
import { randomMac } from '../mac.ts';
import { loadLegacySnapshot } from './load.ts';
import { mapEntry, mappedUuid, mappedUuids, retryOnMacCollision, runEntries } from './map.ts';
import { type PlannedNetwork, type PlannedRouter, planMigration, poolLegacyId, portFor } from './plan.ts';
import { type NetworkMigrationRow, recordProgress } from './runs.ts';
import type { NetworkingSnapshot } from './snapshot.ts';
import { holdNetworkMigration } from './states.ts';

// The writes of a run, straight into the networking service's tables (a data migration: the legacy
// MACs and addresses are kept as they are, and quotas do not apply). Each object is written in one
// transaction with its map entry, after the run's row is locked and found still migrating, so a batch
// either happens whole or not at all, never twice, and never after a rollback began.

export type Run = Pick<NetworkMigrationRow, 'uuid' | 'physical_network' | 'project_id'>;

/** The plan's view of the networking service when only its network list is wanted. */
const NOTHING_EXISTING: NetworkingSnapshot = {
  subnets: [],
  segments: [],
  networkUuids: new Set(),
  macs: new Map(),
  addresses: new Map(),
  migratedElsewhere: new Map(),
};

/** How a port the migration made looks before a host plugs it. */
function portRow(
  values: Pick<
    typeof neutronPorts.$inferInsert,
    'uuid' | 'network_uuid' | 'project_id' | 'mac_address' | 'device_id' | 'device_owner' | 'binding_host_id'
  >,
  now: Date,
): typeof neutronPorts.$inferInsert {
  return {
    ...values,
    status: 'DOWN',
    binding_vif_type: values.binding_host_id ? 'bridge' : 'unbound',
    binding_profile: {},
    allowed_address_pairs: [],
    // nova-network filtered nothing here: the guests keep their traffic as it was.
    port_security_enabled: false,
    created_at: now,
  };
}

async function writeNetwork(db: PrimaryDb, run: Run, planned: PlannedNetwork): Promise<boolean> {
  return db.transaction(async (tx) => {
    await holdNetworkMigration(tx, run.uuid, ['migrating']);
    if (await mappedUuid(tx, 'network', planned.legacy_id)) return false;
    const now = new Date();
    const networkUuid = planned.id ?? crypto.randomUUID();
    const subnetUuid = crypto.randomUUID();
    const projectId = planned.project_id ?? run.project_id;
    await tx
      .insert(networkMigrationMap)
      .values([
        mapEntry(run.uuid, 'network', planned.legacy_id, networkUuid),
        mapEntry(run.uuid, 'subnet', planned.legacy_id, subnetUuid),
      ]);
    await tx.insert(neutronNetworks).values({
      uuid: networkUuid,
      project_id: projectId,
      name: planned.name,
      shared: planned.shared,
      router_external: planned.router_external,
      network_type: planned.network_type,
      physical_network: planned.physical_network,
      segmentation_id: planned.segmentation_id,
      created_at: now,
    });
    await tx.insert(neutronSubnets).values({
      uuid: subnetUuid,
      network_uuid: networkUuid,
      project_id: projectId,
      name: planned.name,
      ip_version: planned.subnet.ip_version,
      cidr: planned.subnet.cidr,
      gateway_ip: planned.subnet.gateway_ip,
      enable_dhcp: planned.subnet.enable_dhcp,
      allocation_pools: planned.subnet.allocation_pools,
      dns_nameservers: planned.subnet.dns_nameservers,
      host_routes: [],
      created_at: now,
    });
    await recordProgress(tx, run.uuid, 'networks');
    return true;
  });
}

/** network-migration networks: a network and subnet per nova network and per floating pool. */
export async function createNetworks(db: PrimaryDb, run: Run, downTimeSeconds: number): Promise<number> {
  const plan = planMigration(
    await loadLegacySnapshot(db, downTimeSeconds),
    NOTHING_EXISTING,
    run.physical_network,
  );
  let created = 0;
  for (const network of plan.networks) if (await writeNetwork(db, run, network)) created++;
  return created;
}

/** A batch that hit a unique key fails naming it: a legacy MAC or address the service already holds. */
function heldElsewhere(error: unknown, what: string): unknown {
  if (!isDuplicateKey(error) || !(error instanceof Error)) return error;
  return new Conflict(
    `${what}: the networking service already holds one of them (${duplicateKeyMessage(error)})`,
  );
}

/**
 * network-migration ports: the next `limit` VIFs without a port (of live instances, on networks
 * already created), each a port with the VIF's uuid, MAC and fixed IPs. `more` while a batch was full.
 */
export async function createPortsBatch(
  db: PrimaryDb,
  run: Run,
  limit: number,
): Promise<{ created: number; more: boolean }> {
  const candidates = await db
    .select({
      id: virtualInterfaces.id,
      uuid: virtualInterfaces.uuid,
      address: virtualInterfaces.address,
      network_id: virtualInterfaces.network_id,
      instance_uuid: instances.uuid,
      project_id: instances.project_id,
      host: instances.host,
      availability_zone: instances.availability_zone,
      task_state: instances.task_state,
      network_uuid: neutronNetworks.uuid,
      subnet_uuid: neutronSubnets.uuid,
    })
    .from(virtualInterfaces)
    .innerJoin(instances, and(eq(instances.uuid, virtualInterfaces.instance_uuid), eq(instances.deleted, 0)))
    .innerJoin(novaNetworks, eq(novaNetworks.id, virtualInterfaces.network_id))
    // The legacy network kept its uuid in the networking service, and its one IPv4 subnet is there.
    .innerJoin(neutronNetworks, eq(neutronNetworks.uuid, novaNetworks.uuid))
    .innerJoin(
      neutronSubnets,
      and(eq(neutronSubnets.network_uuid, neutronNetworks.uuid), eq(neutronSubnets.ip_version, 4)),
    )
    // A port keeps its VIF's uuid: a VIF the map names is done (even if its port was deleted since,
    // which verify reports rather than a batch making it again).
    .leftJoin(
      networkMigrationMap,
      and(eq(networkMigrationMap.new_uuid, virtualInterfaces.uuid), eq(networkMigrationMap.kind, 'port')),
    )
    .where(and(eq(virtualInterfaces.deleted, 0), isNull(networkMigrationMap.id)))
    .orderBy(asc(virtualInterfaces.id))
    .limit(limit);
  const addresses =
    candidates.length === 0
      ? []
      : await db
          .select({ address: fixedIps.address, vif_id: fixedIps.virtual_interface_id })
          .from(fixedIps)
          .where(
            and(
              inArray(
                fixedIps.virtual_interface_id,
                candidates.map((vif) => vif.id),
              ),
              eq(fixedIps.deleted, 0),
            ),
          );
  const created = await db
    .transaction(async (tx) => {
      await holdNetworkMigration(tx, run.uuid, ['migrating']);
      const done = await mappedUuids(
        tx,
        'port',
        candidates.map((vif) => String(vif.id)),
      );
      const todo = candidates.filter((vif) => !done.has(String(vif.id)));
      const now = new Date();
      const ports = todo.map((vif) => ({
        vif,
        port: portFor(
          { ...vif, network_id: vif.network_id ?? 0, instance_uuid: vif.instance_uuid },
          vif.network_uuid,
          addresses.filter((ip) => ip.vif_id === vif.id),
          {
            uuid: vif.instance_uuid,
            project_id: vif.project_id,
            host: vif.host,
            availability_zone: vif.availability_zone,
            task_state: vif.task_state,
          },
        ),
      }));
      if (ports.length > 0) {
        await tx
          .insert(networkMigrationMap)
          .values(ports.map(({ vif, port }) => mapEntry(run.uuid, 'port', String(vif.id), port.id)));
        await tx.insert(neutronPorts).values(
          ports.map(({ port }) =>
            portRow(
              {
                uuid: port.id,
                network_uuid: port.network_id,
                project_id: port.project_id,
                mac_address: port.mac_address,
                device_id: port.device_id,
                device_owner: port.device_owner,
                binding_host_id: port.binding_host_id,
              },
              now,
            ),
          ),
        );
        const allocations = ports.flatMap(({ vif, port }) =>
          port.fixed_ips.map((ip_address) => ({
            port_uuid: port.id,
            subnet_uuid: vif.subnet_uuid,
            network_uuid: port.network_id,
            ip_address,
            created_at: now,
          })),
        );
        if (allocations.length > 0) await tx.insert(neutronIpAllocations).values(allocations);
      }
      await recordProgress(tx, run.uuid, 'ports');
      return ports.length;
    })
    .catch((error: unknown) => {
      throw heldElsewhere(error, `VIFs ${candidates.map((vif) => vif.address).join(', ')}`);
    });
  return { created, more: candidates.length === limit };
}

async function subnetOf(db: Pick<PrimaryWriter, 'select'>, networkUuid: string) {
  const [subnet] = await db
    .select({ uuid: neutronSubnets.uuid })
    .from(neutronSubnets)
    .where(and(eq(neutronSubnets.network_uuid, networkUuid), eq(neutronSubnets.ip_version, 4)));
  return subnet?.uuid;
}

async function writeRouter(db: PrimaryDb, run: Run, planned: PlannedRouter, networkUuid: string) {
  const externalUuid = await mappedUuid(db, 'network', poolLegacyId(planned.pool));
  const subnetUuid = await subnetOf(db, networkUuid);
  if (!externalUuid || !subnetUuid) {
    throw new Conflict(
      `The networks of router ${planned.name} (network ${networkUuid}, pool ${planned.pool}) do not exist yet`,
    );
  }
  return retryOnMacCollision(() =>
    db.transaction(async (tx) => {
      await holdNetworkMigration(tx, run.uuid, ['migrating']);
      const legacyId = String(planned.legacy_network_id);
      if (await mappedUuid(tx, 'router', legacyId)) return false;
      const now = new Date();
      const routerUuid = crypto.randomUUID();
      const projectId = planned.project_id ?? run.project_id;
      const gatewayPort = crypto.randomUUID();
      const interfacePort = crypto.randomUUID();
      await tx.insert(networkMigrationMap).values(mapEntry(run.uuid, 'router', legacyId, routerUuid));
      await tx.insert(neutronRouters).values({
        uuid: routerUuid,
        project_id: projectId,
        name: planned.name,
        gw_network_uuid: externalUuid,
        gw_port_uuid: gatewayPort,
        created_at: now,
      });
      const routerPort = (uuid: string, network: string, owner: string) =>
        portRow(
          {
            uuid,
            network_uuid: network,
            project_id: owner === 'network:router_gateway' ? '' : projectId,
            mac_address: randomMac(),
            device_id: routerUuid,
            device_owner: owner,
            binding_host_id: '',
          },
          now,
        );
      // nova-network NATed through its network host's own public address, which is in no floating
      // pool; the gateway port takes none, so that every floating address stays a floating IP.
      await tx
        .insert(neutronPorts)
        .values([
          routerPort(gatewayPort, externalUuid, 'network:router_gateway'),
          routerPort(interfacePort, networkUuid, 'network:router_interface'),
        ]);
      if (planned.interface_ip) {
        await tx.insert(neutronIpAllocations).values({
          port_uuid: interfacePort,
          subnet_uuid: subnetUuid,
          network_uuid: networkUuid,
          ip_address: planned.interface_ip,
          created_at: now,
        });
      }
      await recordProgress(tx, run.uuid, 'routers');
      return true;
    }),
  );
}

/**
 * network-migration routers: for each fixed network whose addresses carry floating IPs, a router that
 * takes over its gateway address and has its external gateway on the floating pool's network.
 */
export async function createRouters(db: PrimaryDb, run: Run, downTimeSeconds: number): Promise<number> {
  const legacy = await loadLegacySnapshot(db, downTimeSeconds);
  const plan = planMigration(legacy, NOTHING_EXISTING, run.physical_network);
  let created = 0;
  for (const router of plan.routers) {
    const network = legacy.networks.find((candidate) => candidate.id === router.legacy_network_id);
    if (network && (await writeRouter(db, run, router, network.uuid))) created++;
  }
  return created;
}

/**
 * network-migration floating IPs: the next `limit` floating IPs allocated to a project (on pools
 * already carried over) that the networking service does not have, each with the same address on its
 * pool's network and associated with the port of its legacy fixed IP. `more` while a batch was full.
 */
export async function createFloatingIpsBatch(
  db: PrimaryDb,
  run: Run,
  limit: number,
): Promise<{ created: number; more: boolean }> {
  const pools = await runEntries(db, run.uuid, 'network');
  const externalByPool = new Map(
    pools
      .filter((entry) => entry.legacy_id.startsWith('pool:'))
      .map((entry) => [entry.legacy_id.slice(5), entry.new_uuid]),
  );
  if (externalByPool.size === 0) return { created: 0, more: false };
  // Floating IPs are few next to ports: the ones carried so far are excluded by their legacy ids.
  const done = (await runEntries(db, run.uuid, 'floatingip')).map((entry) => Number(entry.legacy_id));
  const candidates = await db
    .select({
      id: floatingIps.id,
      address: floatingIps.address,
      project_id: floatingIps.project_id,
      pool: floatingIps.pool,
      fixed_address: fixedIps.address,
      fixed_network_id: fixedIps.network_id,
      vif_id: fixedIps.virtual_interface_id,
      instance_project_id: instances.project_id,
    })
    .from(floatingIps)
    .leftJoin(fixedIps, and(eq(fixedIps.id, floatingIps.fixed_ip_id), eq(fixedIps.deleted, 0)))
    .leftJoin(instances, and(eq(instances.uuid, fixedIps.instance_uuid), eq(instances.deleted, 0)))
    .where(
      and(
        eq(floatingIps.deleted, 0),
        or(isNotNull(floatingIps.project_id), isNotNull(floatingIps.fixed_ip_id)),
        inArray(floatingIps.pool, [...externalByPool.keys()]),
        done.length === 0 ? undefined : notInArray(floatingIps.id, done),
      ),
    )
    .orderBy(asc(floatingIps.id))
    .limit(limit);
  const vifIds = candidates.flatMap((ip) => (ip.vif_id === null ? [] : [String(ip.vif_id)]));
  const portByVif = await mappedUuids(db, 'port', vifIds);
  const routerByNetwork = await mappedUuids(
    db,
    'router',
    candidates.flatMap((ip) => (ip.fixed_network_id === null ? [] : [String(ip.fixed_network_id)])),
  );
  const subnetByNetwork = new Map<string, string>();
  for (const network of new Set(externalByPool.values())) {
    const subnet = await subnetOf(db, network);
    if (subnet) subnetByNetwork.set(network, subnet);
  }
  const created = await retryOnMacCollision(() =>
    db.transaction(async (tx) => {
      await holdNetworkMigration(tx, run.uuid, ['migrating']);
      const carried = await mappedUuids(
        tx,
        'floatingip',
        candidates.map((ip) => String(ip.id)),
      );
      const now = new Date();
      const todo = candidates
        .filter((ip) => !carried.has(String(ip.id)))
        .map((ip) => {
          const networkUuid = externalByPool.get(ip.pool) ?? '';
          const subnetUuid = subnetByNetwork.get(networkUuid);
          const portUuid = ip.vif_id === null ? undefined : portByVif.get(String(ip.vif_id));
          if (!subnetUuid) throw new Conflict(`Floating pool ${ip.pool} has no subnet yet`);
          if (ip.fixed_address !== null && !portUuid) {
            throw new Conflict(
              `Floating IP ${ip.address} is associated with ${ip.fixed_address}, whose VIF has no port: it cannot be re-associated`,
            );
          }
          const router =
            ip.fixed_network_id === null ? undefined : routerByNetwork.get(String(ip.fixed_network_id));
          return {
            ip,
            networkUuid,
            subnetUuid,
            portUuid,
            router,
            uuid: crypto.randomUUID(),
            port: crypto.randomUUID(),
          };
        });
      if (todo.length > 0) {
        await tx
          .insert(networkMigrationMap)
          .values(todo.map((item) => mapEntry(run.uuid, 'floatingip', String(item.ip.id), item.uuid)));
        await tx.insert(neutronPorts).values(
          todo.map((item) =>
            portRow(
              {
                uuid: item.port,
                network_uuid: item.networkUuid,
                project_id: '',
                mac_address: randomMac(),
                device_id: item.uuid,
                device_owner: 'network:floatingip',
                binding_host_id: '',
              },
              now,
            ),
          ),
        );
        await tx.insert(neutronIpAllocations).values(
          todo.map((item) => ({
            port_uuid: item.port,
            subnet_uuid: item.subnetUuid,
            network_uuid: item.networkUuid,
            ip_address: item.ip.address,
            created_at: now,
          })),
        );
        await tx.insert(neutronFloatingIps).values(
          todo.map((item) => ({
            uuid: item.uuid,
            project_id: item.ip.project_id ?? item.ip.instance_project_id ?? '',
            floating_network_uuid: item.networkUuid,
            floating_port_uuid: item.port,
            floating_ip_address: item.ip.address,
            fixed_port_uuid: item.portUuid ?? null,
            fixed_ip_address: item.portUuid ? item.ip.fixed_address : null,
            router_uuid: item.portUuid ? (item.router ?? null) : null,
            status: item.portUuid ? 'ACTIVE' : 'DOWN',
            created_at: now,
          })),
        );
      }
      await recordProgress(tx, run.uuid, 'floating_ips');
      return todo.length;
    }),
  ).catch((error: unknown) => {
    throw heldElsewhere(error, `floating IPs ${candidates.map((ip) => ip.address).join(', ')}`);
  });
  return { created, more: candidates.length === limit };
}
