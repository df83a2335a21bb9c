import { and, asc, count, eq, isNotNull, isNull, or, type SQL, sql } from 'drizzle-orm';
import type { PrimaryDb } from '../../../schema/db.ts';
import { fixedIps, novaNetworks } from '../../../schema/tables/index.ts';
import { BadRequest, Conflict, isDuplicateKey, NotFound, NotImplemented } from '../../shared/errors.ts';
import { cidrsOverlap, parseCidr } from '../ip-math.ts';
import { retryTransient } from '../transient.ts';
import { DEFAULT_DNS1, defaultBridge, planIpv4, planIpv6 } from './addresses.ts';
import type { LegacyNetworkRow } from './project-networks.ts';

// nova-network's networks as an operator manages them (`nova-manage network create`, os-networks):
// one network per CIDR, its fixed IPs written with it, VLAN networks handed to projects.

type Reader = Pick<PrimaryDb, 'select'>;

export interface LegacyNetworkCreate {
  label: string;
  cidr: string;
  cidr_v6?: string;
  gateway?: string;
  gateway_v6?: string;
  bridge?: string;
  bridge_interface?: string;
  multi_host?: boolean;
  dns1?: string;
  dns2?: string;
  /** Set: a VlanManager network on this VLAN. */
  vlan?: number;
  /** A VlanManager network on the lowest free VLAN from this one up. */
  vlan_start?: number;
  /** The cloudpipe VPN's public port (VLAN networks). */
  vpn_start?: number;
  project_id?: string;
  priority?: number;
  rxtx_base?: number;
}

/** The highest usable 802.1Q VLAN id. */
export const MAX_VLAN = 4094;

/** Rows per INSERT when writing a network's fixed IPs: a /16 is 66 statements, not one huge one. */
const FIXED_IP_CHUNK = 1000;

async function liveNetworks(db: Reader) {
  return db
    .select({ uuid: novaNetworks.uuid, cidr: novaNetworks.cidr, vlan: novaNetworks.vlan })
    .from(novaNetworks)
    .where(eq(novaNetworks.deleted, 0));
}

function chooseVlan(input: LegacyNetworkCreate, used: ReadonlySet<number>): number | null {
  if (input.vlan !== undefined) {
    if (used.has(input.vlan)) throw new Conflict(`VLAN ${input.vlan} is already used by another network.`);
    return input.vlan;
  }
  if (input.vlan_start === undefined) return null;
  for (let vlan = input.vlan_start; vlan <= MAX_VLAN; vlan += 1) if (!used.has(vlan)) return vlan;
  throw new Conflict(`No VLAN is free from ${input.vlan_start} to ${MAX_VLAN}.`);
}

/**
 * Creates one network sized to its CIDR, with a fixed_ips row for every address (the network
 * address, gateway, broadcast and, on VLAN networks, the VPN address reserved), in one transaction.
 * 409 when the CIDR overlaps a live network or the VLAN is taken (checked first for the message, and
 * by the unique keys on addresses and VLANs against a concurrent create).
 */
