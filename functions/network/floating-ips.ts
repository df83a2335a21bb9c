import { and, asc, eq, inArray, sql } from 'drizzle-orm';
import type { PrimaryDb } from '../../schema/db.ts';
import {
  neutronFloatingIps,
  neutronIpAllocations,
  neutronPorts,
  neutronSubnets,
} from '../../schema/tables/index.ts';
import { isDuplicateKey } from '../shared/errors.ts';
import { NetworkError, portNotFound } from './errors.ts';
import { canonicalIp, parseIp } from './ip-math.ts';
import type { NetworkCaller } from './networks.ts';
import { COMPUTE_OWNER_PREFIX, refreshInstanceNetworkCache } from './neutron-network-info.ts';
import {
  createPort,
  deletePort,
  deletePortInTransaction,
  neutronTime,
  type PortRow,
  type PortView,
} from './ports.ts';
import {
  ensureNetworkUsageRow,
  networkQuotaLimits,
  releaseNetworkQuota,
  reserveNetworkQuota,
} from './quotas.ts';
import { ownsResource, SERVICE_CALLER } from './resource-owner.ts';
import { externalNetwork, routerBetween, routerStillBetween } from './routers.ts';

// Floating IPs. The address is held by a port of the floating IP's own on the external network
// (device_owner network:floatingip, device_id = the floating IP, no project: as in Neutron it is no
// port the project manages or counts), so it comes from the same IPAM as every other address and is
// freed in the transaction that deletes the floating IP. Associating is one conditional UPDATE that
// holds only while the port still has the fixed address and a router still connects its subnet to the
// external network; the unique key on (fixed port, fixed address) keeps a fixed address to one
// floating IP.

export type FloatingIpRow = typeof neutronFloatingIps.$inferSelect;
type Reader = Pick<PrimaryDb, 'select'>;

export const FLOATING_IP_OWNER = 'network:floatingip';

export const floatingIpNotFound = (id: string) =>
  new NetworkError(404, 'FloatingIPNotFound', `Floating IP ${id} could not be found`);
const badFloatingIpRequest = (reason: string) =>
  new NetworkError(400, 'BadRequest', `Bad floatingip request: ${reason}`);

export function floatingIpView(fip: FloatingIpRow, fixedPort: PortRow | undefined) {
  return {
    id: fip.uuid,
    tenant_id: fip.project_id,
    project_id: fip.project_id,
    floating_ip_address: fip.floating_ip_address,
    floating_network_id: fip.floating_network_uuid,
    router_id: fip.router_uuid,
    port_id: fip.fixed_port_uuid,
    fixed_ip_address: fip.fixed_ip_address,
    status: fip.status,
    description: fip.description,
    port_details: fixedPort
      ? {
          name: fixedPort.name,
          network_id: fixedPort.network_uuid,
          mac_address: fixedPort.mac_address,
          admin_state_up: fixedPort.admin_state_up,
          status: fixedPort.status,
          device_id: fixedPort.device_id,
          device_owner: fixedPort.device_owner,
        }
      : null,
    dns_domain: '',
    dns_name: '',
    port_forwardings: [],
    qos_policy_id: null,
    tags: [],
    created_at: neutronTime(fip.created_at),
    updated_at: neutronTime(fip.updated_at ?? fip.created_at),
    revision_number: fip.revision_number,
  };
}
export type FloatingIpView = ReturnType<typeof floatingIpView>;

/** The views of `rows`, the ports they are associated with read in one query. */
export async function floatingIpViews(db: Reader, rows: readonly FloatingIpRow[]): Promise<FloatingIpView[]> {
  const portUuids = [...new Set(rows.flatMap((row) => (row.fixed_port_uuid ? [row.fixed_port_uuid] : [])))];
  const ports =
    portUuids.length === 0
      ? []
      : await db.select().from(neutronPorts).where(inArray(neutronPorts.uuid, portUuids));
  return rows.map((row) =>
    floatingIpView(
      row,
      ports.find((port) => port.uuid === row.fixed_port_uuid),
    ),
  );
}

export async function findFloatingIp(
  db: Reader,
  uuid: string,
  caller: NetworkCaller,
): Promise<FloatingIpRow> {
  const [fip] = await db.select().from(neutronFloatingIps).where(eq(neutronFloatingIps.uuid, uuid));
  if (!fip || !ownsResource(caller, fip.project_id)) throw floatingIpNotFound(uuid);
  return fip;
}

