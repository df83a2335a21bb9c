import { and, asc, eq, inArray, isNull, sql } from 'drizzle-orm';
import type { PrimaryDb, PrimaryWriter } from '../../../schema/db.ts';
import type { NetworkInfo } from '../../../schema/objects/network-info.ts';
import { fixedIps, floatingIps, virtualInterfaces } from '../../../schema/tables/index.ts';
import { duplicateKeyMessage, isDuplicateKey } from '../../shared/errors.ts';
import { cidrContains, formatIp, parseCidr, parseIp } from '../ip-math.ts';
import { randomMac } from '../mac.ts';
import { ClaimLost, retryTransient } from '../transient.ts';
import { FixedIpAlreadyInUse, InvalidLegacyNetworkRequest, NoMoreFixedIps } from './errors.ts';
import { refreshLegacyNetworkInfo } from './network-info.ts';
import {
  ensureProjectVlanNetworks,
  isVlanNetwork,
  type LegacyNetworkRow,
  usableNetworks,
} from './project-networks.ts';

// A server's addresses under nova-network: one virtual interface per network (with a MAC of its own)
// and one fixed IP on each, taken from the rows pre-created for every address of the network. The
// whole allocation is one transaction (all of a server's VIFs and addresses, and its network cache,
// or none), run again when it loses to a concurrent one.

export interface LegacyInstance {
  uuid: string;
  project_id: string;
  host: string | null;
}

export interface LegacyNetworkRequest {
  network_id?: string;
  fixed_ip?: string;
}

interface Target {
  network: LegacyNetworkRow;
  /** Canonical text of the address asked for. */
  fixedIp?: string;
}

type VifRow = typeof virtualInterfaces.$inferSelect;

function requestedAddress(text: string, network: LegacyNetworkRow): string {
  const address = parseIp(text);
  const cidr = network.cidr ? parseCidr(network.cidr) : undefined;
  if (!address || !cidr || !cidrContains(cidr, address)) {
    throw new InvalidLegacyNetworkRequest(
      `Fixed IP address ${text} is not a valid address of network ${network.uuid} (${network.cidr}).`,
    );
  }
  return formatIp(address);
}

/** The networks a request names, each the project may use, none twice. */
async function requestedTargets(
  tx: PrimaryWriter,
  projectId: string,
  requested: readonly LegacyNetworkRequest[],
): Promise<Target[]> {
  const usable = await usableNetworks(tx, projectId);
  const targets: Target[] = [];
  for (const request of requested) {
    const network = request.network_id
      ? usable.find((candidate) => candidate.uuid === request.network_id)
      : usable.find((candidate) => {
          const address = request.fixed_ip ? parseIp(request.fixed_ip) : undefined;
          const cidr = candidate.cidr ? parseCidr(candidate.cidr) : undefined;
          return address && cidr && cidrContains(cidr, address);
        });
    if (!network) {
      throw new InvalidLegacyNetworkRequest(
        request.network_id
          ? `Network ${request.network_id} could not be found.`
          : `No network of the project contains fixed IP address ${request.fixed_ip ?? '(none given)'}.`,
      );
    }
    if (targets.some((target) => target.network.id === network.id))
      throw new InvalidLegacyNetworkRequest(`Duplicate networks (${network.uuid}) are not allowed.`);
    targets.push({
      network,
      ...(request.fixed_ip === undefined ? {} : { fixedIp: requestedAddress(request.fixed_ip, network) }),
    });
  }
  return targets;
}

/**
 * No request: every network the project may use, its VLAN network associated on its first boot. The
 * VLAN networks are the ones the locking read found (a plain read would see the transaction's
 * snapshot, from before a concurrent first boot associated one).
 */
async function defaultTargets(tx: PrimaryWriter, projectId: string): Promise<Target[]> {
  const vlanNetworks = await ensureProjectVlanNetworks(tx, projectId);
  const flatNetworks = (await usableNetworks(tx, projectId)).filter((network) => !isVlanNetwork(network));
  return [...flatNetworks, ...vlanNetworks].sort((a, b) => a.id - b.id).map((network) => ({ network }));
}

async function createVif(tx: PrimaryWriter, instanceUuid: string, networkId: number): Promise<VifRow> {
  const now = new Date();
  const row = {
    uuid: crypto.randomUUID(),
    address: randomMac(),
    network_id: networkId,
    instance_uuid: instanceUuid,
    created_at: now,
  };
  try {
    const [inserted] = await tx.insert(virtualInterfaces).values(row).$returningId();
    return { ...row, id: inserted?.id ?? 0, updated_at: null, deleted_at: null, deleted: 0 };
  } catch (error) {
    if (!isDuplicateKey(error)) throw error;
    // A MAC drawn twice, or this server's VIF on the network inserted by a concurrent retry of the
    // same step: either way, the next attempt reads afresh (and finds that VIF, or draws a new MAC).
    throw new ClaimLost(duplicateKeyMessage(error as Error));
  }
}

/**
 * Gives the VIF a fixed IP of its network: the one asked for if it is free and not reserved, else
 * any free one. A single conditional UPDATE takes the row (never read-then-write), and the row taken
 * is the one now carrying this VIF.
 */
