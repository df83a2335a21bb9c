import { and, asc, eq, inArray, or, type SQL, sql } from 'drizzle-orm';
import type { PrimaryDb } from '../../schema/db.ts';
import { neutronNetworks, neutronPorts, neutronSubnets } from '../../schema/tables/index.ts';
import { isDuplicateKey } from '../shared/errors.ts';
import { invalidInput, NetworkError, networkNotFound } from './errors.ts';
import { deletePortInTransaction, neutronTime } from './ports.ts';
import {
  ensureNetworkUsageRow,
  networkQuotaLimits,
  releaseNetworkQuota,
  reserveNetworkQuota,
} from './quotas.ts';

// Networks: who sees them, their Neutron view, and create/update/delete with their provider (L2)
// settings validated and their quota and dependants handled in the writing transaction.

export type NetworkRow = typeof neutronNetworks.$inferSelect;

/** Who is asking: the project acting and whether it is an admin (the API's caller, a workflow's). */
export interface NetworkCaller {
  projectId: string;
  isAdmin: boolean;
}

export const NETWORK_TYPES = ['local', 'flat', 'vlan'] as const;
export type NetworkType = (typeof NETWORK_TYPES)[number];
export const MIN_VLAN_ID = 1;
export const MAX_VLAN_ID = 4094;
/** The smallest MTU an IPv4 network may have (RFC 791), and the physical networks' MTU (Neutron's global_physnet_mtu). */
export const MIN_MTU = 68;
export const MAX_MTU = 1500;
/** IPv6 needs links of at least this MTU (RFC 8200). */
export const MIN_IPV6_MTU = 1280;

/**
 * Ports a network's delete removes with it rather than being refused by (Neutron's
 * AUTO_DELETE_PORT_OWNERS): the service's own ports, which nobody deletes by hand.
 */
export const AUTO_DELETE_PORT_OWNERS = [
  'network:dhcp',
  'network:router_interface_distributed',
  'network:floatingip_agent_gateway',
  'network:router_centralized_snat',
  'network:router_ha_interface',
] as const;

/** A project sees its own networks, shared ones and external ones; an admin sees every network. */
export function networkVisibleTo(caller: NetworkCaller): SQL | undefined {
  if (caller.isAdmin) return undefined;
  return or(
    eq(neutronNetworks.project_id, caller.projectId),
    eq(neutronNetworks.shared, true),
    eq(neutronNetworks.router_external, true),
  );
}

/** The network as `caller` may see it; 404 NetworkNotFound when it is absent or another project's. */
export async function findNetwork(
  db: Pick<PrimaryDb, 'select'>,
  caller: NetworkCaller,
  uuid: string,
): Promise<NetworkRow> {
  const [network] = await db
    .select()
    .from(neutronNetworks)
    .where(and(eq(neutronNetworks.uuid, uuid), networkVisibleTo(caller)));
  if (!network) throw networkNotFound(uuid);
  return network;
}

/** Whether `caller` may change the network or what is on it: its owner or an admin. */
export function ownsNetwork(caller: NetworkCaller, network: NetworkRow): boolean {
  return caller.isAdmin || network.project_id === caller.projectId;
}

/** Whether `caller` may put a port on the network: its owner, an admin, or anyone when it is shared. */
export function mayAttachToNetwork(caller: NetworkCaller, network: NetworkRow): boolean {
  return ownsNetwork(caller, network) || network.shared;
}

export interface NetworkView {
  id: string;
  name: string;
  tenant_id: string;
  project_id: string;
  description: string;
  admin_state_up: boolean;
  status: string;
  shared: boolean;
  'router:external': boolean;
  mtu: number;
  port_security_enabled: boolean;
  subnets: string[];
  availability_zone_hints: string[];
  availability_zones: string[];
  ipv4_address_scope: null;
  ipv6_address_scope: null;
  is_default: boolean;
  tags: string[];
  created_at: string;
  updated_at: string;
  revision_number: number;
  'provider:network_type'?: string;
  'provider:physical_network'?: string | null;
  'provider:segmentation_id'?: number | null;
}

/** Neutron's network body; the provider attributes only for admins, as Neutron's policy shows them. */
export function networkView(row: NetworkRow, subnetIds: string[], caller: NetworkCaller): NetworkView {
  const view: NetworkView = {
    id: row.uuid,
    name: row.name,
    tenant_id: row.project_id,
    project_id: row.project_id,
    description: row.description,
    admin_state_up: row.admin_state_up,
    status: row.status,
    shared: row.shared,
    'router:external': row.router_external,
    mtu: row.mtu,
    port_security_enabled: row.port_security_enabled,
    subnets: subnetIds,
    availability_zone_hints: [],
    // One zone: every network is reachable from every host.
    availability_zones: ['nova'],
    ipv4_address_scope: null,
    ipv6_address_scope: null,
    is_default: false,
    tags: [],
    created_at: neutronTime(row.created_at),
    updated_at: neutronTime(row.updated_at ?? row.created_at),
    revision_number: row.revision_number,
  };
  if (caller.isAdmin) {
    view['provider:network_type'] = row.network_type;
    view['provider:physical_network'] = row.physical_network;
    view['provider:segmentation_id'] = row.segmentation_id;
  }
  return view;
}

