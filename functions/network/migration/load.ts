import { and, eq, inArray, isNotNull, ne, or } from 'drizzle-orm';
import type { PrimaryDb } from '../../../schema/db.ts';
import { parseVersion, versionToSend } from '../../../schema/objects/base.ts';
import { agentRunsCommand } from '../../../schema/objects/compute-command.ts';
import { InstanceObject } from '../../../schema/objects/instance.ts';
import {
  fixedIps,
  floatingIps,
  instances,
  networkMigrationMap,
  neutronIpAllocations,
  neutronNetworks,
  neutronPorts,
  neutronSubnets,
  novaNetworks,
  services,
  virtualInterfaces,
} from '../../../schema/tables/index.ts';
import { isServiceUp } from '../../compute/service-liveness.ts';
import { portMac } from './plan.ts';
import type { LegacyInstance, LegacySnapshot, NetworkingSnapshot } from './snapshot.ts';

// Reads what the plan needs, from the primary (the plan decides writes). Every legacy read takes live
// rows only; soft-deleted ones are history.

/** The command that re-plugs a guest, and the Instance version that carries its network info. */
export const PLUG_COMMAND = 'plug_vifs';
const NETWORK_INFO_SINCE = parseVersion('1.4');

/** An IN list per query stays far below the database's packet size. */
const IN_CHUNK = 1000;

export async function inChunks<T, R>(values: readonly T[], read: (chunk: T[]) => Promise<R[]>): Promise<R[]> {
  const results: R[] = [];
  for (let start = 0; start < values.length; start += IN_CHUNK) {
    results.push(...(await read(values.slice(start, start + IN_CHUNK))));
  }
  return results;
}

export async function loadLegacyInstances(
  db: PrimaryDb,
  uuids: readonly string[],
): Promise<Map<string, LegacyInstance>> {
  const rows = await inChunks([...new Set(uuids)], (chunk) =>
    db
      .select({
        uuid: instances.uuid,
        project_id: instances.project_id,
        host: instances.host,
        availability_zone: instances.availability_zone,
        task_state: instances.task_state,
      })
      .from(instances)
      .where(and(inArray(instances.uuid, chunk), eq(instances.deleted, 0))),
  );
  return new Map(rows.map((row) => [row.uuid, row]));
}

/** For each host: undefined when its agent can re-plug a guest now, else why not. */
export async function hostPlugProblems(
  db: PrimaryDb,
  hosts: readonly string[],
  downTimeSeconds: number,
): Promise<Map<string, string | undefined>> {
  const rows = await inChunks([...new Set(hosts)], (chunk) =>
    db
      .select({
        host: services.host,
        queue_url: services.queue_url,
        supported_objects: services.supported_objects,
        supported_commands: services.supported_commands,
        forced_down: services.forced_down,
        last_seen_at: services.last_seen_at,
      })
      .from(services)
      .where(
        and(inArray(services.host, chunk), eq(services.binary, 'nova-compute'), eq(services.deleted, 0)),
      ),
  );
  const now = new Date();
  const problems = new Map<string, string | undefined>();
  for (const service of rows) {
    const sends = versionToSend(InstanceObject, service.supported_objects[InstanceObject.name]);
    const version = parseVersion(sends);
    let problem: string | undefined;
    if (!service.queue_url) problem = 'its agent never registered a command queue';
    else if (!isServiceUp(service, now, downTimeSeconds)) problem = 'its compute service is down';
    else if (!agentRunsCommand(service.supported_commands, PLUG_COMMAND))
      problem = `its agent does not run ${PLUG_COMMAND}: upgrade it`;
    else if (version.minor < NETWORK_INFO_SINCE.minor)
      problem = `its agent understands Instance ${sends}, which carries no network info: upgrade it`;
    problems.set(service.host, problem);
  }
  return problems;
}