async function takeFixedIp(
  tx: PrimaryWriter,
  instance: LegacyInstance,
  vif: VifRow,
  target: Target,
): Promise<void> {
  const free = and(
    eq(fixedIps.network_id, target.network.id),
    isNull(fixedIps.instance_uuid),
    eq(fixedIps.reserved, false),
    eq(fixedIps.deleted, 0),
  );
  const claim = {
    instance_uuid: instance.uuid,
    virtual_interface_id: vif.id,
    allocated: true,
    host: instance.host,
    updated_at: new Date(),
  };
  if (target.fixedIp !== undefined) {
    const taken = await tx
      .update(fixedIps)
      .set(claim)
      .where(and(free, eq(fixedIps.address, target.fixedIp)));
    if (taken.rowsAffected === 0) throw new FixedIpAlreadyInUse(target.fixedIp, target.network.uuid);
    return;
  }
  const taken = await tx.update(fixedIps).set(claim).where(free).orderBy(asc(fixedIps.id)).limit(1);
  if (taken.rowsAffected === 0) throw new NoMoreFixedIps(target.network.uuid);
}

/**
 * Allocates the server's VIFs and fixed IPs: on the networks requested, or (none requested) on every
 * network the project may use. Idempotent per server: a VIF it already has on a network is kept with
 * its address, and a retried allocation with no request returns what the first one made. Fails whole
 * with NoMoreFixedIps (a network is full), FixedIpAlreadyInUse (a requested address is taken or
 * reserved) or InvalidLegacyNetworkRequest (a network the project cannot use, an address outside it).
 */
export async function allocateLegacyNetworks(
  db: PrimaryDb,
  instance: LegacyInstance,
  requested: readonly LegacyNetworkRequest[],
): Promise<NetworkInfo> {
  return retryTransient(() =>
    db.transaction(async (tx) => {
      const existing = await tx
        .select()
        .from(virtualInterfaces)
        .where(and(eq(virtualInterfaces.instance_uuid, instance.uuid), eq(virtualInterfaces.deleted, 0)));
      if (requested.length === 0 && existing.length > 0) return refreshLegacyNetworkInfo(tx, instance.uuid);
      const targets =
        requested.length > 0
          ? await requestedTargets(tx, instance.project_id, requested)
          : await defaultTargets(tx, instance.project_id);
      for (const target of targets) {
        const kept = existing.find((vif) => vif.network_id === target.network.id);
        if (kept) continue;
        const vif = await createVif(tx, instance.uuid, target.network.id);
        await takeFixedIp(tx, instance, vif, target);
      }
      return refreshLegacyNetworkInfo(tx, instance.uuid);
    }),
  );
}

/**
 * Releases everything nova-network gave the server: floating IPs leave its fixed IPs (they stay
 * allocated to the project), the fixed IPs go back to their networks, the VIFs are deleted, and the
 * cache says it has no nova-network interface. Idempotent: a second call finds nothing to release and
 * writes nothing.
 */
export async function deallocateLegacyNetworks(db: PrimaryDb, instanceUuid: string): Promise<void> {
  await retryTransient(() =>
    db.transaction(async (tx) => {
      const now = new Date();
      const held = await tx
        .select({ id: fixedIps.id })
        .from(fixedIps)
        .where(and(eq(fixedIps.instance_uuid, instanceUuid), eq(fixedIps.deleted, 0)))
        .for('update');
      if (held.length > 0) {
        await tx
          .update(floatingIps)
          .set({ fixed_ip_id: null, host: null, updated_at: now })
          .where(
            and(
              inArray(
                floatingIps.fixed_ip_id,
                held.map((ip) => ip.id),
              ),
              eq(floatingIps.deleted, 0),
            ),
          );
        await tx
          .update(fixedIps)
          .set({
            instance_uuid: null,
            virtual_interface_id: null,
            allocated: false,
            leased: false,
            host: null,
            updated_at: now,
          })
          .where(and(eq(fixedIps.instance_uuid, instanceUuid), eq(fixedIps.deleted, 0)));
      }
      const vifs = await tx
        .update(virtualInterfaces)
        .set({ deleted: sql`${virtualInterfaces.id}`, deleted_at: now, updated_at: now })
        .where(and(eq(virtualInterfaces.instance_uuid, instanceUuid), eq(virtualInterfaces.deleted, 0)));
      // Only a server nova-network served has a cache of its to rewrite: one the networking service
      // serves keeps its own.
      if (held.length > 0 || vifs.rowsAffected > 0) await refreshLegacyNetworkInfo(tx, instanceUuid);
    }),
  );
}

/** Records the server's new host on its fixed IPs and the floating IPs on them (a move). */
export async function bindLegacyNetworks(db: PrimaryDb, instanceUuid: string, host: string): Promise<void> {
  await retryTransient(() =>
    db.transaction(async (tx) => {
      const now = new Date();
      await tx
        .update(fixedIps)
        .set({ host, updated_at: now })
        .where(and(eq(fixedIps.instance_uuid, instanceUuid), eq(fixedIps.deleted, 0)));
      const held = await tx
        .select({ id: fixedIps.id })
        .from(fixedIps)
        .where(and(eq(fixedIps.instance_uuid, instanceUuid), eq(fixedIps.deleted, 0)));
      if (held.length === 0) return;
      await tx
        .update(floatingIps)
        .set({ host, updated_at: now })
        .where(
          and(
            inArray(
              floatingIps.fixed_ip_id,
              held.map((ip) => ip.id),
            ),
            eq(floatingIps.deleted, 0),
          ),
        );
    }),
  );
}
