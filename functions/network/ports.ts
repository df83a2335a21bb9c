import { and, asc, eq, inArray, type SQL, sql } from 'drizzle-orm';
import type { PrimaryDb, PrimaryWriter } from '../../schema/db.ts';
import {
  type AllocationPool,
  type AllowedAddressPair,
  neutronFloatingIps,
  neutronIpAllocations,
  neutronNetworks,
  neutronPortSecurityGroups,
  neutronPorts,
  neutronSecurityGroups,
  neutronSubnets,
} from '../../schema/tables/index.ts';
import { isDuplicateKey } from '../shared/errors.ts';
import { type NumericPool, numericPools } from './allocation-pools.ts';
import { ensureDefaultSecurityGroup } from './default-security-group.ts';
import {
  invalidInput,
  ipAddressGenerationFailure,
  ipAddressInUse,
  macAddressInUse,
  NetworkError,
  networkNotFound,
  portNotFound,
  securityGroupNotFound,
  subnetNotFound,
} from './errors.ts';
import { parseIp } from './ip-math.ts';
import {
  type AddressRequest,
  checkRequestedAddress,
  proposeAddresses,
  type SubnetRow,
  subnetContaining,
} from './ipam.ts';
import { canonicalMac, MAC_GENERATION_RETRIES, randomMac } from './mac.ts';
import {
  ensureNetworkUsageRow,
  MissingUsageRow,
  networkQuotaLimits,
  releaseNetworkQuota,
  reserveNetworkQuota,
} from './quotas.ts';
import { selectInShareMode } from './share-lock.ts';
import { ClaimLost, isDeadlockOrLockTimeout } from './transient.ts';

// Ports: create (addresses and MAC claimed race-free), bind, delete. The API's /ports routes, the boot
// workflow, interface attach and the migration all go through these, so a port is made one way.

export type PortRow = typeof neutronPorts.$inferSelect;

/** Neutron's cap on the addresses of one port (max_fixed_ips_per_port). */
export const MAX_FIXED_IPS_PER_PORT = 5;
/** How often a create proposes again after losing an address or a MAC to a concurrent create. */
export const CLAIM_ATTEMPTS = 24;

export interface FixedIpRequest {
  subnet_id?: string;
  ip_address?: string;
}

export interface PortCreate {
  network_uuid: string;
  project_id: string;
  name?: string;
  description?: string;
  admin_state_up?: boolean;
  mac_address?: string;
  /** Omitted: one address from the first IPv4 subnet with room and one from each IPv6 subnet; `[]`: none. */
  fixed_ips?: FixedIpRequest[];
  device_id?: string;
  device_owner?: string;
  binding_host_id?: string;
  binding_vnic_type?: string;
  binding_profile?: Record<string, unknown>;
  /** Omitted: the project's default group (none when port security is off). */
  security_groups?: string[];
  allowed_address_pairs?: Array<{ ip_address: string; mac_address?: string }>;
  port_security_enabled?: boolean;
  /** Count the port against the quota without enforcing it (the migration carries existing ports). */
  skipQuotaCheck?: boolean;
}

export interface PortView {
  id: string;
  name: string;
  network_id: string;
  tenant_id: string;
  project_id: string;
  mac_address: string;
  admin_state_up: boolean;
  status: string;
  device_id: string;
  device_owner: string;
  fixed_ips: Array<{ subnet_id: string; ip_address: string }>;
  security_groups: string[];
  allowed_address_pairs: AllowedAddressPair[];
  extra_dhcp_opts: never[];
  port_security_enabled: boolean;
  description: string;
  'binding:host_id': string;
  'binding:vif_type': string;
  'binding:vif_details': Record<string, unknown>;
  'binding:vnic_type': string;
  'binding:profile': Record<string, unknown>;
  tags: never[];
  created_at: string;
  updated_at: string;
  revision_number: number;
}

