import { and, asc, eq, inArray, isNull, sql } from 'drizzle-orm';
import type { PrimaryDb } from '../../schema/db.ts';
import {
  neutronFloatingIps,
  neutronIpAllocations,
  neutronNetworks,
  neutronPorts,
  neutronRouters,
  neutronSubnets,
} from '../../schema/tables/index.ts';
import { NetworkError, networkNotFound, portNotFound, subnetNotFound } from './errors.ts';
import { cidrsOverlap, parseCidr } from './ip-math.ts';
import type { NetworkCaller } from './networks.ts';
import {
  createPort,
  deletePort,
  deletePortInTransaction,
  type FixedIpRequest,
  neutronTime,
  type PortRow,
} from './ports.ts';
import {
  ensureNetworkUsageRow,
  networkQuotaLimits,
  releaseNetworkQuota,
  reserveNetworkQuota,
} from './quotas.ts';
import { ownsResource, SERVICE_CALLER } from './resource-owner.ts';

// Routers: a gateway on an external network and interfaces on the project's subnets, each a port of
// the router (device_id = the router) made by createPort, so their addresses come from the same IPAM
// as every other port's. A port is made in its own transaction and only then joined to the router by
// a conditional write that fails if the router changed or went away meanwhile; the loser deletes the
// port it made. What a change frees (the old gateway port, an interface port) goes in the transaction
// of the change.

export type RouterRow = typeof neutronRouters.$inferSelect;
type NetworkRow = typeof neutronNetworks.$inferSelect;
type SubnetRow = typeof neutronSubnets.$inferSelect;
type Reader = Pick<PrimaryDb, 'select'>;

export const ROUTER_GATEWAY_OWNER = 'network:router_gateway';
export const ROUTER_INTERFACE_OWNER = 'network:router_interface';

export const routerNotFound = (id: string) =>
  new NetworkError(404, 'RouterNotFound', `Router ${id} could not be found`);
const badRouterRequest = (reason: string) =>
  new NetworkError(400, 'BadRequest', `Bad router request: ${reason}`);
const routerChangedConcurrently = (id: string) =>
  new NetworkError(
    409,
    'Conflict',
    `Router ${id} was changed by another request at the same time; try again.`,
  );

export interface RouterGatewayRequest {
  network_id: string;
  enable_snat?: boolean;
  external_fixed_ips?: FixedIpRequest[];
}

export interface RouterCreate {
  project_id: string;
  name?: string;
  description?: string;
  admin_state_up?: boolean;
  external_gateway_info?: RouterGatewayRequest;
}

export interface RouterUpdate {
  name?: string;
  description?: string;
  admin_state_up?: boolean;
  /** null clears the gateway. */
  external_gateway_info?: RouterGatewayRequest | null;
}

export function routerView(router: RouterRow, gatewayIps: Array<{ subnet_id: string; ip_address: string }>) {
  return {
    id: router.uuid,
    name: router.name,
    description: router.description,
    tenant_id: router.project_id,
    project_id: router.project_id,
    admin_state_up: router.admin_state_up,
    status: router.status,
    external_gateway_info:
      router.gw_network_uuid === null
        ? null
        : {
            network_id: router.gw_network_uuid,
            enable_snat: router.enable_snat,
            external_fixed_ips: gatewayIps,
          },
    routes: [],
    availability_zone_hints: [],
    availability_zones: [],
    tags: [],
    created_at: neutronTime(router.created_at),
    updated_at: neutronTime(router.updated_at ?? router.created_at),
    revision_number: router.revision_number,
  };
}
export type RouterView = ReturnType<typeof routerView>;