export async function showFloatingIp(
  db: Reader,
  uuid: string,
  caller: NetworkCaller,
): Promise<FloatingIpView> {
  const [view] = await floatingIpViews(db, [await findFloatingIp(db, uuid, caller)]);
  if (!view) throw floatingIpNotFound(uuid);
  return view;
}

interface Association {
  port: PortRow;
  fixedIpAddress: string;
  subnetUuid: string;
  routerUuid: string;
}

/**
 * Checks that the floating IP can be associated with the port (the address named, or the port's only
 * IPv4 address, reachable through a router from the floating IP's network) and says how.
 */
async function planAssociation(
  db: Reader,
  fip: Pick<FloatingIpRow, 'project_id' | 'floating_network_uuid'>,
  portUuid: string,
  fixedIpAddress: string | undefined,
  caller: NetworkCaller,
): Promise<Association> {
  const [port] = await db.select().from(neutronPorts).where(eq(neutronPorts.uuid, portUuid));
  // Only an admin may associate a project's floating IP with another project's port.
  if (!port || (!caller.isAdmin && port.project_id !== fip.project_id)) throw portNotFound(portUuid);
  if (port.device_owner.startsWith('network:')) {
    throw badFloatingIpRequest(
      `Port ${portUuid} has caller ${port.device_owner} and therefore cannot be associated with a floating IP.`,
    );
  }
  const held = await db
    .select()
    .from(neutronIpAllocations)
    .where(eq(neutronIpAllocations.port_uuid, portUuid))
    .orderBy(asc(neutronIpAllocations.id));
  const ipv4 = held.filter((allocation) => parseIp(allocation.ip_address)?.version === 4);
  let chosen: (typeof held)[number] | undefined;
  if (fixedIpAddress !== undefined) {
    const canonical = canonicalIp(fixedIpAddress);
    chosen = ipv4.find((allocation) => allocation.ip_address === canonical);
    if (!chosen) {
      throw badFloatingIpRequest(`Port ${portUuid} does not have fixed ip ${fixedIpAddress}`);
    }
  } else if (ipv4.length === 0) {
    throw badFloatingIpRequest(`Cannot add floating IP to port ${portUuid} that has no fixed IPv4 addresses`);
  } else if (ipv4.length > 1) {
    throw badFloatingIpRequest(
      `Port ${portUuid} has multiple fixed IPv4 addresses. Must provide a specific IPv4 address when assigning a floating IP`,
    );
  } else {
    chosen = ipv4[0];
  }
  if (!chosen) throw portNotFound(portUuid);
  const routerUuid = await routerBetween(db, fip.floating_network_uuid, chosen.subnet_uuid);
  if (!routerUuid) {
    throw new NetworkError(
      404,
      'ExternalGatewayForFloatingIPNotFound',
      `External network ${fip.floating_network_uuid} is not reachable from subnet ${chosen.subnet_uuid}.  Therefore, cannot associate Port ${portUuid} with a Floating IP.`,
    );
  }
  return { port, fixedIpAddress: chosen.ip_address, subnetUuid: chosen.subnet_uuid, routerUuid };
}

/** Rewrites the network cache of the server that owns the port, if a server does. */
async function refreshOwner(db: PrimaryDb, port: Pick<PortRow, 'device_id' | 'device_owner'> | undefined) {
  if (port?.device_owner.startsWith(COMPUTE_OWNER_PREFIX) && port.device_id !== '') {
    await refreshInstanceNetworkCache(db, port.device_id);
  }
}

async function portRow(db: Reader, uuid: string | null): Promise<PortRow | undefined> {
  if (uuid === null) return undefined;
  const [port] = await db.select().from(neutronPorts).where(eq(neutronPorts.uuid, uuid));
  return port;
}

