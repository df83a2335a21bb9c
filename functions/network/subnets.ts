import { and, asc, eq, inArray, or, type SQL, sql } from 'drizzle-orm';
import type { PrimaryDb } from '../../schema/db.ts';
import {
  type AllocationPool,
  type HostRoute,
  neutronIpAllocations,
  neutronNetworks,
  neutronPorts,
  neutronSubnets,
} from '../../schema/tables/index.ts';
import {
  defaultPools,
  formatPools,
  type NumericPool,
  numericPools,
  validatePools,
} from './allocation-pools.ts';
import { invalidInput, ipAddressInUse, NetworkError, networkNotFound, subnetNotFound } from './errors.ts';
import { cidrsOverlap, formatCidr, formatIp, type IpVersion, parseCidr, parseIp } from './ip-math.ts';
import { type SubnetRow, subnetCidr } from './ipam.ts';
import { AUTO_DELETE_PORT_OWNERS, MIN_IPV6_MTU, type NetworkCaller, networkVisibleTo } from './networks.ts';
import { neutronTime } from './ports.ts';
import {
  ensureNetworkUsageRow,
  networkQuotaLimits,
  releaseNetworkQuota,
  reserveNetworkQuota,
} from './quotas.ts';
import {
  checkDnsNameservers,
  checkGateway,
  checkHostRoutes,
  checkIpv6Modes,
  checkSubnetCidr,
  type Ipv6Mode,
} from './subnet-settings.ts';

// Subnets: who sees them, their Neutron view, and create/update/delete. The writes hold the rows they
// decide on (the network for a create, the subnet for an update or delete) for their transaction,
// and port creates share-lock the same rows (functions/network/ports.ts), so an overlap, a shrunk pool
// or a delete is decided against every address there is.

export type { SubnetRow } from './ipam.ts';

/**
 * A project sees its own subnets and those of the networks it sees (its own, shared and external
 * ones); an admin sees every subnet.
 */
export function subnetVisibleTo(db: Pick<PrimaryDb, 'select'>, caller: NetworkCaller): SQL | undefined {
  if (caller.isAdmin) return undefined;
  return or(
    eq(neutronSubnets.project_id, caller.projectId),
    inArray(
      neutronSubnets.network_uuid,
      db.select({ uuid: neutronNetworks.uuid }).from(neutronNetworks).where(networkVisibleTo(caller)),
    ),
  );
}

/** The subnet as `caller` may see it; 404 SubnetNotFound when it is absent or not the caller's to see. */
export async function findSubnet(
  db: Pick<PrimaryDb, 'select'>,
  caller: NetworkCaller,
  uuid: string,
): Promise<SubnetRow> {
  const [subnet] = await db
    .select()
    .from(neutronSubnets)
    .where(and(eq(neutronSubnets.uuid, uuid), subnetVisibleTo(db, caller)));
  if (!subnet) throw subnetNotFound(uuid);
  return subnet;
}

export interface SubnetView {
  id: string;
  name: string;
  tenant_id: string;
  project_id: string;
  network_id: string;
  description: string;
  ip_version: number;
  cidr: string;
  gateway_ip: string | null;
  enable_dhcp: boolean;
  allocation_pools: AllocationPool[];
  dns_nameservers: string[];
  host_routes: HostRoute[];
  ipv6_address_mode: string | null;
  ipv6_ra_mode: string | null;
  subnetpool_id: null;
  segment_id: null;
  service_types: string[];
  tags: string[];
  created_at: string;
  updated_at: string;
  revision_number: number;
}

export function subnetView(row: SubnetRow): SubnetView {
  return {
    id: row.uuid,
    name: row.name,
    tenant_id: row.project_id,
    project_id: row.project_id,
    network_id: row.network_uuid,
    description: row.description,
    ip_version: row.ip_version,
    cidr: row.cidr,
    gateway_ip: row.gateway_ip,
    enable_dhcp: row.enable_dhcp,
    allocation_pools: row.allocation_pools,
    dns_nameservers: row.dns_nameservers,
    host_routes: row.host_routes,
    ipv6_address_mode: row.ipv6_address_mode,
    ipv6_ra_mode: row.ipv6_ra_mode,
    subnetpool_id: null,
    segment_id: null,
    service_types: [],
    tags: [],
    created_at: neutronTime(row.created_at),
    updated_at: neutronTime(row.updated_at ?? row.created_at),
    revision_number: row.revision_number,
  };
}

export interface SubnetCreate {
  network_uuid: string;
  project_id: string;
  ip_version: IpVersion;
  cidr: string;
  name?: string;
  description?: string;
  /** Omitted: the first address hosts may hold; null: no gateway. */
  gateway_ip?: string | null;
  /** Omitted: the usable range split around the gateway. */
  allocation_pools?: AllocationPool[];
  dns_nameservers?: string[];
  host_routes?: HostRoute[];
  enable_dhcp?: boolean;
  ipv6_address_mode?: Ipv6Mode | null;
  ipv6_ra_mode?: Ipv6Mode | null;
  /** Count the subnet against the quota without enforcing it (the migration carries existing ones). */
  skipQuotaCheck?: boolean;
}

