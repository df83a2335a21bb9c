import { and, eq, inArray, like, or, sql } from 'drizzle-orm';
import * as v from 'valibot';
import type { PrimaryDb } from '../../schema/db.ts';
import type { NetworkInfo } from '../../schema/objects/network-info.ts';
import {
  instanceVifTags,
  neutronFloatingIps,
  neutronNetworks,
  neutronPorts,
} from '../../schema/tables/index.ts';
import { Conflict } from '../shared/errors.ts';
import { deleteNetworkInfo, loadNetworkInfo, saveNetworkInfo } from './instance-cache.ts';
import { type NetworkApiMode, networkApiMode } from './mode.ts';
import {
  buildNeutronNetworkInfo,
  COMPUTE_OWNER_PREFIX,
  instancePortRows,
  refreshInstanceNetworkCache,
} from './neutron-network-info.ts';
import {
  allocateLegacyNetworks,
  bindLegacyNetworks,
  deallocateLegacyNetworks,
} from './nova-network/allocation.ts';
import { buildLegacyNetworkInfo } from './nova-network/network-info.ts';
import { createPort, deletePort, loadPorts, type PortView, updatePortBinding } from './ports.ts';

// What the conductor asks of the network for a server — allocate at boot, bind on a move, release at
// delete or after a failed boot — whichever network API serves it. The server's cache says which one
// does: a nova-network VIF names its Linux bridge, a port of the networking service none.

/** One entry of a boot request's `networks`, as the API checked it. */
export const RequestedNetwork = v.object({
  network_id: v.optional(v.string()),
  port_id: v.optional(v.string()),
  fixed_ip: v.optional(v.string()),
  tag: v.optional(v.string()),
});
export type RequestedNetwork = v.InferOutput<typeof RequestedNetwork>;

/**
 * What a boot asked for: listed networks and ports, `auto` (every network the project can use; also
 * what an empty list or no `networks` at all means) or `none`.
 */
export const RequestedNetworks = v.union([v.array(RequestedNetwork), v.picklist(['auto', 'none'])]);
export type RequestedNetworks = v.InferOutput<typeof RequestedNetworks>;

export interface InstanceForNetworks {
  uuid: string;
  project_id: string;
  availability_zone: string | null;
}

export interface AllocatedNetworks {
  network_api: NetworkApiMode;
  network_info: NetworkInfo;
}

/** `compute:<zone>`: the device_owner Nova gives its ports. */
export function computeOwner(zone: string | null): string {
  return `${COMPUTE_OWNER_PREFIX}${zone ?? 'nova'}`;
}

/** The network API that serves a server, as its cache shows it; null when it has no interface. */
export function cachedNetworkApi(info: NetworkInfo): NetworkApiMode | null {
  if (info.length === 0) return null;
  return info.some((vif) => vif.network.bridge !== null) ? 'nova-network' : 'neutron';
}

/**
 * The networks a server of the project may get a port on without naming one: the project's own and
 * the shared ones, external networks excepted, oldest first. A boot or an attach that names none uses
 * the only one; with several, Nova refuses to guess (NetworkAmbiguous), and so does the API here.
 */
export async function usableNetworkIds(db: Pick<PrimaryDb, 'select'>, projectId: string): Promise<string[]> {
  const usable = await db
    .select({ uuid: neutronNetworks.uuid })
    .from(neutronNetworks)
    .where(
      and(
        or(eq(neutronNetworks.project_id, projectId), eq(neutronNetworks.shared, true)),
        eq(neutronNetworks.router_external, false),
      ),
    )
    .orderBy(neutronNetworks.id);
  return usable.map((network) => network.uuid);
}

export const NETWORK_AMBIGUOUS = 'Multiple possible networks found, use a Network ID to be more specific.';

function portIdsOf(requested: RequestedNetworks): string[] {
  return Array.isArray(requested) ? requested.flatMap((item) => (item.port_id ? [item.port_id] : [])) : [];
}

/**
 * Binds a user's port to the server: a conditional UPDATE that takes the port only while no other
 * device owns it, so two boots naming one port cannot both have it.
 */
export async function bindUserPort(
  db: PrimaryDb,
  portUuid: string,
  instance: InstanceForNetworks,
  host: string,
): Promise<void> {
  const result = await db
    .update(neutronPorts)
    .set({
      device_id: instance.uuid,
      device_owner: computeOwner(instance.availability_zone),
      binding_host_id: host,
      binding_vif_type: 'bridge',
      updated_at: new Date(),
      revision_number: sql`${neutronPorts.revision_number} + 1`,
    })
    .where(
      and(
        eq(neutronPorts.uuid, portUuid),
        inArray(neutronPorts.device_id, ['', instance.uuid]),
        eq(neutronPorts.project_id, instance.project_id),
      ),
    );
  if (result.rowsAffected !== 1) throw new Conflict(`Port ${portUuid} is still in use.`);
}

/**
 * Neutron: binds the ports the boot names to `host` and creates one for each network it names (or
 * each the project can use). Run again (a retried step, a re-run workflow) it finds the ports it made
 * the first time, by network and address, and makes no other.
 */