/** Associates (`portUuid`) or disassociates (null) the floating IP, with its description if given. */
async function writeAssociation(
  db: PrimaryDb,
  fip: FloatingIpRow,
  target: { portUuid: string | null; fixedIpAddress?: string; description?: string },
  caller: NetworkCaller,
): Promise<void> {
  const description = target.description === undefined ? {} : { description: target.description };
  const common = { revision_number: sql`${neutronFloatingIps.revision_number} + 1`, updated_at: new Date() };
  if (target.portUuid === null) {
    const result = await db
      .update(neutronFloatingIps)
      .set({
        fixed_port_uuid: null,
        fixed_ip_address: null,
        router_uuid: null,
        status: 'DOWN',
        ...description,
        ...common,
      })
      .where(eq(neutronFloatingIps.uuid, fip.uuid));
    if (result.rowsAffected !== 1) throw floatingIpNotFound(fip.uuid);
    return;
  }
  const plan = await planAssociation(db, fip, target.portUuid, target.fixedIpAddress, caller);
  let result: { rowsAffected: number };
  try {
    result = await db
      .update(neutronFloatingIps)
      .set({
        fixed_port_uuid: plan.port.uuid,
        fixed_ip_address: plan.fixedIpAddress,
        router_uuid: plan.routerUuid,
        status: 'ACTIVE',
        ...description,
        ...common,
      })
      .where(
        and(
          eq(neutronFloatingIps.uuid, fip.uuid),
          sql`EXISTS (SELECT 1 FROM ${neutronIpAllocations} WHERE ${neutronIpAllocations.port_uuid} = ${plan.port.uuid} AND ${neutronIpAllocations.ip_address} = ${plan.fixedIpAddress})`,
          routerStillBetween(plan.routerUuid, fip.floating_network_uuid, plan.subnetUuid),
        ),
      );
  } catch (error) {
    if (!isDuplicateKey(error)) throw error;
    throw new NetworkError(
      409,
      'FloatingIPPortAlreadyAssociated',
      `Cannot associate floating IP ${fip.floating_ip_address} (${fip.uuid}) with port ${plan.port.uuid} using fixed IP ${plan.fixedIpAddress}, as that fixed IP already has a floating IP on external network ${fip.floating_network_uuid}.`,
    );
  }
  if (result.rowsAffected === 1) return;
  // Something changed between the plan and the write: planning again names what.
  await findFloatingIp(db, fip.uuid, caller);
  await planAssociation(db, fip, target.portUuid, target.fixedIpAddress, caller);
  throw new NetworkError(
    409,
    'Conflict',
    `Floating IP ${fip.uuid} could not be associated: its port or router changed at the same time; try again.`,
  );
}

export interface FloatingIpCreate {
  project_id: string;
  floating_network_id: string;
  floating_ip_address?: string;
  subnet_id?: string;
  description?: string;
  port_id?: string;
  fixed_ip_address?: string;
}

/** The floating IP's own port on the external network: the address asked for, or any IPv4 one. */
async function allocateFloatingAddress(
  db: PrimaryDb,
  networkUuid: string,
  fipUuid: string,
  input: FloatingIpCreate,
): Promise<PortView> {
  const port = (fixedIps: Array<{ subnet_id?: string; ip_address?: string }>) =>
    createPort(db, {
      network_uuid: networkUuid,
      project_id: '',
      device_id: fipUuid,
      device_owner: FLOATING_IP_OWNER,
      fixed_ips: fixedIps,
      security_groups: [],
      skipQuotaCheck: true,
    });
  if (input.floating_ip_address !== undefined || input.subnet_id !== undefined) {
    return port([
      {
        ...(input.subnet_id !== undefined ? { subnet_id: input.subnet_id } : {}),
        ...(input.floating_ip_address !== undefined ? { ip_address: input.floating_ip_address } : {}),
      },
    ]);
  }
  const subnets = await db
    .select({ uuid: neutronSubnets.uuid })
    .from(neutronSubnets)
    .where(and(eq(neutronSubnets.network_uuid, networkUuid), eq(neutronSubnets.ip_version, 4)))
    .orderBy(asc(neutronSubnets.id));
  if (subnets.length === 0)
    throw badFloatingIpRequest(`Network ${networkUuid} does not contain any IPv4 subnet`);
  for (const subnet of subnets) {
    try {
      return await port([{ subnet_id: subnet.uuid }]);
    } catch (error) {
      if (!(error instanceof NetworkError && error.neutronType === 'IpAddressGenerationFailure')) throw error;
    }
  }
  throw new NetworkError(
    400,
    'ExternalIpAddressExhausted',
    `Unable to find any IP address on external network ${networkUuid}.`,
  );
}

/**
 * Allocates a floating IP (quota `floatingip`) on an external network and, when a port is named,
 * associates it; an association that fails undoes the allocation.
 */