/** The views of `routers`, the addresses of their gateway ports read in one query. */
export async function routerViews(db: Reader, routers: readonly RouterRow[]): Promise<RouterView[]> {
  const gatewayPorts = routers.flatMap((router) => (router.gw_port_uuid ? [router.gw_port_uuid] : []));
  const allocations =
    gatewayPorts.length === 0
      ? []
      : await db
          .select()
          .from(neutronIpAllocations)
          .where(inArray(neutronIpAllocations.port_uuid, gatewayPorts))
          .orderBy(asc(neutronIpAllocations.id));
  return routers.map((router) =>
    routerView(
      router,
      allocations
        .filter((allocation) => allocation.port_uuid === router.gw_port_uuid)
        .map((allocation) => ({ subnet_id: allocation.subnet_uuid, ip_address: allocation.ip_address })),
    ),
  );
}

export async function findRouter(db: Reader, uuid: string, caller: NetworkCaller): Promise<RouterRow> {
  const [router] = await db.select().from(neutronRouters).where(eq(neutronRouters.uuid, uuid));
  if (!router || !ownsResource(caller, router.project_id)) throw routerNotFound(uuid);
  return router;
}

export async function showRouter(db: Reader, uuid: string, caller: NetworkCaller): Promise<RouterView> {
  const [view] = await routerViews(db, [await findRouter(db, uuid, caller)]);
  if (!view) throw routerNotFound(uuid);
  return view;
}

/** An external network (router:external) anyone may put a gateway or a floating IP on. */
export async function externalNetwork(db: Reader, uuid: string, reason: string): Promise<NetworkRow> {
  const [network] = await db.select().from(neutronNetworks).where(eq(neutronNetworks.uuid, uuid));
  if (!network) throw networkNotFound(uuid);
  if (!network.router_external) throw new NetworkError(400, 'BadRequest', reason);
  return network;
}

const notExternal = (networkId: string) =>
  `Bad router request: Network ${networkId} is not an external network`;

function sameGatewayPort(router: RouterRow) {
  return router.gw_port_uuid === null
    ? isNull(neutronRouters.gw_port_uuid)
    : eq(neutronRouters.gw_port_uuid, router.gw_port_uuid);
}

/** No floating IP reaches the project's networks through this router (what its gateway carries). */
function noFloatingIpThrough(routerUuid: string) {
  return sql`NOT EXISTS (SELECT 1 FROM ${neutronFloatingIps} WHERE ${neutronFloatingIps.router_uuid} = ${routerUuid})`;
}

/** Why a conditional write to a router's gateway matched nothing. */
async function gatewayChangeRefusal(db: Reader, router: RouterRow): Promise<NetworkError> {
  const [current] = await db.select().from(neutronRouters).where(eq(neutronRouters.uuid, router.uuid));
  if (!current) return routerNotFound(router.uuid);
  if (current.gw_port_uuid !== router.gw_port_uuid) return routerChangedConcurrently(router.uuid);
  return new NetworkError(
    409,
    'RouterExternalGatewayInUseByFloatingIp',
    `Gateway cannot be updated for router ${router.uuid}, since a gateway to external network ${router.gw_network_uuid} is required by one or more floating IPs.`,
  );
}

/**
 * Points the router's gateway at `next` (a port made for it already) or at nothing, in one
 * transaction with the deletion of the gateway port it had. Refused while floating IPs depend on the
 * gateway's network and the network changes.
 */
async function replaceGateway(
  db: PrimaryDb,
  router: RouterRow,
  next: { network_uuid: string; port_uuid: string; enable_snat: boolean } | null,
): Promise<void> {
  const networkChanges = router.gw_network_uuid !== null && next?.network_uuid !== router.gw_network_uuid;
  await db.transaction(async (tx) => {
    const result = await tx
      .update(neutronRouters)
      .set({
        gw_network_uuid: next?.network_uuid ?? null,
        gw_port_uuid: next?.port_uuid ?? null,
        enable_snat: next?.enable_snat ?? true,
        revision_number: sql`${neutronRouters.revision_number} + 1`,
        updated_at: new Date(),
      })
      .where(
        and(
          eq(neutronRouters.uuid, router.uuid),
          sameGatewayPort(router),
          networkChanges ? noFloatingIpThrough(router.uuid) : undefined,
        ),
      );
    if (result.rowsAffected !== 1) throw await gatewayChangeRefusal(tx, router);
    if (router.gw_port_uuid) await deletePortInTransaction(tx, router.gw_port_uuid);
  });
}