const overlapping = (cidr: string, networkUuid: string) =>
  invalidInput(
    `Requested subnet with cidr: ${cidr} for network: ${networkUuid} overlaps with another subnet.`,
  );

/**
 * Creates a subnet on a network, in one transaction holding the network row: two creates on one
 * network decide on overlaps one after the other.
 */
export async function createSubnet(db: PrimaryDb, input: SubnetCreate): Promise<SubnetRow> {
  const cidr = checkSubnetCidr(input.cidr, input.ip_version);
  const gateway = checkGateway(cidr, input.gateway_ip);
  const pools =
    input.allocation_pools === undefined
      ? defaultPools(cidr, gateway)
      : validatePools(cidr, input.allocation_pools, gateway);
  const enableDhcp = input.enable_dhcp ?? true;
  const modes = {
    ipv6_ra_mode: input.ipv6_ra_mode ?? null,
    ipv6_address_mode: input.ipv6_address_mode ?? null,
  };
  checkIpv6Modes(cidr, modes, enableDhcp);
  const now = new Date();
  const row: SubnetRow = {
    id: 0,
    uuid: crypto.randomUUID(),
    network_uuid: input.network_uuid,
    project_id: input.project_id,
    name: input.name ?? '',
    description: input.description ?? '',
    ip_version: cidr.version,
    cidr: formatCidr(cidr),
    gateway_ip: gateway ? formatIp(gateway) : null,
    enable_dhcp: enableDhcp,
    allocation_pools: formatPools(cidr.version, pools),
    dns_nameservers: checkDnsNameservers(input.dns_nameservers ?? [], 'subnet'),
    host_routes: checkHostRoutes(input.host_routes ?? [], cidr.version, 'subnet'),
    ...modes,
    revision_number: 1,
    created_at: now,
    updated_at: now,
  };
  await ensureNetworkUsageRow(db, input.project_id, 'subnet');
  const limit = (await networkQuotaLimits(db, input.project_id)).subnet;
  await db.transaction(async (tx) => {
    const [network] = await tx
      .select({ mtu: neutronNetworks.mtu })
      .from(neutronNetworks)
      .where(eq(neutronNetworks.uuid, input.network_uuid))
      .for('update');
    if (!network) throw networkNotFound(input.network_uuid);
    if (cidr.version === 6 && network.mtu < MIN_IPV6_MTU) {
      throw invalidInput(
        `IPv6 protocol requires a minimum MTU of ${MIN_IPV6_MTU}, while the network ${input.network_uuid} is configured with ${network.mtu}.`,
      );
    }
    const siblings = await tx
      .select({ cidr: neutronSubnets.cidr })
      .from(neutronSubnets)
      .where(eq(neutronSubnets.network_uuid, input.network_uuid));
    if (siblings.some((sibling) => cidrsOverlap(parseCidr(sibling.cidr) ?? cidr, cidr))) {
      throw overlapping(row.cidr, input.network_uuid);
    }
    const { id: _unsaved, ...values } = row;
    await tx.insert(neutronSubnets).values(values);
    await reserveNetworkQuota(tx, input.project_id, 'subnet', limit, { enforce: !input.skipQuotaCheck });
  });
  return row;
}

export interface SubnetUpdate {
  name?: string;
  description?: string;
  gateway_ip?: string | null;
  allocation_pools?: AllocationPool[];
  dns_nameservers?: string[];
  host_routes?: HostRoute[];
  enable_dhcp?: boolean;
}

function inPools(pools: readonly NumericPool[], value: bigint): boolean {
  return pools.some((pool) => value >= pool.first && value <= pool.last);
}

/**
 * Changes a subnet in one transaction holding its row. New pools may not leave out an address a port
 * holds from the old ones (409 IpAddressAlreadyAllocated); a new gateway must be outside the pools
 * and not a port's address, and the old one must not be a router's (409 GatewayIpInUse).
 */