export async function createFloatingIp(
  db: PrimaryDb,
  input: FloatingIpCreate,
  caller: NetworkCaller,
): Promise<FloatingIpView> {
  const network = await externalNetwork(
    db,
    input.floating_network_id,
    `Bad floatingip request: Network ${input.floating_network_id} is not a valid external network`,
  );
  if (input.fixed_ip_address !== undefined && input.port_id === undefined) {
    throw badFloatingIpRequest('fixed_ip_address cannot be specified without a port_id');
  }
  const placement = { project_id: input.project_id, floating_network_uuid: network.uuid };
  // Checked before anything is allocated, so that a refused association leaves nothing to undo.
  if (input.port_id !== undefined)
    await planAssociation(db, placement, input.port_id, input.fixed_ip_address, caller);
  await ensureNetworkUsageRow(db, input.project_id, 'floatingip');
  const limit = (await networkQuotaLimits(db, input.project_id)).floatingip;
  const uuid = crypto.randomUUID();
  const port = await allocateFloatingAddress(db, network.uuid, uuid, input);
  // The port was asked for exactly one address.
  const address = port.fixed_ips[0]?.ip_address ?? '';
  const now = new Date();
  const row: FloatingIpRow = {
    id: 0,
    uuid,
    project_id: input.project_id,
    description: input.description ?? '',
    floating_network_uuid: network.uuid,
    floating_port_uuid: port.id,
    floating_ip_address: address,
    fixed_port_uuid: null,
    fixed_ip_address: null,
    router_uuid: null,
    status: 'DOWN',
    revision_number: 1,
    created_at: now,
    updated_at: now,
  };
  try {
    await db.transaction(async (tx) => {
      const { id: _unsaved, ...values } = row;
      await tx.insert(neutronFloatingIps).values(values);
      await reserveNetworkQuota(tx, input.project_id, 'floatingip', limit);
    });
  } catch (error) {
    await deletePort(db, port.id);
    throw error;
  }
  if (input.port_id !== undefined) {
    try {
      await writeAssociation(
        db,
        row,
        { portUuid: input.port_id, fixedIpAddress: input.fixed_ip_address },
        caller,
      );
    } catch (error) {
      await deleteFloatingIp(db, uuid, SERVICE_CALLER);
      throw error;
    }
    await refreshOwner(db, await portRow(db, input.port_id));
  }
  return showFloatingIp(db, uuid, SERVICE_CALLER);
}

export interface FloatingIpUpdate {
  /** A port associates, null disassociates, undefined leaves the association as it is. */
  port_id?: string | null;
  fixed_ip_address?: string;
  description?: string;
}

export async function updateFloatingIp(
  db: PrimaryDb,
  uuid: string,
  caller: NetworkCaller,
  change: FloatingIpUpdate,
): Promise<FloatingIpView> {
  const fip = await findFloatingIp(db, uuid, caller);
  if (change.fixed_ip_address !== undefined && !change.port_id) {
    throw badFloatingIpRequest('fixed_ip_address cannot be specified without a port_id');
  }
  const previousPort = await portRow(db, fip.fixed_port_uuid);
  if (change.port_id !== undefined) {
    await writeAssociation(
      db,
      fip,
      { portUuid: change.port_id, fixedIpAddress: change.fixed_ip_address, description: change.description },
      caller,
    );
    await refreshOwner(db, previousPort);
    if (change.port_id !== null && change.port_id !== previousPort?.uuid) {
      await refreshOwner(db, await portRow(db, change.port_id));
    }
  } else if (change.description !== undefined) {
    const result = await db
      .update(neutronFloatingIps)
      .set({
        description: change.description,
        revision_number: sql`${neutronFloatingIps.revision_number} + 1`,
        updated_at: new Date(),
      })
      .where(eq(neutronFloatingIps.uuid, uuid));
    if (result.rowsAffected !== 1) throw floatingIpNotFound(uuid);
  }
  return showFloatingIp(db, uuid, caller);
}

/** Deletes a floating IP with its port and address and its place in the quota, in one transaction. */
export async function deleteFloatingIp(db: PrimaryDb, uuid: string, caller: NetworkCaller): Promise<void> {
  const fip = await db.transaction(async (tx) => {
    const [row] = await tx
      .select()
      .from(neutronFloatingIps)
      .where(eq(neutronFloatingIps.uuid, uuid))
      .for('update');
    if (!row || !ownsResource(caller, row.project_id)) throw floatingIpNotFound(uuid);
    await tx.delete(neutronFloatingIps).where(eq(neutronFloatingIps.uuid, uuid));
    await releaseNetworkQuota(tx, row.project_id, 'floatingip');
    await deletePortInTransaction(tx, row.floating_port_uuid);
    return row;
  });
  await refreshOwner(db, await portRow(db, fip.fixed_port_uuid));
}