async function setGateway(db: PrimaryDb, router: RouterRow, request: RouterGatewayRequest): Promise<void> {
  const enableSnat = request.enable_snat ?? true;
  if (request.network_id === router.gw_network_uuid && request.external_fixed_ips === undefined) {
    const result = await db
      .update(neutronRouters)
      .set({
        enable_snat: enableSnat,
        revision_number: sql`${neutronRouters.revision_number} + 1`,
        updated_at: new Date(),
      })
      .where(and(eq(neutronRouters.uuid, router.uuid), sameGatewayPort(router)));
    if (result.rowsAffected !== 1) throw await gatewayChangeRefusal(db, router);
    return;
  }
  await externalNetwork(db, request.network_id, notExternal(request.network_id));
  const port = await createPort(db, {
    network_uuid: request.network_id,
    project_id: router.project_id,
    device_id: router.uuid,
    device_owner: ROUTER_GATEWAY_OWNER,
    ...(request.external_fixed_ips === undefined ? {} : { fixed_ips: request.external_fixed_ips }),
    security_groups: [],
    skipQuotaCheck: true,
  });
  try {
    await replaceGateway(db, router, {
      network_uuid: request.network_id,
      port_uuid: port.id,
      enable_snat: enableSnat,
    });
  } catch (error) {
    await deletePort(db, port.id);
    throw error;
  }
}

/** Creates a router (quota `router`) and, when asked, its gateway; a gateway that fails undoes the router. */
export async function createRouter(db: PrimaryDb, input: RouterCreate): Promise<RouterView> {
  const gateway = input.external_gateway_info;
  if (gateway) await externalNetwork(db, gateway.network_id, notExternal(gateway.network_id));
  await ensureNetworkUsageRow(db, input.project_id, 'router');
  const limit = (await networkQuotaLimits(db, input.project_id)).router;
  const now = new Date();
  const router: RouterRow = {
    id: 0,
    uuid: crypto.randomUUID(),
    project_id: input.project_id,
    name: input.name ?? '',
    description: input.description ?? '',
    admin_state_up: input.admin_state_up ?? true,
    status: 'ACTIVE',
    gw_network_uuid: null,
    gw_port_uuid: null,
    enable_snat: true,
    revision_number: 1,
    created_at: now,
    updated_at: now,
  };
  await db.transaction(async (tx) => {
    const { id: _unsaved, ...values } = router;
    await tx.insert(neutronRouters).values(values);
    await reserveNetworkQuota(tx, input.project_id, 'router', limit);
  });
  if (gateway) {
    try {
      await setGateway(db, router, gateway);
    } catch (error) {
      await deleteRouter(db, router.uuid, SERVICE_CALLER);
      throw error;
    }
  }
  return showRouter(db, router.uuid, SERVICE_CALLER);
}

export async function updateRouter(
  db: PrimaryDb,
  uuid: string,
  caller: NetworkCaller,
  change: RouterUpdate,
): Promise<RouterView> {
  const router = await findRouter(db, uuid, caller);
  if (change.external_gateway_info === null && router.gw_port_uuid !== null) {
    await replaceGateway(db, router, null);
  } else if (change.external_gateway_info) {
    await setGateway(db, router, change.external_gateway_info);
  }
  const attributes = {
    ...(change.name !== undefined ? { name: change.name } : {}),
    ...(change.description !== undefined ? { description: change.description } : {}),
    ...(change.admin_state_up !== undefined ? { admin_state_up: change.admin_state_up } : {}),
  };
  if (Object.keys(attributes).length > 0) {
    const result = await db
      .update(neutronRouters)
      .set({
        ...attributes,
        revision_number: sql`${neutronRouters.revision_number} + 1`,
        updated_at: new Date(),
      })
      .where(eq(neutronRouters.uuid, uuid));
    if (result.rowsAffected !== 1) throw routerNotFound(uuid);
  }
  return showRouter(db, uuid, caller);
}