export async function createLegacyNetwork(
  db: PrimaryDb,
  input: LegacyNetworkCreate,
): Promise<LegacyNetworkRow> {
  if (input.vlan !== undefined && input.vlan_start !== undefined)
    throw new BadRequest("Invalid input: give either 'vlan' or 'vlan_start', not both");
  const existing = await liveNetworks(db);
  const vlan = chooseVlan(input, new Set(existing.flatMap((network) => network.vlan ?? [])));
  if (vlan === null && input.vpn_start !== undefined)
    throw new BadRequest("Invalid input for field 'vpn_start': only VLAN networks have a cloudpipe VPN");
  const v4 = planIpv4(input.cidr, { gateway: input.gateway, vlan: vlan !== null });
  const v6 = input.cidr_v6 === undefined ? undefined : planIpv6(input.cidr_v6, input.gateway_v6);
  if (input.cidr_v6 === undefined && input.gateway_v6 !== undefined)
    throw new BadRequest("Invalid input for field 'gateway_v6': a gateway_v6 needs a cidr_v6");
  const range = parseCidr(v4.cidr);
  const overlapping = existing.find((network) => {
    const other = network.cidr ? parseCidr(network.cidr) : undefined;
    return range && other && cidrsOverlap(range, other);
  });
  if (overlapping)
    throw new Conflict(`cidr ${v4.cidr} overlaps network ${overlapping.uuid} (${overlapping.cidr}).`);

  const now = new Date();
  const row = {
    uuid: crypto.randomUUID(),
    label: input.label,
    cidr: v4.cidr,
    netmask: v4.netmask,
    gateway: v4.gateway,
    broadcast: v4.broadcast,
    dhcp_start: v4.dhcp_start,
    cidr_v6: v6?.cidr_v6 ?? null,
    netmask_v6: v6?.netmask_v6 ?? null,
    gateway_v6: v6?.gateway_v6 ?? null,
    dns1: input.dns1 ?? DEFAULT_DNS1,
    dns2: input.dns2 ?? null,
    bridge: input.bridge ?? defaultBridge(vlan),
    bridge_interface: input.bridge_interface ?? null,
    vlan,
    multi_host: input.multi_host ?? false,
    vpn_private_address: v4.vpn_private_address,
    vpn_public_port: input.vpn_start ?? null,
    project_id: input.project_id ?? null,
    priority: input.priority ?? null,
    rxtx_base: input.rxtx_base ?? null,
    created_at: now,
  };
  try {
    return await db.transaction(async (tx) => {
      const [inserted] = await tx.insert(novaNetworks).values(row).$returningId();
      const networkId = inserted?.id ?? 0;
      for (let start = 0; start < v4.addresses.length; start += FIXED_IP_CHUNK) {
        await tx.insert(fixedIps).values(
          v4.addresses.slice(start, start + FIXED_IP_CHUNK).map((address) => ({
            network_id: networkId,
            address: address.address,
            reserved: address.reserved,
            created_at: now,
          })),
        );
      }
      return loadLegacyNetworkRow(tx, row.uuid);
    });
  } catch (error) {
    if (!isDuplicateKey(error)) throw error;
    throw new Conflict(
      `A concurrent create took part of cidr ${v4.cidr}${vlan === null ? '' : ` or VLAN ${vlan}`}.`,
    );
  }
}

export async function findLegacyNetworkRow(db: Reader, uuid: string): Promise<LegacyNetworkRow | undefined> {
  const [network] = await db
    .select()
    .from(novaNetworks)
    .where(and(eq(novaNetworks.uuid, uuid), eq(novaNetworks.deleted, 0)));
  return network;
}

export async function loadLegacyNetworkRow(db: Reader, uuid: string): Promise<LegacyNetworkRow> {
  const network = await findLegacyNetworkRow(db, uuid);
  if (!network) throw new NotFound(`Network ${uuid} could not be found.`);
  return network;
}

export async function listLegacyNetworks(db: Reader, condition?: SQL): Promise<LegacyNetworkRow[]> {
  return db
    .select()
    .from(novaNetworks)
    .where(and(eq(novaNetworks.deleted, 0), condition))
    .orderBy(asc(novaNetworks.id));
}

/**
 * Deletes a network and its fixed IPs. 409 while it is associated with a project (disassociate it
 * first, as Havana required) or while a server holds one of its addresses. One transaction: the free
 * fixed IPs are deleted first, so an allocation racing the delete either took its address before
 * (and the delete finds it and rolls back) or finds none left.
 */