async function allocateNeutron(
  db: PrimaryDb,
  instance: InstanceForNetworks,
  requested: RequestedNetworks,
  host: string,
): Promise<NetworkInfo> {
  if (requested === 'none') return [];
  const items: RequestedNetwork[] =
    requested === 'auto' || requested.length === 0
      ? (await usableNetworkIds(db, instance.project_id)).slice(0, 1).map((network_id) => ({ network_id }))
      : requested;
  const userPorts = portIdsOf(requested);
  const existing = (await loadPorts(db, { device_id: instance.uuid })).filter(
    (port) => !userPorts.includes(port.id),
  );
  const reused = new Set<string>();
  for (const item of items) {
    const portId = await allocateItem(db, instance, item, host, existing, reused);
    if (item.tag !== undefined) await saveVifTag(db, instance.uuid, portId, item.tag);
  }
  return buildNeutronNetworkInfo(db, instance.uuid, { preserved: userPorts });
}

/** The port one requested item gets: the user's bound, one made earlier by this boot, or a new one. */
async function allocateItem(
  db: PrimaryDb,
  instance: InstanceForNetworks,
  item: RequestedNetwork,
  host: string,
  existing: readonly PortView[],
  reused: Set<string>,
): Promise<string> {
  if (item.port_id) {
    await bindUserPort(db, item.port_id, instance, host);
    return item.port_id;
  }
  const networkId = item.network_id ?? '';
  const made = existing.find(
    (port) =>
      port.network_id === networkId &&
      !reused.has(port.id) &&
      (!item.fixed_ip || port.fixed_ips.some((fixed) => fixed.ip_address === item.fixed_ip)),
  );
  if (made) {
    reused.add(made.id);
    if (made['binding:host_id'] !== host) await updatePortBinding(db, made.id, { binding_host_id: host });
    return made.id;
  }
  const created = await createPort(db, {
    network_uuid: networkId,
    project_id: instance.project_id,
    device_id: instance.uuid,
    device_owner: computeOwner(instance.availability_zone),
    binding_host_id: host,
    ...(item.fixed_ip ? { fixed_ips: [{ ip_address: item.fixed_ip }] } : {}),
  });
  return created.id;
}

/** Keeps the tag a request gave an interface (a retried allocation writes the same row again). */
export async function saveVifTag(db: PrimaryDb, instanceUuid: string, vifId: string, tag: string) {
  await db
    .insert(instanceVifTags)
    .values({ instance_uuid: instanceUuid, vif_id: vifId, tag, created_at: new Date() })
    .onDuplicateKeyUpdate({ set: { tag } });
}

/** The tags of a server's interfaces, by VIF (port) id. */
export async function loadVifTags(db: Pick<PrimaryDb, 'select'>, instanceUuid: string) {
  const rows = await db
    .select({ vif_id: instanceVifTags.vif_id, tag: instanceVifTags.tag })
    .from(instanceVifTags)
    .where(eq(instanceVifTags.instance_uuid, instanceUuid));
  return new Map(rows.map((row) => [row.vif_id, row.tag]));
}

/**
 * Gives a booting server its networks on `host`, from the network API the deployment runs now, and
 * writes its cache. Safe to run again for the same boot.
 */
export async function allocateInstanceNetworks(
  db: PrimaryDb,
  config: { NETWORK_API: NetworkApiMode },
  instance: InstanceForNetworks,
  requested: RequestedNetworks,
  host: string,
): Promise<AllocatedNetworks> {
  const mode = await networkApiMode(db, config);
  let info: NetworkInfo;
  if (mode === 'neutron') {
    info = await allocateNeutron(db, instance, requested, host);
  } else {
    const legacyRequest =
      requested === 'none'
        ? null
        : Array.isArray(requested)
          ? requested.map((item) => ({
              ...(item.network_id ? { network_id: item.network_id } : {}),
              ...(item.fixed_ip ? { fixed_ip: item.fixed_ip } : {}),
            }))
          : [];
    info =
      legacyRequest === null
        ? []
        : await allocateLegacyNetworks(
            db,
            { uuid: instance.uuid, project_id: instance.project_id, host },
            legacyRequest,
          );
  }
  await saveNetworkInfo(db, instance.uuid, info);
  return { network_api: mode, network_info: info };
}

/** Clears a port the user made off the server: kept, unbound, its floating IPs taken off it. */
async function releaseUserPort(db: PrimaryDb, portUuid: string): Promise<void> {
  await db
    .update(neutronFloatingIps)
    .set({
      fixed_port_uuid: null,
      fixed_ip_address: null,
      router_uuid: null,
      status: 'DOWN',
      updated_at: new Date(),
    })
    .where(eq(neutronFloatingIps.fixed_port_uuid, portUuid));
  await updatePortBinding(db, portUuid, { device_id: '', device_owner: '', binding_host_id: '' });
}

/**
 * Releases the server's ports: deletes those it made, unbinds (and keeps) those the user made. A port
 * is the user's when `userPorts` names it, or the cache marks it so; one neither knows about was left
 * by a step that stopped half-way, and is unbound rather than deleted, as losing a user's port would be
 * worse than leaving one behind.
 */