export async function loadLegacySnapshot(db: PrimaryDb, downTimeSeconds: number): Promise<LegacySnapshot> {
  const networks = await db
    .select({
      id: novaNetworks.id,
      uuid: novaNetworks.uuid,
      label: novaNetworks.label,
      cidr: novaNetworks.cidr,
      cidr_v6: novaNetworks.cidr_v6,
      gateway: novaNetworks.gateway,
      dns1: novaNetworks.dns1,
      dns2: novaNetworks.dns2,
      vlan: novaNetworks.vlan,
      dhcp_start: novaNetworks.dhcp_start,
      project_id: novaNetworks.project_id,
      injected: novaNetworks.injected,
      multi_host: novaNetworks.multi_host,
    })
    .from(novaNetworks)
    .where(eq(novaNetworks.deleted, 0))
    .orderBy(novaNetworks.id);
  // Only the addresses that matter: in use or reserved; the free ones are what the pools hand out.
  const fixed = await db
    .select({
      id: fixedIps.id,
      address: fixedIps.address,
      network_id: fixedIps.network_id,
      virtual_interface_id: fixedIps.virtual_interface_id,
      instance_uuid: fixedIps.instance_uuid,
      reserved: fixedIps.reserved,
    })
    .from(fixedIps)
    .where(
      and(
        eq(fixedIps.deleted, 0),
        or(
          eq(fixedIps.reserved, true),
          isNotNull(fixedIps.virtual_interface_id),
          isNotNull(fixedIps.instance_uuid),
        ),
      ),
    )
    .orderBy(fixedIps.id);
  const vifs = await db
    .select({
      id: virtualInterfaces.id,
      uuid: virtualInterfaces.uuid,
      address: virtualInterfaces.address,
      network_id: virtualInterfaces.network_id,
      instance_uuid: virtualInterfaces.instance_uuid,
    })
    .from(virtualInterfaces)
    .where(eq(virtualInterfaces.deleted, 0))
    .orderBy(virtualInterfaces.id);
  const floating = await db
    .select({
      id: floatingIps.id,
      address: floatingIps.address,
      fixed_ip_id: floatingIps.fixed_ip_id,
      project_id: floatingIps.project_id,
      pool: floatingIps.pool,
    })
    .from(floatingIps)
    .where(eq(floatingIps.deleted, 0))
    .orderBy(floatingIps.id);
  const liveInstances = await loadLegacyInstances(
    db,
    vifs.flatMap((vif) => (vif.instance_uuid ? [vif.instance_uuid] : [])),
  );
  const hosts = [...liveInstances.values()].flatMap((instance) => (instance.host ? [instance.host] : []));
  return {
    networks,
    fixedIps: fixed,
    vifs,
    floatingIps: floating,
    instances: liveInstances,
    hostProblems: await hostPlugProblems(db, hosts, downTimeSeconds),
  };
}

/** What the networking service already holds that the legacy objects could collide with. */
export async function loadNetworkingSnapshot(
  db: PrimaryDb,
  migrationUuid: string,
  legacy: LegacySnapshot,
): Promise<NetworkingSnapshot> {
  const subnets = await db
    .select({
      uuid: neutronSubnets.uuid,
      network_uuid: neutronSubnets.network_uuid,
      cidr: neutronSubnets.cidr,
    })
    .from(neutronSubnets);
  const networks = await db
    .select({
      uuid: neutronNetworks.uuid,
      physical_network: neutronNetworks.physical_network,
      segmentation_id: neutronNetworks.segmentation_id,
    })
    .from(neutronNetworks);
  const macs = await inChunks(legacy.vifs.map(portMac), (chunk) =>
    db
      .select({ mac_address: neutronPorts.mac_address, uuid: neutronPorts.uuid })
      .from(neutronPorts)
      .where(inArray(neutronPorts.mac_address, chunk)),
  );
  const legacyAddresses = [
    ...legacy.fixedIps.filter((ip) => ip.virtual_interface_id !== null).map((ip) => ip.address),
    ...legacy.floatingIps.map((ip) => ip.address),
  ];
  const addresses = await inChunks(legacyAddresses, (chunk) =>
    db
      .select({ ip_address: neutronIpAllocations.ip_address, port_uuid: neutronIpAllocations.port_uuid })
      .from(neutronIpAllocations)
      .where(inArray(neutronIpAllocations.ip_address, chunk)),
  );
  const elsewhere = await db
    .select({
      kind: networkMigrationMap.kind,
      legacy_id: networkMigrationMap.legacy_id,
      migration_uuid: networkMigrationMap.migration_uuid,
    })
    .from(networkMigrationMap)
    .where(ne(networkMigrationMap.migration_uuid, migrationUuid));
  return {
    subnets,
    segments: networks.flatMap((network) =>
      network.physical_network !== null && network.segmentation_id !== null
        ? [
            {
              network_uuid: network.uuid,
              physical_network: network.physical_network,
              segmentation_id: network.segmentation_id,
            },
          ]
        : [],
    ),
    networkUuids: new Set(networks.map((network) => network.uuid)),
    macs: new Map(macs.map((row) => [row.mac_address, row.uuid])),
    addresses: new Map(addresses.map((row) => [row.ip_address, row.port_uuid])),
    migratedElsewhere: new Map(elsewhere.map((row) => [`${row.kind}/${row.legacy_id}`, row.migration_uuid])),
  };
}