function interfacePortsOf(routerUuid: string) {
  return and(eq(neutronPorts.device_id, routerUuid), eq(neutronPorts.device_owner, ROUTER_INTERFACE_OWNER));
}

/**
 * Deletes a router with its gateway port and its place in the quota; 409 RouterInUse while it has
 * interfaces. The router's row is locked first, so an interface being added either is seen here or
 * finds the router gone and deletes its own port.
 */
export async function deleteRouter(db: PrimaryDb, uuid: string, caller: NetworkCaller): Promise<void> {
  await db.transaction(async (tx) => {
    const [router] = await tx
      .select()
      .from(neutronRouters)
      .where(eq(neutronRouters.uuid, uuid))
      .for('update');
    if (!router || !ownsResource(caller, router.project_id)) throw routerNotFound(uuid);
    const [anInterface] = await tx
      .select({ uuid: neutronPorts.uuid })
      .from(neutronPorts)
      .where(interfacePortsOf(uuid))
      .limit(1)
      .for('update');
    if (anInterface) {
      throw new NetworkError(409, 'RouterInUse', `Router ${uuid} still has ports`);
    }
    await tx.delete(neutronRouters).where(eq(neutronRouters.uuid, uuid));
    await releaseNetworkQuota(tx, router.project_id, 'router');
    if (router.gw_port_uuid) await deletePortInTransaction(tx, router.gw_port_uuid);
  });
}

interface RouterInterface {
  port: PortRow;
  subnets: SubnetRow[];
}

async function routerInterfaces(db: Reader, routerUuid: string): Promise<RouterInterface[]> {
  const ports = await db
    .select()
    .from(neutronPorts)
    .where(interfacePortsOf(routerUuid))
    .orderBy(asc(neutronPorts.id));
  if (ports.length === 0) return [];
  const allocations = await db
    .select()
    .from(neutronIpAllocations)
    .where(
      inArray(
        neutronIpAllocations.port_uuid,
        ports.map((port) => port.uuid),
      ),
    )
    .orderBy(asc(neutronIpAllocations.id));
  const subnetUuids = [...new Set(allocations.map((allocation) => allocation.subnet_uuid))];
  const subnets =
    subnetUuids.length === 0
      ? []
      : await db.select().from(neutronSubnets).where(inArray(neutronSubnets.uuid, subnetUuids));
  return ports.map((port) => ({
    port,
    subnets: allocations
      .filter((allocation) => allocation.port_uuid === port.uuid)
      .flatMap((allocation) => subnets.filter((subnet) => subnet.uuid === allocation.subnet_uuid)),
  }));
}

/** The router may take an interface on these subnets: not one it has, none overlapping one it has. */
function checkNewInterfaceSubnets(existing: readonly RouterInterface[], added: readonly SubnetRow[]) {
  const attached = existing.flatMap((entry) => entry.subnets);
  for (const subnet of added) {
    if (attached.some((other) => other.uuid === subnet.uuid)) {
      throw badRouterRequest(`Router already has a port on subnet ${subnet.uuid}`);
    }
    const cidr = parseCidr(subnet.cidr);
    const overlapping = attached.find((other) => {
      const otherCidr = parseCidr(other.cidr);
      return cidr && otherCidr && cidrsOverlap(cidr, otherCidr);
    });
    if (overlapping) {
      throw badRouterRequest(
        `Cidr ${subnet.cidr} of subnet ${subnet.uuid} overlaps with cidr ${overlapping.cidr} of subnet ${overlapping.uuid}`,
      );
    }
  }
  if (added.filter((subnet) => subnet.ip_version === 4).length > 1) {
    throw badRouterRequest('Cannot have multiple IPv4 subnets on router port');
  }
}