async function releaseNeutronPorts(
  db: PrimaryDb,
  instanceUuid: string,
  madeByServer: ReadonlySet<string>,
): Promise<void> {
  for (const port of await instancePortRows(db, instanceUuid)) {
    if (madeByServer.has(port.uuid)) await deletePort(db, port.uuid);
    else await releaseUserPort(db, port.uuid);
  }
}

/**
 * Takes one port off a server (a detached interface, an attach undone): deleted when the server made
 * it, unbound and kept when it is the user's. `userPort` says which when the caller knows; otherwise
 * the cache does, and a port it does not know is kept.
 */
export async function releaseInstancePort(
  db: PrimaryDb,
  instanceUuid: string,
  portUuid: string,
  userPort?: boolean,
): Promise<void> {
  const [port] = (await instancePortRows(db, instanceUuid)).filter((row) => row.uuid === portUuid);
  if (!port) return;
  const cached = (await loadNetworkInfo(db, instanceUuid)).find((vif) => vif.id === portUuid);
  const keep = userPort ?? cached?.preserve_on_delete ?? true;
  if (keep) await releaseUserPort(db, portUuid);
  else await deletePort(db, portUuid);
  await db
    .delete(instanceVifTags)
    .where(and(eq(instanceVifTags.instance_uuid, instanceUuid), eq(instanceVifTags.vif_id, portUuid)));
}

/**
 * Releases everything a server holds from either network API (its ports, its nova-network fixed IPs
 * and VIFs) and drops its cache. Idempotent, in any state of the server, whatever API serves it.
 */
export async function deallocateInstanceNetworks(db: PrimaryDb, instanceUuid: string): Promise<void> {
  const cached = await loadNetworkInfo(db, instanceUuid);
  const madeByServer = new Set(cached.filter((vif) => !vif.preserve_on_delete).map((vif) => vif.id));
  await releaseNeutronPorts(db, instanceUuid, madeByServer);
  await deallocateLegacyNetworks(db, instanceUuid);
  await db.delete(instanceVifTags).where(eq(instanceVifTags.instance_uuid, instanceUuid));
  await deleteNetworkInfo(db, instanceUuid);
}

/**
 * Undoes a boot that failed: the ports it made are deleted and those the request named are unbound,
 * whether or not the boot got as far as writing the cache, then everything else is released.
 */
export async function releaseBootNetworks(
  db: PrimaryDb,
  instanceUuid: string,
  requested: RequestedNetworks,
): Promise<void> {
  const userPorts = new Set(portIdsOf(requested));
  const ports = await instancePortRows(db, instanceUuid);
  await releaseNeutronPorts(
    db,
    instanceUuid,
    new Set(ports.filter((port) => !userPorts.has(port.uuid)).map((port) => port.uuid)),
  );
  await deallocateInstanceNetworks(db, instanceUuid);
}

/** Rewrites the server's cache from the network API that serves it (see cachedNetworkApi). */
export async function refreshInstanceNetworks(
  db: PrimaryDb,
  config: { NETWORK_API: NetworkApiMode },
  instanceUuid: string,
): Promise<NetworkInfo> {
  const cached = await loadNetworkInfo(db, instanceUuid);
  const api = cachedNetworkApi(cached) ?? (await networkApiMode(db, config));
  if (api === 'neutron') return refreshInstanceNetworkCache(db, instanceUuid);
  const info = await buildLegacyNetworkInfo(db, instanceUuid);
  await saveNetworkInfo(db, instanceUuid, info);
  return info;
}

/**
 * A move: the server's ports are bound to `host` (and owned from its zone), its nova-network fixed
 * IPs served from it; then its cache is rewritten, so the commands to `host` carry it.
 */
export async function bindInstanceNetworks(
  db: PrimaryDb,
  config: { NETWORK_API: NetworkApiMode },
  instance: InstanceForNetworks,
  host: string,
): Promise<NetworkInfo> {
  for (const port of await instancePortRows(db, instance.uuid)) {
    const owner = computeOwner(instance.availability_zone);
    if (port.binding_host_id === host && port.device_owner === owner) continue;
    await updatePortBinding(db, port.uuid, { binding_host_id: host, device_owner: owner });
  }
  await bindLegacyNetworks(db, instance.uuid, host);
  return refreshInstanceNetworks(db, config, instance.uuid);
}

/** The host plugged the server's ports: they are ACTIVE now, and its cache says so. */
export async function activateInstancePorts(db: PrimaryDb, instanceUuid: string): Promise<void> {
  const result = await db
    .update(neutronPorts)
    .set({
      status: 'ACTIVE',
      updated_at: new Date(),
      revision_number: sql`${neutronPorts.revision_number} + 1`,
    })
    .where(
      and(
        eq(neutronPorts.device_id, instanceUuid),
        like(neutronPorts.device_owner, `${COMPUTE_OWNER_PREFIX}%`),
        eq(neutronPorts.status, 'DOWN'),
      ),
    );
  if (result.rowsAffected > 0) await refreshInstanceNetworkCache(db, instanceUuid);
}
