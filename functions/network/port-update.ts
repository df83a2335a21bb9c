import { and, asc, eq, inArray, sql } from 'drizzle-orm';
import type { PrimaryDb } from '../../schema/db.ts';
import {
  neutronIpAllocations,
  neutronPortSecurityGroups,
  neutronPorts,
  neutronSecurityGroups,
  neutronSubnets,
} from '../../schema/tables/index.ts';
import { isDuplicateKey } from '../shared/errors.ts';
import {
  invalidInput,
  ipAddressGenerationFailure,
  ipAddressInUse,
  macAddressInUse,
  NetworkError,
  portNotFound,
  securityGroupNotFound,
} from './errors.ts';
import { type AddressRequest, proposeAddresses } from './ipam.ts';
import { canonicalMac } from './mac.ts';
import {
  addressRequests,
  CLAIM_ATTEMPTS,
  checkClaimsAgainst,
  checkSecurityGroups,
  type FixedIpRequest,
  loadPort,
  lockNetworkForClaims,
  type PortRow,
  type PortView,
} from './ports.ts';
import { selectInShareMode } from './share-lock.ts';
import { ClaimLost, isDeadlockOrLockTimeout } from './transient.ts';

// Changing a port (PUT /ports/{id}): its attributes, security groups and fixed IPs in one
// transaction. New fixed IPs are claimed as a create claims them (unique key, proposals from a fresh
// read, proposed again when lost); the addresses it gives up are freed in the same transaction; the
// port row is locked and its revision checked, so two concurrent changes never mix.

export interface PortUpdate {
  name?: string;
  description?: string;
  admin_state_up?: boolean;
  device_id?: string;
  device_owner?: string;
  binding_host_id?: string;
  binding_vnic_type?: string;
  binding_profile?: Record<string, unknown>;
  mac_address?: string;
  /** The port's whole list: addresses listed that it holds are kept, the others it holds are freed. */
  fixed_ips?: FixedIpRequest[];
  security_groups?: string[];
  allowed_address_pairs?: Array<{ ip_address: string; mac_address?: string }>;
  port_security_enabled?: boolean;
}

/** The port changed between our read and our lock: plan again from what it is now. */
class PortChanged extends Error {
  override readonly name = 'PortChanged';
}

interface FixedIpPlan {
  keep: Array<{ subnet_uuid: string; ip_address: string }>;
  free: Array<{ subnet_uuid: string; ip_address: string }>;
  claim: AddressRequest[];
}

/** What a new fixed_ips list keeps, frees and claims, against the addresses the port holds. */
function planFixedIps(
  port: PortRow,
  held: ReadonlyArray<{ subnet_uuid: string; ip_address: string }>,
  subnets: Parameters<typeof addressRequests>[1],
  requested: readonly FixedIpRequest[],
  deviceOwner: string,
): FixedIpPlan {
  const requests = addressRequests(port.network_uuid, subnets, requested, deviceOwner);
  const holds = (request: AddressRequest) =>
    held.some(
      (allocation) =>
        allocation.subnet_uuid === request.subnet.uuid && allocation.ip_address === request.address,
    );
  const keep = requests
    .filter((request) => request.address !== undefined && holds(request))
    .map((request) => ({ subnet_uuid: request.subnet.uuid, ip_address: request.address as string }));
  return {
    keep,
    free: held.filter(
      (allocation) =>
        !keep.some(
          (kept) => kept.subnet_uuid === allocation.subnet_uuid && kept.ip_address === allocation.ip_address,
        ),
    ),
    claim: requests.filter((request) => request.address === undefined || !holds(request)),
  };
}

