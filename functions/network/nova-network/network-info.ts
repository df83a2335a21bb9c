import { and, asc, eq, inArray } from 'drizzle-orm';
import type { PrimaryDb, PrimaryWriter } from '../../../schema/db.ts';
import type { NetworkInfo, Vif } from '../../../schema/objects/network-info.ts';
import { fixedIps, floatingIps, novaNetworks, virtualInterfaces } from '../../../schema/tables/index.ts';
import { saveNetworkInfo } from '../instance-cache.ts';

// A server's network as nova-network gives it: one VIF per virtual_interfaces row, on its network's
// Linux bridge, with the fixed IPv4 addresses allocated to it and the floating IPs on those.

type Reader = Pick<PrimaryDb, 'select'>;

/** Host-side device names are `tap` and the start of the VIF's id, as Nova names them. */
const DEVNAME_ID_LENGTH = 11;

export async function buildLegacyNetworkInfo(db: Reader, instanceUuid: string): Promise<NetworkInfo> {
  const vifs = await db
    .select({ vif: virtualInterfaces, network: novaNetworks })
    .from(virtualInterfaces)
    .innerJoin(novaNetworks, eq(novaNetworks.id, virtualInterfaces.network_id))
    .where(and(eq(virtualInterfaces.instance_uuid, instanceUuid), eq(virtualInterfaces.deleted, 0)))
    .orderBy(asc(virtualInterfaces.id));
  if (vifs.length === 0) return [];
  const fixed = await db
    .select({ id: fixedIps.id, address: fixedIps.address, vif_id: fixedIps.virtual_interface_id })
    .from(fixedIps)
    .where(
      and(
        inArray(
          fixedIps.virtual_interface_id,
          vifs.map(({ vif }) => vif.id),
        ),
        eq(fixedIps.deleted, 0),
      ),
    )
    .orderBy(asc(fixedIps.id));
  const floating =
    fixed.length === 0
      ? []
      : await db
          .select({ address: floatingIps.address, fixed_ip_id: floatingIps.fixed_ip_id })
          .from(floatingIps)
          .where(
            and(
              inArray(
                floatingIps.fixed_ip_id,
                fixed.map((ip) => ip.id),
              ),
              eq(floatingIps.deleted, 0),
            ),
          )
          .orderBy(asc(floatingIps.id));
  return vifs.map(
    ({ vif, network }): Vif => ({
      id: vif.uuid,
      address: vif.address,
      devname: `tap${vif.uuid.slice(0, DEVNAME_ID_LENGTH)}`,
      type: 'bridge',
      active: true,
      preserve_on_delete: false,
      network: {
        id: network.uuid,
        label: network.label ?? '',
        bridge: network.bridge,
        vlan: network.vlan,
        mtu: null,
        subnets: network.cidr
          ? [
              {
                cidr: network.cidr,
                version: 4,
                gateway: network.gateway,
                dns: [network.dns1, network.dns2].filter((dns): dns is string => dns !== null),
                routes: [],
                ips: fixed
                  .filter((ip) => ip.vif_id === vif.id)
                  .map((ip) => ({
                    address: ip.address,
                    type: 'fixed' as const,
                    version: 4 as const,
                    floating_ips: floating
                      .filter((candidate) => candidate.fixed_ip_id === ip.id)
                      .map((candidate) => ({ address: candidate.address, type: 'floating' as const })),
                  })),
              },
            ]
          : [],
      },
    }),
  );
}

/** Rebuilds a server's cached network info from the tables (inside the transaction that changed them). */
export async function refreshLegacyNetworkInfo(
  db: PrimaryWriter,
  instanceUuid: string,
): Promise<NetworkInfo> {
  const info = await buildLegacyNetworkInfo(db, instanceUuid);
  await saveNetworkInfo(db, instanceUuid, info);
  return info;
}
