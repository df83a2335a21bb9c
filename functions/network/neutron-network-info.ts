import { and, asc, eq, inArray, like } from 'drizzle-orm';
import type { PrimaryDb, PrimaryWriter } from '../../schema/db.ts';
import type { NetworkInfo, Vif } from '../../schema/objects/network-info.ts';
import {
  instances,
  neutronFloatingIps,
  neutronIpAllocations,
  neutronNetworks,
  neutronPorts,
  neutronSubnets,
} from '../../schema/tables/index.ts';
import { loadNetworkInfo, saveNetworkInfo } from './instance-cache.ts';

// A server's network info as the networking service has it: one VIF per port the server owns
// (device_id = the instance, device_owner `compute:<zone>`), with the subnets it has addresses on and
// the floating IPs on those addresses. Read in one query per table, whatever the number of ports.

type Reader = Pick<PrimaryDb, 'select'>;

/** What Nova's compute ports are owned by: `compute:<availability zone>`. */
export const COMPUTE_OWNER_PREFIX = 'compute:';

/** The ports a server owns, in the order they were made (its first port is its first interface). */
export async function instancePortRows(db: Reader, instanceUuid: string) {
  // Only the server's own project's ports: anyone may write any device_id on a port of theirs, and
  // another project's port must not become part of this server (Nova looks ports up by project too).
  const rows = await db
    .select({ port: neutronPorts })
    .from(neutronPorts)
    .innerJoin(
      instances,
      and(eq(instances.uuid, neutronPorts.device_id), eq(instances.project_id, neutronPorts.project_id)),
    )
    .where(
      and(
        eq(neutronPorts.device_id, instanceUuid),
        like(neutronPorts.device_owner, `${COMPUTE_OWNER_PREFIX}%`),
      ),
    )
    .orderBy(asc(neutronPorts.id));
  return rows.map((row) => row.port);
}

/** The host-side device of a VIF: `tap` and the first 11 characters of its id (Nova's naming). */
export function tapName(vifId: string): string {
  return `tap${vifId.slice(0, 11)}`;
}

/**
 * The server's network info from its ports. Whether a port is the user's (kept when the server is
 * deleted) is what the cache said before, or `preserved` names it for a port new to the server.
 */
export async function buildNeutronNetworkInfo(
  db: Reader,
  instanceUuid: string,
  options: { preserved?: readonly string[] } = {},
): Promise<NetworkInfo> {
  const ports = await instancePortRows(db, instanceUuid);
  if (ports.length === 0) return [];
  const portUuids = ports.map((port) => port.uuid);
  const [allocations, floating, previous] = await Promise.all([
    db
      .select()
      .from(neutronIpAllocations)
      .where(inArray(neutronIpAllocations.port_uuid, portUuids))
      .orderBy(asc(neutronIpAllocations.id)),
    db
      .select({
        port_uuid: neutronFloatingIps.fixed_port_uuid,
        fixed_ip_address: neutronFloatingIps.fixed_ip_address,
        address: neutronFloatingIps.floating_ip_address,
      })
      .from(neutronFloatingIps)
      .where(inArray(neutronFloatingIps.fixed_port_uuid, portUuids))
      .orderBy(asc(neutronFloatingIps.id)),
    loadNetworkInfo(db, instanceUuid),
  ]);
  const subnetUuids = [...new Set(allocations.map((allocation) => allocation.subnet_uuid))];
  const networkUuids = [...new Set(ports.map((port) => port.network_uuid))];
  const [subnets, networks] = await Promise.all([
    subnetUuids.length === 0
      ? []
      : db.select().from(neutronSubnets).where(inArray(neutronSubnets.uuid, subnetUuids)),
    db.select().from(neutronNetworks).where(inArray(neutronNetworks.uuid, networkUuids)),
  ]);
  const preserved = new Set([
    ...(options.preserved ?? []),
    ...previous.filter((vif) => vif.preserve_on_delete).map((vif) => vif.id),
  ]);

  return ports.map((port): Vif => {
    const network = networks.find((candidate) => candidate.uuid === port.network_uuid);
    const held = allocations.filter((allocation) => allocation.port_uuid === port.uuid);
    const onSubnets = subnets.filter((subnet) =>
      held.some((allocation) => allocation.subnet_uuid === subnet.uuid),
    );
    return {
      id: port.uuid,
      address: port.mac_address,
      devname: tapName(port.uuid),
      type: port.binding_vif_type,
      active: port.status === 'ACTIVE',
      preserve_on_delete: preserved.has(port.uuid),
      network: {
        id: port.network_uuid,
        label: network?.name ?? '',
        bridge: null,
        vlan: network?.network_type === 'vlan' ? network.segmentation_id : null,
        mtu: network?.mtu ?? null,
        subnets: onSubnets.map((subnet) => {
          const version = subnet.ip_version === 6 ? 6 : 4;
          return {
            cidr: subnet.cidr,
            version,
            gateway: subnet.gateway_ip,
            dns: subnet.dns_nameservers,
            routes: subnet.host_routes,
            ips: held
              .filter((allocation) => allocation.subnet_uuid === subnet.uuid)
              .map((allocation) => ({
                address: allocation.ip_address,
                type: 'fixed' as const,
                version,
                floating_ips: floating
                  .filter(
                    (fip) => fip.port_uuid === port.uuid && fip.fixed_ip_address === allocation.ip_address,
                  )
                  .map((fip) => ({ address: fip.address, type: 'floating' as const })),
              })),
          };
        }),
      },
    };
  });
}

/**
 * Rewrites a server's cache from its ports: after a floating IP is associated with or taken off one of
 * them, an interface attached or detached, or its ports bound to another host. A port's owner is
 * whatever its creator wrote (`compute:*` with any device_id), so nothing is written for an id that
 * names no live server.
 */
export async function refreshInstanceNetworkCache(
  db: PrimaryWriter & Reader,
  instanceUuid: string,
  options: { preserved?: readonly string[] } = {},
): Promise<NetworkInfo> {
  const [live] = await db
    .select({ uuid: instances.uuid })
    .from(instances)
    .where(and(eq(instances.uuid, instanceUuid), eq(instances.deleted, 0)));
  if (!live) return [];
  const info = await buildNeutronNetworkInfo(db, instanceUuid, options);
  await saveNetworkInfo(db, instanceUuid, info);
  return info;
}