export async function updateSubnet(db: PrimaryDb, uuid: string, update: SubnetUpdate): Promise<SubnetRow> {
  await db.transaction(async (tx) => {
    const [subnet] = await tx
      .select()
      .from(neutronSubnets)
      .where(eq(neutronSubnets.uuid, uuid))
      .for('update');
    if (!subnet) throw subnetNotFound(uuid);
    const cidr = subnetCidr(subnet);
    const set: Partial<SubnetRow> = { updated_at: new Date() };
    if (update.name !== undefined) set.name = update.name;
    if (update.description !== undefined) set.description = update.description;
    if (update.dns_nameservers !== undefined)
      set.dns_nameservers = checkDnsNameservers(update.dns_nameservers, uuid);
    if (update.host_routes !== undefined)
      set.host_routes = checkHostRoutes(update.host_routes, cidr.version, uuid);
    if (update.enable_dhcp !== undefined) {
      checkIpv6Modes(
        cidr,
        {
          ipv6_ra_mode: subnet.ipv6_ra_mode as Ipv6Mode | null,
          ipv6_address_mode: subnet.ipv6_address_mode as Ipv6Mode | null,
        },
        update.enable_dhcp,
      );
      set.enable_dhcp = update.enable_dhcp;
    }
    const gatewayChanges = update.gateway_ip !== undefined;
    if (!gatewayChanges && update.allocation_pools === undefined) {
      await tx
        .update(neutronSubnets)
        .set({ ...set, revision_number: sql`${neutronSubnets.revision_number} + 1` })
        .where(eq(neutronSubnets.uuid, uuid));
      return;
    }
    const gateway = gatewayChanges
      ? checkGateway(cidr, update.gateway_ip)
      : subnet.gateway_ip === null
        ? undefined
        : parseIp(subnet.gateway_ip);
    const oldPools = numericPools(subnet.allocation_pools);
    const pools = validatePools(cidr, update.allocation_pools ?? subnet.allocation_pools, gateway);
    const held = await tx
      .select({ ip_address: neutronIpAllocations.ip_address, port_uuid: neutronIpAllocations.port_uuid })
      .from(neutronIpAllocations)
      .where(eq(neutronIpAllocations.subnet_uuid, uuid))
      .for('update');
    for (const allocation of held) {
      const value = parseIp(allocation.ip_address)?.value;
      if (value !== undefined && inPools(oldPools, value) && !inPools(pools, value)) {
        throw new NetworkError(
          409,
          'IpAddressAlreadyAllocated',
          `IP address ${allocation.ip_address} already allocated in subnet ${uuid}: the allocation pools must keep it.`,
        );
      }
    }
    const newGateway = gateway ? formatIp(gateway) : null;
    if (gatewayChanges && newGateway !== subnet.gateway_ip) {
      const onOld = held.find((allocation) => allocation.ip_address === subnet.gateway_ip);
      if (onOld) {
        throw new NetworkError(
          409,
          'GatewayIpInUse',
          `Current gateway ip ${subnet.gateway_ip} already in use by port ${onOld.port_uuid}. Unable to update.`,
        );
      }
      if (newGateway && held.some((allocation) => allocation.ip_address === newGateway)) {
        throw ipAddressInUse(subnet.network_uuid, newGateway);
      }
    }
    set.gateway_ip = newGateway;
    set.allocation_pools = formatPools(cidr.version, pools);
    await tx
      .update(neutronSubnets)
      .set({ ...set, revision_number: sql`${neutronSubnets.revision_number} + 1` })
      .where(eq(neutronSubnets.uuid, uuid));
  });
  const [subnet] = await db.select().from(neutronSubnets).where(eq(neutronSubnets.uuid, uuid));
  if (!subnet) throw subnetNotFound(uuid);
  return subnet;
}

/**
 * Deletes a subnet in one transaction holding its row and its addresses. Refused with 409 SubnetInUse
 * while a port other than the service's own (whose addresses on it go with it) holds an address on it.
 */
export async function deleteSubnet(db: PrimaryDb, uuid: string): Promise<void> {
  await db.transaction(async (tx) => {
    const [subnet] = await tx
      .select({ project_id: neutronSubnets.project_id })
      .from(neutronSubnets)
      .where(eq(neutronSubnets.uuid, uuid))
      .for('update');
    if (!subnet) throw subnetNotFound(uuid);
    const held = await tx
      .select({ id: neutronIpAllocations.id, device_owner: neutronPorts.device_owner })
      .from(neutronIpAllocations)
      .leftJoin(neutronPorts, eq(neutronPorts.uuid, neutronIpAllocations.port_uuid))
      .where(eq(neutronIpAllocations.subnet_uuid, uuid))
      .orderBy(asc(neutronIpAllocations.id))
      .for('update');
    // An address whose port is gone blocks nothing: it goes with the subnet.
    const autoDeleted = (owner: string | null) =>
      owner === null || (AUTO_DELETE_PORT_OWNERS as readonly string[]).includes(owner);
    if (held.some((allocation) => !autoDeleted(allocation.device_owner))) {
      throw new NetworkError(
        409,
        'SubnetInUse',
        `Unable to complete operation on subnet ${uuid}: One or more ports have an IP allocation from this subnet.`,
      );
    }
    if (held.length > 0) {
      await tx.delete(neutronIpAllocations).where(
        inArray(
          neutronIpAllocations.id,
          held.map((allocation) => allocation.id),
        ),
      );
    }
    await tx.delete(neutronSubnets).where(eq(neutronSubnets.uuid, uuid));
    await releaseNetworkQuota(tx, subnet.project_id, 'subnet');
  });
}