/** The views of `rows`, their subnet ids read in one query. */
export async function networkViews(
  db: Pick<PrimaryDb, 'select'>,
  rows: readonly NetworkRow[],
  caller: NetworkCaller,
): Promise<NetworkView[]> {
  if (rows.length === 0) return [];
  const subnets = await db
    .select({ uuid: neutronSubnets.uuid, network_uuid: neutronSubnets.network_uuid })
    .from(neutronSubnets)
    .where(
      inArray(
        neutronSubnets.network_uuid,
        rows.map((row) => row.uuid),
      ),
    )
    .orderBy(asc(neutronSubnets.id));
  return rows.map((row) =>
    networkView(
      row,
      subnets.filter((subnet) => subnet.network_uuid === row.uuid).map((subnet) => subnet.uuid),
      caller,
    ),
  );
}

export interface ProviderSettings {
  network_type?: NetworkType;
  physical_network?: string | null;
  segmentation_id?: number | null;
}

/**
 * The provider (L2) settings of a new network, checked as ML2's type drivers check them: a VLAN needs
 * its physical network and an id in 1..4094, a flat network its physical network and no id, a local
 * one neither. Without a type the network is `local`.
 */
export function checkProviderSettings(settings: ProviderSettings): Required<ProviderSettings> {
  const type = settings.network_type ?? 'local';
  const physical = settings.physical_network ?? null;
  const segmentation = settings.segmentation_id ?? null;
  if (type === 'local') {
    if (physical !== null || segmentation !== null) {
      throw invalidInput(
        'provider:physical_network and provider:segmentation_id prohibited for local provider network.',
      );
    }
  } else if (type === 'flat') {
    if (physical === null) throw invalidInput('physical_network required for flat provider network.');
    if (segmentation !== null) throw invalidInput('segmentation_id prohibited for flat provider network.');
  } else {
    if (physical === null) throw invalidInput('physical_network required for VLAN provider network.');
    if (segmentation === null) throw invalidInput('segmentation_id required for VLAN provider network.');
    if (segmentation < MIN_VLAN_ID || segmentation > MAX_VLAN_ID) {
      throw invalidInput(`segmentation_id out of range (${MIN_VLAN_ID} through ${MAX_VLAN_ID}).`);
    }
  }
  return { network_type: type, physical_network: physical, segmentation_id: segmentation };
}

export interface NetworkCreate extends ProviderSettings {
  project_id: string;
  name?: string;
  description?: string;
  admin_state_up?: boolean;
  shared?: boolean;
  router_external?: boolean;
  mtu?: number;
  port_security_enabled?: boolean;
  /** Count the network against the quota without enforcing it (the migration carries existing ones). */
  skipQuotaCheck?: boolean;
}

const vlanIdInUse = (segmentationId: number | null, physicalNetwork: string | null) =>
  new NetworkError(
    409,
    'VlanIdInUse',
    `Unable to create the network. The VLAN ${segmentationId} on physical network ${physicalNetwork} is in use.`,
  );

/** Creates a network and takes its place in the project's quota, in one transaction. */
export async function createNetwork(db: PrimaryDb, input: NetworkCreate): Promise<NetworkRow> {
  const provider = checkProviderSettings(input);
  await ensureNetworkUsageRow(db, input.project_id, 'network');
  const limit = (await networkQuotaLimits(db, input.project_id)).network;
  const now = new Date();
  const row: NetworkRow = {
    id: 0,
    uuid: crypto.randomUUID(),
    project_id: input.project_id,
    name: input.name ?? '',
    description: input.description ?? '',
    admin_state_up: input.admin_state_up ?? true,
    status: 'ACTIVE',
    shared: input.shared ?? false,
    router_external: input.router_external ?? false,
    mtu: input.mtu ?? MAX_MTU,
    ...provider,
    port_security_enabled: input.port_security_enabled ?? true,
    revision_number: 1,
    created_at: now,
    updated_at: now,
  };
  const { id: _unsaved, ...values } = row;
  try {
    await db.transaction(async (tx) => {
      // The unique key on (physical network, segmentation id) is what refuses a VLAN twice.
      await tx.insert(neutronNetworks).values(values);
      await reserveNetworkQuota(tx, input.project_id, 'network', limit, { enforce: !input.skipQuotaCheck });
    });
  } catch (error) {
    if (isDuplicateKey(error) && row.segmentation_id !== null) {
      throw vlanIdInUse(row.segmentation_id, row.physical_network);
    }
    throw error;
  }
  return row;
}