export interface RouterInterfaceInfo {
  id: string;
  tenant_id: string;
  project_id: string;
  port_id: string;
  subnet_id: string;
  subnet_ids: string[];
  network_id: string;
}

function interfaceInfo(router: RouterRow, port: Pick<PortRow, 'uuid' | 'network_uuid'>, subnetIds: string[]) {
  return {
    id: router.uuid,
    tenant_id: router.project_id,
    project_id: router.project_id,
    port_id: port.uuid,
    subnet_id: subnetIds[0] ?? '',
    subnet_ids: subnetIds,
    network_id: port.network_uuid,
  } satisfies RouterInterfaceInfo;
}

/** Confirms, after a port was joined to the router, that the router still exists (and locks out its deletion). */
async function touchRouter(db: PrimaryDb, uuid: string): Promise<boolean> {
  const result = await db
    .update(neutronRouters)
    .set({ revision_number: sql`${neutronRouters.revision_number} + 1`, updated_at: new Date() })
    .where(eq(neutronRouters.uuid, uuid));
  return result.rowsAffected === 1;
}

export type InterfaceRequest = { subnet_id?: string; port_id?: string };

function checkInterfaceRequest(request: InterfaceRequest): void {
  if (request.subnet_id === undefined && request.port_id === undefined) {
    throw new NetworkError(
      400,
      'BadRequest',
      'Bad router request: Either subnet_id or port_id must be specified',
    );
  }
}

async function visibleSubnet(db: Reader, uuid: string, caller: NetworkCaller): Promise<SubnetRow> {
  const [row] = await db
    .select({ subnet: neutronSubnets, shared: neutronNetworks.shared })
    .from(neutronSubnets)
    .innerJoin(neutronNetworks, eq(neutronNetworks.uuid, neutronSubnets.network_uuid))
    .where(eq(neutronSubnets.uuid, uuid));
  if (!row || (!ownsResource(caller, row.subnet.project_id) && !row.shared)) throw subnetNotFound(uuid);
  return row.subnet;
}

async function addSubnetInterface(
  db: PrimaryDb,
  router: RouterRow,
  subnetUuid: string,
  caller: NetworkCaller,
): Promise<RouterInterfaceInfo> {
  const subnet = await visibleSubnet(db, subnetUuid, caller);
  if (!subnet.gateway_ip) {
    throw badRouterRequest(`Subnet ${subnet.uuid} does not have a gateway IP`);
  }
  checkNewInterfaceSubnets(await routerInterfaces(db, router.uuid), [subnet]);
  // The interface holds the subnet's gateway address: a second router on the subnet is refused by the
  // address's unique key (409 IpAddressInUse), however the two requests interleave.
  const port = await createPort(db, {
    network_uuid: subnet.network_uuid,
    project_id: router.project_id,
    device_id: router.uuid,
    device_owner: ROUTER_INTERFACE_OWNER,
    fixed_ips: [{ subnet_id: subnet.uuid, ip_address: subnet.gateway_ip }],
    security_groups: [],
    skipQuotaCheck: true,
  });
  if (!(await touchRouter(db, router.uuid))) {
    await deletePort(db, port.id);
    throw routerNotFound(router.uuid);
  }
  return interfaceInfo(router, { uuid: port.id, network_uuid: port.network_id }, [subnet.uuid]);
}