function checkPortSecurity(enabled: boolean, groups: readonly string[], givenGroups: boolean, pairs: number) {
  if (enabled) return;
  if (groups.length > 0) {
    if (givenGroups) {
      throw new NetworkError(
        409,
        'PortSecurityAndIPRequiredForSecurityGroups',
        'Port security must be enabled and port must have an IP address in order to use security groups.',
      );
    }
    throw new NetworkError(
      409,
      'PortSecurityPortHasSecurityGroup',
      'Port has security group associated. Cannot disable port security or ip address until security group is removed',
    );
  }
  if (pairs > 0) {
    throw new NetworkError(
      409,
      'AddressPairAndPortSecurityRequired',
      'Port Security must be enabled in order to have allowed address pairs on a port.',
    );
  }
}

/** Changes a port; the view afterwards. */
export async function updatePort(db: PrimaryDb, portUuid: string, update: PortUpdate): Promise<PortView> {
  const givenMac = update.mac_address === undefined ? undefined : canonicalMac(update.mac_address);
  if (update.mac_address !== undefined && !givenMac) {
    throw invalidInput(`'${update.mac_address}' is not a valid MAC address`);
  }
  for (let attempt = 1; ; attempt += 1) {
    try {
      await tryUpdatePort(db, portUuid, update, givenMac);
      return loadPort(db, portUuid);
    } catch (error) {
      const retry =
        error instanceof ClaimLost || error instanceof PortChanged || isDeadlockOrLockTimeout(error);
      if (!retry) throw error;
      if (attempt >= CLAIM_ATTEMPTS) {
        if (error instanceof PortChanged) {
          throw new NetworkError(409, 'Conflict', `Port ${portUuid} is being changed by another request.`);
        }
        throw ipAddressGenerationFailure((await loadPort(db, portUuid)).network_id);
      }
    }
  }
}