export interface NetworkUpdate {
  name?: string;
  description?: string;
  admin_state_up?: boolean;
  shared?: boolean;
  router_external?: boolean;
  mtu?: number;
  port_security_enabled?: boolean;
}

/** Ports of projects other than the network's own: a network they use cannot stop being shared. */
function portsOfOtherProjects(network: typeof neutronNetworks) {
  return sql`EXISTS (SELECT 1 FROM ${neutronPorts} WHERE ${neutronPorts.network_uuid} = ${network.uuid}
    AND ${neutronPorts.project_id} <> ${network.project_id})`;
}

/** Router gateways and floating IPs: an external network that has them cannot become internal. */
function externalPorts(network: typeof neutronNetworks) {
  return sql`EXISTS (SELECT 1 FROM ${neutronPorts} WHERE ${neutronPorts.network_uuid} = ${network.uuid}
    AND ${neutronPorts.device_owner} IN ('network:router_gateway', 'network:floatingip'))`;
}

/**
 * Changes a network's attributes in one conditional UPDATE: unsharing refuses while other projects
 * have ports on it, making it internal refuses while routers or floating IPs use it (ports being
 * created wait for this row: functions/network/ports.ts locks it).
 */
export async function updateNetwork(db: PrimaryDb, uuid: string, update: NetworkUpdate): Promise<NetworkRow> {
  const result = await db
    .update(neutronNetworks)
    .set({
      ...update,
      updated_at: new Date(),
      revision_number: sql`${neutronNetworks.revision_number} + 1`,
    })
    .where(
      and(
        eq(neutronNetworks.uuid, uuid),
        update.shared === false
          ? or(eq(neutronNetworks.shared, false), sql`NOT ${portsOfOtherProjects(neutronNetworks)}`)
          : undefined,
        update.router_external === false
          ? or(eq(neutronNetworks.router_external, false), sql`NOT ${externalPorts(neutronNetworks)}`)
          : undefined,
      ),
    );
  const [network] = await db.select().from(neutronNetworks).where(eq(neutronNetworks.uuid, uuid));
  if (!network) throw networkNotFound(uuid);
  if (result.rowsAffected === 1) return network;
  const [usage] = await db
    .select({ others: sql<number>`${portsOfOtherProjects(neutronNetworks)}` })
    .from(neutronNetworks)
    .where(eq(neutronNetworks.uuid, uuid));
  if (update.shared === false && Number(usage?.others) === 1) {
    throw new NetworkError(
      409,
      'InvalidSharedSetting',
      `Unable to reconfigure sharing settings for network ${uuid}. Multiple tenants are using it.`,
    );
  }
  throw new NetworkError(
    409,
    'ExternalNetworkInUse',
    `External network ${uuid} cannot be updated to be made non-external, since it has existing gateway ports.`,
  );
}

/**
 * Deletes a network with its subnets, in one transaction that holds the network row: ports being
 * created on it wait (they lock it in share mode) and then find it gone. Refused with 409 NetworkInUse
 * while ports other than the service's own (AUTO_DELETE_PORT_OWNERS, removed with it) are on it.
 */
export async function deleteNetwork(db: PrimaryDb, uuid: string): Promise<void> {
  await db.transaction(async (tx) => {
    const [network] = await tx
      .select({ project_id: neutronNetworks.project_id })
      .from(neutronNetworks)
      .where(eq(neutronNetworks.uuid, uuid))
      .for('update');
    if (!network) throw networkNotFound(uuid);
    const ports = await tx
      .select({ uuid: neutronPorts.uuid, device_owner: neutronPorts.device_owner })
      .from(neutronPorts)
      .where(eq(neutronPorts.network_uuid, uuid))
      .for('update');
    const inUse = ports.filter(
      (port) => !(AUTO_DELETE_PORT_OWNERS as readonly string[]).includes(port.device_owner),
    );
    if (inUse.length > 0) {
      throw new NetworkError(
        409,
        'NetworkInUse',
        `Unable to complete operation on network ${uuid}. There are one or more ports still in use on the network, id for these ports is: ${inUse.map((port) => port.uuid).join(',')}.`,
      );
    }
    for (const port of ports) await deletePortInTransaction(tx, port.uuid);
    const subnets = await tx
      .select({ uuid: neutronSubnets.uuid, project_id: neutronSubnets.project_id })
      .from(neutronSubnets)
      .where(eq(neutronSubnets.network_uuid, uuid))
      .for('update');
    if (subnets.length > 0) {
      await tx.delete(neutronSubnets).where(eq(neutronSubnets.network_uuid, uuid));
      const perProject = Map.groupBy(subnets, (subnet) => subnet.project_id);
      for (const [projectId, owned] of perProject) {
        await releaseNetworkQuota(tx, projectId, 'subnet', owned.length);
      }
    }
    await tx.delete(neutronNetworks).where(eq(neutronNetworks.uuid, uuid));
    await releaseNetworkQuota(tx, network.project_id, 'network');
  });
}