async function addPortInterface(
  db: PrimaryDb,
  router: RouterRow,
  portUuid: string,
  caller: NetworkCaller,
): Promise<RouterInterfaceInfo> {
  const [port] = await db.select().from(neutronPorts).where(eq(neutronPorts.uuid, portUuid));
  if (!port || !ownsResource(caller, port.project_id)) throw portNotFound(portUuid);
  const portInUse = () =>
    new NetworkError(
      409,
      'PortInUse',
      `Unable to complete operation on port ${portUuid} for network ${port.network_uuid}. Port already has an attached device ${port.device_id}.`,
    );
  if (port.device_id !== '' || port.device_owner !== '') throw portInUse();
  const held = await db
    .select({ subnet_uuid: neutronIpAllocations.subnet_uuid })
    .from(neutronIpAllocations)
    .where(eq(neutronIpAllocations.port_uuid, portUuid))
    .orderBy(asc(neutronIpAllocations.id));
  if (held.length === 0) throw badRouterRequest('Router port must have at least one fixed IP');
  const subnetUuids = [...new Set(held.map((allocation) => allocation.subnet_uuid))];
  const subnets = await db.select().from(neutronSubnets).where(inArray(neutronSubnets.uuid, subnetUuids));
  checkNewInterfaceSubnets(await routerInterfaces(db, router.uuid), subnets);
  const claimed = await db
    .update(neutronPorts)
    .set({
      device_id: router.uuid,
      device_owner: ROUTER_INTERFACE_OWNER,
      revision_number: sql`${neutronPorts.revision_number} + 1`,
      updated_at: new Date(),
    })
    .where(
      and(eq(neutronPorts.uuid, portUuid), eq(neutronPorts.device_id, ''), eq(neutronPorts.device_owner, '')),
    );
  if (claimed.rowsAffected !== 1) throw portInUse();
  if (!(await touchRouter(db, router.uuid))) {
    await db
      .update(neutronPorts)
      .set({ device_id: '', device_owner: '', updated_at: new Date() })
      .where(and(eq(neutronPorts.uuid, portUuid), eq(neutronPorts.device_id, router.uuid)));
    throw routerNotFound(router.uuid);
  }
  return interfaceInfo(router, port, subnetUuids);
}

/** `PUT /routers/{id}/add_router_interface`: by subnet (a new port on its gateway address) or by port. */
export async function addRouterInterface(
  db: PrimaryDb,
  uuid: string,
  caller: NetworkCaller,
  request: InterfaceRequest,
): Promise<RouterInterfaceInfo> {
  checkInterfaceRequest(request);
  if (request.subnet_id !== undefined && request.port_id !== undefined) {
    throw new NetworkError(
      400,
      'BadRequest',
      'Bad router request: Cannot specify both subnet-id and port-id',
    );
  }
  const router = await findRouter(db, uuid, caller);
  if (request.port_id !== undefined) return addPortInterface(db, router, request.port_id, caller);
  return addSubnetInterface(db, router, request.subnet_id as string, caller);
}

/**
 * `PUT /routers/{id}/remove_router_interface`: deletes the interface port (or, for a port on several
 * subnets removed by one subnet, only its address there). Refused while a floating IP reaches a fixed
 * address on a removed subnet through this router; the check reads under lock after the removal, so
 * an association racing it either is seen here or finds the interface gone.
 */