/** Neutron's timestamps: UTC, seconds, with a `Z`. */
export function neutronTime(date: Date | null): string {
  return (date ?? new Date(0)).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

export function portView(
  port: PortRow,
  fixedIps: Array<{ subnet_id: string; ip_address: string }>,
  securityGroups: string[],
): PortView {
  const bound = port.binding_vif_type !== 'unbound' && port.binding_vif_type !== 'binding_failed';
  return {
    id: port.uuid,
    name: port.name,
    network_id: port.network_uuid,
    tenant_id: port.project_id,
    project_id: port.project_id,
    mac_address: port.mac_address,
    admin_state_up: port.admin_state_up,
    status: port.status,
    device_id: port.device_id,
    device_owner: port.device_owner,
    fixed_ips: fixedIps,
    security_groups: securityGroups,
    allowed_address_pairs: port.allowed_address_pairs,
    extra_dhcp_opts: [],
    port_security_enabled: port.port_security_enabled,
    description: port.description,
    'binding:host_id': port.binding_host_id,
    'binding:vif_type': port.binding_vif_type,
    'binding:vif_details': bound ? { port_filter: true } : {},
    'binding:vnic_type': port.binding_vnic_type,
    'binding:profile': port.binding_profile,
    tags: [],
    created_at: neutronTime(port.created_at),
    updated_at: neutronTime(port.updated_at ?? port.created_at),
    revision_number: port.revision_number,
  };
}

/** The views of `rows`, their addresses and groups read in one query each. */
export async function portViews(
  db: Pick<PrimaryDb, 'select'>,
  rows: readonly PortRow[],
): Promise<PortView[]> {
  if (rows.length === 0) return [];
  const uuids = rows.map((row) => row.uuid);
  const [allocations, groups] = await Promise.all([
    db
      .select({
        port_uuid: neutronIpAllocations.port_uuid,
        subnet_id: neutronIpAllocations.subnet_uuid,
        ip_address: neutronIpAllocations.ip_address,
      })
      .from(neutronIpAllocations)
      .where(inArray(neutronIpAllocations.port_uuid, uuids))
      .orderBy(asc(neutronIpAllocations.id)),
    db.select().from(neutronPortSecurityGroups).where(inArray(neutronPortSecurityGroups.port_uuid, uuids)),
  ]);
  return rows.map((row) =>
    portView(
      row,
      allocations
        .filter((allocation) => allocation.port_uuid === row.uuid)
        .map(({ subnet_id, ip_address }) => ({ subnet_id, ip_address })),
      groups.filter((group) => group.port_uuid === row.uuid).map((group) => group.security_group_uuid),
    ),
  );
}

export async function loadPorts(
  db: Pick<PrimaryDb, 'select'>,
  filter: { device_id?: string; uuids?: readonly string[] },
): Promise<PortView[]> {
  const conditions: SQL[] = [];
  if (filter.device_id !== undefined) conditions.push(eq(neutronPorts.device_id, filter.device_id));
  if (filter.uuids !== undefined) {
    if (filter.uuids.length === 0) return [];
    conditions.push(inArray(neutronPorts.uuid, [...filter.uuids]));
  }
  const rows = await db
    .select()
    .from(neutronPorts)
    .where(and(...conditions))
    .orderBy(asc(neutronPorts.id));
  return portViews(db, rows);
}

export async function loadPort(db: Pick<PrimaryDb, 'select'>, uuid: string): Promise<PortView> {
  const [view] = await loadPorts(db, { uuids: [uuid] });
  if (!view) throw portNotFound(uuid);
  return view;
}

/** Turns the request's fixed_ips into one address request per subnet entry (validated, canonical). */
export function addressRequests(
  networkUuid: string,
  subnets: readonly SubnetRow[],
  requested: readonly FixedIpRequest[],
  deviceOwner: string,
): AddressRequest[] {
  if (requested.length > MAX_FIXED_IPS_PER_PORT) {
    throw invalidInput(`Exceeded maximum amount of fixed ips per port (${MAX_FIXED_IPS_PER_PORT}).`);
  }
  const requests = requested.map((fixedIp) => {
    let subnet: SubnetRow | undefined;
    if (fixedIp.subnet_id !== undefined) {
      subnet = subnets.find((candidate) => candidate.uuid === fixedIp.subnet_id);
      if (!subnet) throw subnetNotFound(fixedIp.subnet_id);
    } else if (fixedIp.ip_address !== undefined) {
      subnet = subnetContaining(subnets, fixedIp.ip_address);
    } else {
      throw invalidInput('a fixed_ips entry needs a subnet_id or an ip_address');
    }
    const address =
      fixedIp.ip_address === undefined
        ? undefined
        : checkRequestedAddress(subnet, fixedIp.ip_address, deviceOwner);
    return { subnet, address };
  });
  const given = requests.flatMap((request) =>
    request.address ? [`${request.subnet.uuid} ${request.address}`] : [],
  );
  if (new Set(given).size !== given.length) {
    throw invalidInput(`a fixed IP is requested twice on network ${networkUuid}`);
  }
  return requests;
}

/**
 * The addresses of a port created without fixed_ips: one from the first IPv4 subnet that has one free
 * (in creation order), and one from each IPv6 subnet.
 */
function defaultAddressRequests(subnets: readonly SubnetRow[]): AddressRequest[] {
  const requests: AddressRequest[] = subnets
    .filter((subnet) => subnet.ip_version === 6)
    .map((subnet) => ({ subnet }));
  const [first, ...others] = subnets.filter((subnet) => subnet.ip_version === 4);
  return first ? [{ subnet: first, fallbacks: others }, ...requests] : requests;
}

export async function checkSecurityGroups(
  db: PrimaryDb,
  projectId: string,
  uuids: readonly string[],
): Promise<void> {
  if (uuids.length === 0) return;
  const found = await db
    .select({ uuid: neutronSecurityGroups.uuid, project_id: neutronSecurityGroups.project_id })
    .from(neutronSecurityGroups)
    .where(inArray(neutronSecurityGroups.uuid, [...uuids]));
  for (const uuid of uuids) {
    const group = found.find((row) => row.uuid === uuid);
    if (!group || group.project_id !== projectId) throw securityGroupNotFound(uuid);
  }
}

/** A subnet as a claim is checked against it, read under a share lock. */
interface LockedSubnet {
  uuid: string;
  gateway_ip: string | null;
  allocation_pools: AllocationPool[];
}

function jsonColumn<T>(value: unknown): T {
  return (typeof value === 'string' ? JSON.parse(value) : value) as T;
}

/**
 * Share-locks the network and its subnets until the transaction ends (functions/network/share-lock.ts),
 * so that a subnet delete or a change of its pools or gateway waits for the claims being made, and
 * answers the subnets as they are now.
 */
export async function lockNetworkForClaims(
  tx: PrimaryWriter & Pick<PrimaryDb, 'execute'>,
  networkUuid: string,
): Promise<LockedSubnet[]> {
  // One statement locks the network row and its subnets' rows (one round trip inside the claim).
  const rows = await selectInShareMode(
    tx,
    sql`SELECT ${neutronSubnets.uuid} AS uuid, ${neutronSubnets.gateway_ip} AS gateway_ip,
      ${neutronSubnets.allocation_pools} AS allocation_pools
      FROM ${neutronNetworks} LEFT JOIN ${neutronSubnets} ON ${neutronSubnets.network_uuid} = ${neutronNetworks.uuid}
      WHERE ${eq(neutronNetworks.uuid, networkUuid)}`,
  );
  if (rows.length === 0) throw networkNotFound(networkUuid);
  return rows
    .filter((row) => row.uuid !== null)
    .map((row) => ({
      uuid: String(row.uuid),
      gateway_ip: row.gateway_ip === null ? null : String(row.gateway_ip),
      allocation_pools: jsonColumn<AllocationPool[]>(row.allocation_pools),
    }));
}

function inPools(pools: readonly NumericPool[], value: bigint): boolean {
  return pools.some((pool) => value >= pool.first && value <= pool.last);
}

/**
 * Checks the claims against the subnets as locked: a subnet deleted since is gone (404); an address
 * this create chose that is no longer in its subnet's pools, or is now its gateway, is chosen again;
 * a requested address that became the gateway is refused, as it would have been at first.
 */
export function checkClaimsAgainst(
  subnets: readonly LockedSubnet[],
  claims: ReadonlyArray<{ subnet: SubnetRow; address: string; requested: boolean }>,
  deviceOwner: string,
): void {
  for (const claim of claims) {
    const subnet = subnets.find((candidate) => candidate.uuid === claim.subnet.uuid);
    if (!subnet) throw subnetNotFound(claim.subnet.uuid);
    const isGateway = subnet.gateway_ip === claim.address;
    if (claim.requested) {
      if (isGateway && !deviceOwner.startsWith('network:router')) {
        throw invalidInput(`IP address ${claim.address} is the gateway of subnet ${subnet.uuid}`);
      }
      continue;
    }
    const address = parseIp(claim.address);
    if (!address || isGateway || !inPools(numericPools(subnet.allocation_pools), address.value)) {
      throw new ClaimLost(claim.address);
    }
  }
}

/** The requests with their subnets read again, for a retry after a lost claim (pools may have changed). */
async function refreshAddressRequests(
  db: Pick<PrimaryDb, 'select'>,
  requests: readonly AddressRequest[],
): Promise<AddressRequest[]> {
  if (requests.length === 0) return [];
  const named = requests.flatMap((request) => [request.subnet, ...(request.fallbacks ?? [])]);
  const fresh = await db
    .select()
    .from(neutronSubnets)
    .where(inArray(neutronSubnets.uuid, [...new Set(named.map((subnet) => subnet.uuid))]));
  const reread = (subnet: SubnetRow) => {
    const found = fresh.find((candidate) => candidate.uuid === subnet.uuid);
    if (!found) throw subnetNotFound(subnet.uuid);
    return found;
  };
  return requests.map((request) => ({
    ...request,
    subnet: reread(request.subnet),
    fallbacks: request.fallbacks?.map(reread),
  }));
}

/**
 * Creates a port on a network, with its addresses, MAC, security groups and quota, in one transaction.
 * A requested address or MAC that is taken is a 409 naming it; an address or MAC this create chose
 * and lost to a concurrent create is chosen again.
 */
export async function createPort(db: PrimaryDb, input: PortCreate): Promise<PortView> {
  const [[network], subnets] = await Promise.all([
    db.select().from(neutronNetworks).where(eq(neutronNetworks.uuid, input.network_uuid)),
    db
      .select()
      .from(neutronSubnets)
      .where(eq(neutronSubnets.network_uuid, input.network_uuid))
      .orderBy(asc(neutronSubnets.id)),
  ]);
  if (!network) throw networkNotFound(input.network_uuid);
  const deviceOwner = input.device_owner ?? '';
  const requests =
    input.fixed_ips === undefined
      ? defaultAddressRequests(subnets)
      : addressRequests(network.uuid, subnets, input.fixed_ips, deviceOwner);
  const givenMac = input.mac_address === undefined ? undefined : canonicalMac(input.mac_address);
  if (input.mac_address !== undefined && !givenMac) {
    throw invalidInput(`'${input.mac_address}' is not a valid MAC address`);
  }
  const portSecurity = input.port_security_enabled ?? network.port_security_enabled;
  if (!portSecurity && (input.security_groups?.length ?? 0) > 0) {
    throw new NetworkError(
      409,
      'PortSecurityAndIPRequiredForSecurityGroups',
      'Port security must be enabled and port must have an IP address in order to use security groups.',
    );
  }
  // Independent reads, sent together: each is a round trip to the database.
  const [securityGroups, limits] = await Promise.all([
    !portSecurity
      ? []
      : input.security_groups === undefined
        ? ensureDefaultSecurityGroup(db, input.project_id).then((group) => [group])
        : checkSecurityGroups(db, input.project_id, input.security_groups).then(
            () => input.security_groups ?? [],
          ),
    networkQuotaLimits(db, input.project_id),
  ]);
  const limit = limits.port;

  let current = requests;
  for (let attempt = 1; ; attempt += 1) {
    if (attempt > 1) current = await refreshAddressRequests(db, current);
    const addresses = await proposeAddresses(db, network.uuid, current);
    const mac = givenMac ?? randomMac();
    const now = new Date();
    const row: PortRow = {
      id: 0,
      uuid: crypto.randomUUID(),
      network_uuid: network.uuid,
      project_id: input.project_id,
      name: input.name ?? '',
      description: input.description ?? '',
      mac_address: mac,
      admin_state_up: input.admin_state_up ?? true,
      status: 'DOWN',
      device_id: input.device_id ?? '',
      device_owner: deviceOwner,
      binding_host_id: input.binding_host_id ?? '',
      binding_vif_type: input.binding_host_id ? 'bridge' : 'unbound',
      binding_vnic_type: input.binding_vnic_type ?? 'normal',
      binding_profile: input.binding_profile ?? {},
      allowed_address_pairs: (input.allowed_address_pairs ?? []).map((pair) => ({
        ip_address: pair.ip_address,
        mac_address: pair.mac_address ?? mac,
      })),
      port_security_enabled: portSecurity,
      revision_number: 1,
      created_at: now,
      updated_at: now,
    };
    // Claims in subnet order, the same in every create, so that two creates never wait on each other
    // in opposite orders; the quota row last, as it is the one every create of the project takes.
    const claims = [...addresses].sort((a, b) => a.subnet.uuid.localeCompare(b.subnet.uuid));
    try {
      await db.transaction(async (tx) => {
        checkClaimsAgainst(await lockNetworkForClaims(tx, network.uuid), claims, deviceOwner);
        for (const claim of claims) {
          try {
            await tx.insert(neutronIpAllocations).values({
              port_uuid: row.uuid,
              subnet_uuid: claim.subnet.uuid,
              network_uuid: network.uuid,
              ip_address: claim.address,
              created_at: now,
            });
          } catch (error) {
            if (!isDuplicateKey(error)) throw error;
            if (claim.requested) throw ipAddressInUse(network.uuid, claim.address);
            throw new ClaimLost(claim.address);
          }
        }
        const { id: _unsaved, ...values } = row;
        try {
          await tx.insert(neutronPorts).values(values);
        } catch (error) {
          if (!isDuplicateKey(error)) throw error;
          if (givenMac) throw macAddressInUse(network.uuid, mac);
          throw new ClaimLost(mac);
        }
        if (securityGroups.length > 0) {
          // Read under a share lock: a group deleted meanwhile is not found here, and a delete that
          // comes after waits for this port and then sees it (functions/network/security-groups.ts).
          const present = await selectInShareMode(
            tx,
            sql`SELECT ${neutronSecurityGroups.uuid} AS uuid FROM ${neutronSecurityGroups}
              WHERE ${inArray(neutronSecurityGroups.uuid, securityGroups)}`,
          );
          const missing = securityGroups.find((uuid) => !present.some((group) => group.uuid === uuid));
          if (missing) throw securityGroupNotFound(missing);
          await tx
            .insert(neutronPortSecurityGroups)
            .values(securityGroups.map((group) => ({ port_uuid: row.uuid, security_group_uuid: group })));
        }
        await reserveNetworkQuota(tx, input.project_id, 'port', limit, { enforce: !input.skipQuotaCheck });
      });
    } catch (error) {
      if (error instanceof MissingUsageRow) {
        await ensureNetworkUsageRow(db, input.project_id, 'port');
        continue;
      }
      const retry = error instanceof ClaimLost || isDeadlockOrLockTimeout(error);
      if (!retry) throw error;
      if (attempt >= Math.max(CLAIM_ATTEMPTS, MAC_GENERATION_RETRIES)) {
        // Still losing after every attempt: the addresses left are being taken faster than we can claim.
        throw ipAddressGenerationFailure(network.uuid);
      }
      continue;
    }
    return portView(
      row,
      addresses.map((claim) => ({ subnet_id: claim.subnet.uuid, ip_address: claim.address })),
      securityGroups,
    );
  }
}

export interface PortBinding {
  device_id?: string;
  device_owner?: string;
  binding_host_id?: string;
  status?: string;
}

/**
 * Sets who owns a port and where it is bound; `binding_host_id: ''` unbinds it. One conditional
 * UPDATE; the port must exist.
 */
export async function updatePortBinding(
  db: PrimaryDb,
  portUuid: string,
  binding: PortBinding,
): Promise<PortView> {
  const set: Partial<Omit<PortRow, 'revision_number'>> = { updated_at: new Date() };
  if (binding.device_id !== undefined) set.device_id = binding.device_id;
  if (binding.device_owner !== undefined) set.device_owner = binding.device_owner;
  if (binding.status !== undefined) set.status = binding.status;
  if (binding.binding_host_id !== undefined) {
    set.binding_host_id = binding.binding_host_id;
    set.binding_vif_type = binding.binding_host_id === '' ? 'unbound' : 'bridge';
    if (binding.binding_host_id === '' && binding.status === undefined) set.status = 'DOWN';
  }
  const result = await db
    .update(neutronPorts)
    .set({ ...set, revision_number: sql`${neutronPorts.revision_number} + 1` })
    .where(eq(neutronPorts.uuid, portUuid));
  if (result.rowsAffected !== 1) throw portNotFound(portUuid);
  return loadPort(db, portUuid);
}

/**
 * Deletes a port and, in the same transaction, its addresses, its security group memberships, the
 * association of any floating IP with it, and its place in the quota. Deleting a port that is gone
 * already does nothing, so a retried step can call it again.
 */
export async function deletePort(db: PrimaryDb, portUuid: string): Promise<void> {
  await db.transaction((tx) => deletePortInTransaction(tx, portUuid));
}

/**
 * deletePort's writes inside the caller's transaction, for a change that frees a port together with
 * something else (a router's gateway or interface, a floating IP's address). True when it removed it.
 */
export async function deletePortInTransaction(tx: PrimaryWriter, portUuid: string): Promise<boolean> {
  const [port] = await tx
    .select({ project_id: neutronPorts.project_id })
    .from(neutronPorts)
    .where(eq(neutronPorts.uuid, portUuid));
  if (!port) return false;
  await tx.delete(neutronIpAllocations).where(eq(neutronIpAllocations.port_uuid, portUuid));
  await tx.delete(neutronPortSecurityGroups).where(eq(neutronPortSecurityGroups.port_uuid, portUuid));
  await tx
    .update(neutronFloatingIps)
    .set({
      fixed_port_uuid: null,
      fixed_ip_address: null,
      router_uuid: null,
      status: 'DOWN',
      revision_number: sql`${neutronFloatingIps.revision_number} + 1`,
      updated_at: new Date(),
    })
    .where(eq(neutronFloatingIps.fixed_port_uuid, portUuid));
  const removed = await tx.delete(neutronPorts).where(eq(neutronPorts.uuid, portUuid));
  if (removed.rowsAffected !== 1) return false;
  await releaseNetworkQuota(tx, port.project_id, 'port');
  return true;
}