async function tryUpdatePort(
  db: PrimaryDb,
  portUuid: string,
  update: PortUpdate,
  givenMac: string | undefined,
): Promise<void> {
  const [port] = await db.select().from(neutronPorts).where(eq(neutronPorts.uuid, portUuid));
  if (!port) throw portNotFound(portUuid);
  const mac = givenMac ?? port.mac_address;
  if (mac !== port.mac_address && port.binding_host_id !== '') {
    throw new NetworkError(
      409,
      'PortBound',
      `Unable to complete operation on port ${portUuid}, port is already bound, port type: ${port.binding_vif_type}, old_mac ${port.mac_address}, new_mac ${mac}.`,
    );
  }
  const currentGroups = (
    await db
      .select({ uuid: neutronPortSecurityGroups.security_group_uuid })
      .from(neutronPortSecurityGroups)
      .where(eq(neutronPortSecurityGroups.port_uuid, portUuid))
  ).map((row) => row.uuid);
  const groups = update.security_groups ?? currentGroups;
  const portSecurity = update.port_security_enabled ?? port.port_security_enabled;
  const pairs = update.allowed_address_pairs?.map((pair) => ({
    ip_address: pair.ip_address,
    mac_address: pair.mac_address ?? mac,
  }));
  checkPortSecurity(
    portSecurity,
    groups,
    update.security_groups !== undefined,
    (pairs ?? port.allowed_address_pairs).length,
  );
  if (update.security_groups) await checkSecurityGroups(db, port.project_id, update.security_groups);
  const deviceOwner = update.device_owner ?? port.device_owner;

  let plan: FixedIpPlan | undefined;
  let claims: Awaited<ReturnType<typeof proposeAddresses>> = [];
  if (update.fixed_ips !== undefined) {
    const [held, subnets] = await Promise.all([
      db
        .select({
          subnet_uuid: neutronIpAllocations.subnet_uuid,
          ip_address: neutronIpAllocations.ip_address,
        })
        .from(neutronIpAllocations)
        .where(eq(neutronIpAllocations.port_uuid, portUuid)),
      db
        .select()
        .from(neutronSubnets)
        .where(eq(neutronSubnets.network_uuid, port.network_uuid))
        .orderBy(asc(neutronSubnets.id)),
    ]);
    plan = planFixedIps(port, held, subnets, update.fixed_ips, deviceOwner);
    claims = await proposeAddresses(db, port.network_uuid, plan.claim);
  }

  const set: Partial<PortRow> = { updated_at: new Date() };
  if (update.name !== undefined) set.name = update.name;
  if (update.description !== undefined) set.description = update.description;
  if (update.admin_state_up !== undefined) set.admin_state_up = update.admin_state_up;
  if (update.device_id !== undefined) set.device_id = update.device_id;
  if (update.device_owner !== undefined) set.device_owner = update.device_owner;
  if (update.binding_vnic_type !== undefined) set.binding_vnic_type = update.binding_vnic_type;
  if (update.binding_profile !== undefined) set.binding_profile = update.binding_profile;
  if (update.port_security_enabled !== undefined) set.port_security_enabled = update.port_security_enabled;
  if (pairs !== undefined) set.allowed_address_pairs = pairs;
  if (givenMac !== undefined) set.mac_address = givenMac;
  if (update.binding_host_id !== undefined) {
    set.binding_host_id = update.binding_host_id;
    set.binding_vif_type = update.binding_host_id === '' ? 'unbound' : 'bridge';
    if (update.binding_host_id === '') set.status = 'DOWN';
  }

  await db.transaction(async (tx) => {
    const [locked] = await tx
      .select({ revision_number: neutronPorts.revision_number })
      .from(neutronPorts)
      .where(eq(neutronPorts.uuid, portUuid))
      .for('update');
    if (!locked) throw portNotFound(portUuid);
    if (locked.revision_number !== port.revision_number) throw new PortChanged(portUuid);
    if (plan) {
      checkClaimsAgainst(await lockNetworkForClaims(tx, port.network_uuid), claims, deviceOwner);
      for (const freed of plan.free) {
        await tx
          .delete(neutronIpAllocations)
          .where(
            and(
              eq(neutronIpAllocations.port_uuid, portUuid),
              eq(neutronIpAllocations.subnet_uuid, freed.subnet_uuid),
              eq(neutronIpAllocations.ip_address, freed.ip_address),
            ),
          );
      }
      const now = new Date();
      const ordered = [...claims].sort((a, b) => a.subnet.uuid.localeCompare(b.subnet.uuid));
      for (const claim of ordered) {
        try {
          await tx.insert(neutronIpAllocations).values({
            port_uuid: portUuid,
            subnet_uuid: claim.subnet.uuid,
            network_uuid: port.network_uuid,
            ip_address: claim.address,
            created_at: now,
          });
        } catch (error) {
          if (!isDuplicateKey(error)) throw error;
          if (claim.requested) throw ipAddressInUse(port.network_uuid, claim.address);
          throw new ClaimLost(claim.address);
        }
      }
    }
    try {
      await tx
        .update(neutronPorts)
        .set({ ...set, revision_number: sql`${neutronPorts.revision_number} + 1` })
        .where(eq(neutronPorts.uuid, portUuid));
    } catch (error) {
      if (isDuplicateKey(error)) throw macAddressInUse(port.network_uuid, mac);
      throw error;
    }
    if (update.security_groups) {
      await tx.delete(neutronPortSecurityGroups).where(eq(neutronPortSecurityGroups.port_uuid, portUuid));
      if (update.security_groups.length > 0) {
        // Under a share lock, as a create reads them: a group deleted meanwhile is not found here.
        const present = await selectInShareMode(
          tx,
          sql`SELECT ${neutronSecurityGroups.uuid} AS uuid FROM ${neutronSecurityGroups}
            WHERE ${inArray(neutronSecurityGroups.uuid, update.security_groups)}`,
        );
        const missing = update.security_groups.find((uuid) => !present.some((group) => group.uuid === uuid));
        if (missing) throw securityGroupNotFound(missing);
        const memberships = update.security_groups.map((group) => ({
          port_uuid: portUuid,
          security_group_uuid: group,
        }));
        await tx.insert(neutronPortSecurityGroups).values(memberships);
      }
    }
  });
}