export async function removeRouterInterface(
  db: PrimaryDb,
  uuid: string,
  caller: NetworkCaller,
  request: InterfaceRequest,
): Promise<RouterInterfaceInfo> {
  checkInterfaceRequest(request);
  const router = await findRouter(db, uuid, caller);
  const interfaces = await routerInterfaces(db, router.uuid);
  let target: RouterInterface | undefined;
  let removed: string[];
  if (request.port_id !== undefined) {
    target = interfaces.find((entry) => entry.port.uuid === request.port_id);
    if (!target) {
      throw new NetworkError(
        404,
        'RouterInterfaceNotFound',
        `Router ${uuid} does not have an interface with id ${request.port_id}`,
      );
    }
    if (
      request.subnet_id !== undefined &&
      !target.subnets.some((subnet) => subnet.uuid === request.subnet_id)
    ) {
      throw new NetworkError(
        400,
        'SubnetMismatchForPort',
        `Subnet on port ${request.port_id} does not match the requested subnet ${request.subnet_id}.`,
      );
    }
    removed = target.subnets.map((subnet) => subnet.uuid);
  } else {
    const subnetUuid = request.subnet_id as string;
    target = interfaces.find((entry) => entry.subnets.some((subnet) => subnet.uuid === subnetUuid));
    if (!target) {
      throw new NetworkError(
        404,
        'RouterInterfaceNotFoundForSubnet',
        `Router ${uuid} has no interface on subnet ${subnetUuid}`,
      );
    }
    removed = [subnetUuid];
  }
  const port = target.port;
  const wholePort = request.port_id !== undefined || removed.length === target.subnets.length;
  await db.transaction(async (tx) => {
    if (wholePort) {
      if (!(await deletePortInTransaction(tx, port.uuid))) throw portNotFound(port.uuid);
    } else {
      await tx
        .delete(neutronIpAllocations)
        .where(
          and(
            eq(neutronIpAllocations.port_uuid, port.uuid),
            inArray(neutronIpAllocations.subnet_uuid, removed),
          ),
        );
      await tx
        .update(neutronPorts)
        .set({ revision_number: sql`${neutronPorts.revision_number} + 1`, updated_at: new Date() })
        .where(eq(neutronPorts.uuid, port.uuid));
    }
    const [dependent] = await tx
      .select({ uuid: neutronFloatingIps.uuid })
      .from(neutronFloatingIps)
      .innerJoin(
        neutronIpAllocations,
        and(
          eq(neutronIpAllocations.port_uuid, neutronFloatingIps.fixed_port_uuid),
          eq(neutronIpAllocations.ip_address, neutronFloatingIps.fixed_ip_address),
        ),
      )
      .where(
        and(eq(neutronFloatingIps.router_uuid, uuid), inArray(neutronIpAllocations.subnet_uuid, removed)),
      )
      .limit(1)
      .for('update');
    if (dependent) {
      throw new NetworkError(
        409,
        'RouterInterfaceInUseByFloatingIP',
        `Router interface for subnet ${removed.join(', ')} on router ${uuid} cannot be deleted, as it is required by one or more floating IPs.`,
      );
    }
  });
  return interfaceInfo(router, port, removed);
}

/**
 * The router through which a floating IP on `externalNetworkUuid` reaches an address on `subnetUuid`:
 * one with its gateway on that network and an interface on that subnet.
 */
export async function routerBetween(
  db: Reader,
  externalNetworkUuid: string,
  subnetUuid: string,
): Promise<string | undefined> {
  const [row] = await db
    .select({ uuid: neutronRouters.uuid })
    .from(neutronRouters)
    .innerJoin(neutronPorts, eq(neutronPorts.device_id, neutronRouters.uuid))
    .innerJoin(neutronIpAllocations, eq(neutronIpAllocations.port_uuid, neutronPorts.uuid))
    .where(
      and(
        eq(neutronRouters.gw_network_uuid, externalNetworkUuid),
        eq(neutronPorts.device_owner, ROUTER_INTERFACE_OWNER),
        eq(neutronIpAllocations.subnet_uuid, subnetUuid),
      ),
    )
    .orderBy(asc(neutronRouters.id))
    .limit(1);
  return row?.uuid;
}

/**
 * The same connection as a condition for a conditional write: the router still has its gateway on
 * the network and an interface on the subnet (read under share locks by the UPDATE that carries it).
 */
export function routerStillBetween(routerUuid: string, externalNetworkUuid: string, subnetUuid: string) {
  return and(
    sql`EXISTS (SELECT 1 FROM ${neutronRouters} WHERE ${neutronRouters.uuid} = ${routerUuid} AND ${neutronRouters.gw_network_uuid} = ${externalNetworkUuid})`,
    sql`EXISTS (SELECT 1 FROM ${neutronPorts} JOIN ${neutronIpAllocations} ON ${neutronIpAllocations.port_uuid} = ${neutronPorts.uuid} WHERE ${neutronPorts.device_id} = ${routerUuid} AND ${neutronPorts.device_owner} = ${ROUTER_INTERFACE_OWNER} AND ${neutronIpAllocations.subnet_uuid} = ${subnetUuid})`,
  );
}