export async function deleteLegacyNetwork(db: PrimaryDb, uuid: string): Promise<void> {
  await retryTransient(() =>
    db.transaction(async (tx) => {
      const network = await loadLegacyNetworkRow(tx, uuid);
      if (network.project_id !== null) {
        throw new Conflict(
          `Network ${uuid} must be disassociated from project ${network.project_id} before delete.`,
        );
      }
      const now = new Date();
      await tx
        .update(fixedIps)
        .set({ deleted: sql`${fixedIps.id}`, deleted_at: now, updated_at: now })
        .where(
          and(eq(fixedIps.network_id, network.id), isNull(fixedIps.instance_uuid), eq(fixedIps.deleted, 0)),
        );
      const [inUse] = await tx
        .select({ count: count() })
        .from(fixedIps)
        .where(
          and(
            eq(fixedIps.network_id, network.id),
            isNotNull(fixedIps.instance_uuid),
            eq(fixedIps.deleted, 0),
          ),
        );
      if ((inUse?.count ?? 0) > 0) throw new Conflict(`Network ${uuid} is still in use by servers.`);
      const deleted = await tx
        .update(novaNetworks)
        .set({ deleted: sql`${novaNetworks.id}`, deleted_at: now, updated_at: now })
        .where(
          and(eq(novaNetworks.id, network.id), eq(novaNetworks.deleted, 0), isNull(novaNetworks.project_id)),
        );
      if (deleted.rowsAffected === 0)
        throw new Conflict(`Network ${uuid} changed while it was being deleted.`);
    }),
  );
}

/** What an association action changes: the network's host, its project, or both (null drops it). */
export interface NetworkAssociation {
  host?: string | null;
  project_id?: string | null;
}

/** Sets or drops a network's host and project (os-networks' disassociate, os-networks-associate). */
export async function associateLegacyNetwork(
  db: PrimaryDb,
  uuid: string,
  association: NetworkAssociation,
): Promise<void> {
  const network = await loadLegacyNetworkRow(db, uuid);
  await db
    .update(novaNetworks)
    .set({ ...association, updated_at: new Date() })
    .where(and(eq(novaNetworks.id, network.id), eq(novaNetworks.deleted, 0)));
}

/**
 * Gives the project a VLAN network (POST os-networks/add): the one named, or else any unassigned
 * one. Only VLAN networks are handed to projects: 501 for a flat network or when there are none, as
 * Havana answered without VlanManager; 400 when no unassigned one is left, 409 when the one named is
 * another project's.
 */
export async function addLegacyNetworkToProject(
  db: PrimaryDb,
  projectId: string,
  uuid: string | null,
): Promise<void> {
  const vlanOnly = 'VLAN support must be enabled';
  if (uuid !== null) {
    const network = await loadLegacyNetworkRow(db, uuid);
    if (network.vlan === null) throw new NotImplemented(`${vlanOnly}: network ${uuid} is a flat network.`);
    // Havana forced the network over from whichever project had it; a project's servers on it would
    // then be on another project's network, so here it must be unassigned (or the caller's already).
    const taken = await db
      .update(novaNetworks)
      .set({ project_id: projectId, updated_at: new Date() })
      .where(
        and(
          eq(novaNetworks.id, network.id),
          eq(novaNetworks.deleted, 0),
          or(isNull(novaNetworks.project_id), eq(novaNetworks.project_id, projectId)),
        ),
      );
    if (taken.rowsAffected === 0)
      throw new Conflict(`Network ${uuid} belongs to another project: disassociate it first.`);
    return;
  }
  const unassigned = and(
    isNotNull(novaNetworks.vlan),
    isNull(novaNetworks.project_id),
    eq(novaNetworks.deleted, 0),
  );
  const taken = await db
    .update(novaNetworks)
    .set({ project_id: projectId, updated_at: new Date() })
    .where(unassigned)
    .orderBy(asc(novaNetworks.id))
    .limit(1);
  if (taken.rowsAffected > 0) return;
  const [vlans] = await db
    .select({ count: count() })
    .from(novaNetworks)
    .where(and(isNotNull(novaNetworks.vlan), eq(novaNetworks.deleted, 0)));
  if ((vlans?.count ?? 0) === 0) throw new NotImplemented(`${vlanOnly}: there are no VLAN networks.`);
  throw new BadRequest(
    `Cannot associate a network with project ${projectId}: no unassigned VLAN network is left.`,
  );
}
