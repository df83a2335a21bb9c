import { and, eq, inArray, like, or, type SQL } from 'drizzle-orm';
import * as v from 'valibot';
import type { PrimaryDb } from '../../../schema/db.ts';
import {
  instances,
  neutronIpAllocations,
  neutronNetworks,
  neutronPorts,
} from '../../../schema/tables/index.ts';
import { NetworkError, networkNotFound, portNotFound } from '../../network/errors.ts';
import { canonicalIp, parseCidr, parseIp } from '../../network/ip-math.ts';
import { canonicalMac } from '../../network/mac.ts';
import { findNetwork, mayAttachToNetwork, ownsNetwork } from '../../network/networks.ts';
import { COMPUTE_OWNER_PREFIX, refreshInstanceNetworkCache } from '../../network/neutron-network-info.ts';
import { type PortUpdate, updatePort } from '../../network/port-update.ts';
import {
  createPort,
  deletePort,
  loadPort,
  type PortCreate,
  type PortView,
  portViews,
} from '../../network/ports.ts';
import type { Caller } from '../context.ts';
import { type Route, route } from '../route.ts';
import {
  createAll,
  Description,
  Name,
  NeutronBoolean,
  networkCaller,
  neutronObject,
  OwnerAttributes,
  owningProject,
  policyNotAuthorized,
  ResourceId,
  readCreateBody,
  requestedFields,
  requireAdmin,
} from './attributes.ts';
import {
  type CollectionSpec,
  fetchLimit,
  filterConditions,
  filterValues,
  listResponse,
  markerCondition,
  orderBy,
  parseListQuery,
  selectFields,
} from './list-query.ts';

// /network/v2.0/ports over functions/network/ports.ts (create, delete) and port-update.ts. Who may do
// what follows Neutron's default policy: a project sees its own ports and the ports on its networks;
// choosing a MAC or an address, a network:* owner, port security and address pairs are the network
// owner's (or an admin's); the binding's host and profile are an admin's, and only admins see them.

const IpText = v.pipe(v.string(), v.maxLength(64));
const DeviceText = v.pipe(v.string(), v.maxLength(255));
const MacText = v.pipe(v.string(), v.maxLength(17));
const VNIC_TYPES = [
  'normal',
  'direct',
  'macvtap',
  'baremetal',
  'direct-physical',
  'virtio-forwarder',
  'smart-nic',
  'remote-managed',
] as const;
/** Neutron's max_allowed_address_pair. */
const MAX_ADDRESS_PAIRS = 10;

const FixedIp = neutronObject({ subnet_id: v.optional(ResourceId), ip_address: v.optional(IpText) });
const AddressPair = neutronObject({
  ip_address: v.pipe(
    IpText,
    v.check(
      (text) => parseIp(text) !== undefined || parseCidr(text, { strict: false }) !== undefined,
      'must be an IP address or a CIDR',
    ),
  ),
  mac_address: v.optional(MacText),
});
const SecurityGroups = v.pipe(
  v.array(ResourceId),
  v.transform((ids) => [...new Set(ids)]),
);

const UpdatableAttributes = {
  name: v.optional(Name),
  description: v.optional(Description),
  admin_state_up: v.optional(NeutronBoolean),
  mac_address: v.optional(MacText),
  fixed_ips: v.optional(v.array(FixedIp)),
  device_id: v.optional(DeviceText),
  device_owner: v.optional(DeviceText),
  'binding:host_id': v.optional(DeviceText),
  'binding:vnic_type': v.optional(v.picklist(VNIC_TYPES, `must be one of ${VNIC_TYPES.join(', ')}`)),
  'binding:profile': v.optional(v.record(v.string(), v.unknown())),
  security_groups: v.optional(SecurityGroups),
  allowed_address_pairs: v.optional(
    v.pipe(
      v.array(AddressPair),
      v.maxLength(MAX_ADDRESS_PAIRS, `at most ${MAX_ADDRESS_PAIRS} address pairs`),
    ),
  ),
  port_security_enabled: v.optional(NeutronBoolean),
};

const CreatePortItem = neutronObject({ ...UpdatableAttributes, ...OwnerAttributes, network_id: ResourceId });
const UpdatePortBody = v.strictObject({ port: neutronObject(UpdatableAttributes) });
type PortAttributes = Partial<v.InferOutput<typeof CreatePortItem>>;

/** Owners only the networking service (or an admin) puts on a port: a router's, a floating IP's... */
const SERVICE_OWNER_PREFIX = 'network:';
/** Ports that belong to a router or a floating IP: removed through those, never directly. */
const SERVICE_PORT_OWNERS = ['network:router_interface', 'network:router_gateway', 'network:floatingip'];

/** Neutron's attribute policy for creates and updates of a port on `network`. */
function checkPortPolicy(
  caller: Caller,
  action: 'create_port' | 'update_port',
  attributes: PortAttributes,
  networkOwned: boolean,
): void {
  if (attributes['binding:host_id'] !== undefined) requireAdmin(caller, `${action}:binding:host_id`);
  if (attributes['binding:profile'] !== undefined) requireAdmin(caller, `${action}:binding:profile`);
  if (action === 'update_port' && attributes.mac_address !== undefined)
    requireAdmin(caller, `${action}:mac_address`);
  if (networkOwned) return;
  const ownerOnly: Array<[string, boolean]> = [
    ['mac_address', attributes.mac_address !== undefined],
    [
      'fixed_ips:ip_address',
      attributes.fixed_ips?.some((fixedIp) => fixedIp.ip_address !== undefined) ?? false,
    ],
    ['device_owner', attributes.device_owner?.startsWith(SERVICE_OWNER_PREFIX) ?? false],
    ['port_security_enabled', attributes.port_security_enabled !== undefined],
    ['allowed_address_pairs', attributes.allowed_address_pairs !== undefined],
  ];
  for (const [attribute, given] of ownerOnly) if (given) throw policyNotAuthorized(`${action}:${attribute}`);
}

const ADMIN_ONLY_VIEW = [
  'binding:host_id',
  'binding:vif_type',
  'binding:vif_details',
  'binding:profile',
] as const;

/** The port as `caller` sees it: the binding's host, type, details and profile are for admins only. */
function visiblePort(view: PortView, caller: Caller): Partial<PortView> & { id: string } {
  if (caller.isAdmin) return view;
  const shown: Partial<PortView> & { id: string } = { ...view };
  for (const attribute of ADMIN_ONLY_VIEW) delete shown[attribute];
  return shown;
}

/** A project sees its own ports and the ports on its networks; an admin sees every port. */
function portVisibleTo(db: Pick<PrimaryDb, 'select'>, caller: Caller): SQL | undefined {
  if (caller.isAdmin) return undefined;
  return or(
    eq(neutronPorts.project_id, caller.projectId),
    inArray(
      neutronPorts.network_uuid,
      db
        .select({ uuid: neutronNetworks.uuid })
        .from(neutronNetworks)
        .where(eq(neutronNetworks.project_id, caller.projectId)),
    ),
  );
}

async function findPort(db: Pick<PrimaryDb, 'select'>, caller: Caller, uuid: string): Promise<PortView> {
  const [row] = await db
    .select({ uuid: neutronPorts.uuid })
    .from(neutronPorts)
    .where(and(eq(neutronPorts.uuid, uuid), portVisibleTo(db, caller)));
  if (!row) throw portNotFound(uuid);
  return loadPort(db, uuid);
}

export const PORTS_SPEC: CollectionSpec = {
  collection: 'ports',
  idColumn: neutronPorts.uuid,
  attributes: {
    id: { type: 'string', column: neutronPorts.uuid, sortable: true },
    name: { type: 'string', column: neutronPorts.name, sortable: true },
    description: { type: 'string', column: neutronPorts.description, sortable: true },
    project_id: { type: 'string', column: neutronPorts.project_id, sortable: true },
    tenant_id: { type: 'string', column: neutronPorts.project_id, sortable: true },
    network_id: { type: 'string', column: neutronPorts.network_uuid, sortable: true },
    mac_address: { type: 'string', column: neutronPorts.mac_address, sortable: true },
    admin_state_up: { type: 'boolean', column: neutronPorts.admin_state_up, sortable: true },
    status: { type: 'string', column: neutronPorts.status, sortable: true },
    device_id: { type: 'string', column: neutronPorts.device_id, sortable: true },
    device_owner: { type: 'string', column: neutronPorts.device_owner, sortable: true },
    port_security_enabled: { type: 'boolean', column: neutronPorts.port_security_enabled, sortable: true },
    'binding:host_id': { type: 'string', column: neutronPorts.binding_host_id, sortable: true },
    'binding:vif_type': { type: 'string', column: neutronPorts.binding_vif_type, sortable: true },
    'binding:vnic_type': { type: 'string', column: neutronPorts.binding_vnic_type, sortable: true },
    revision_number: { type: 'integer', column: neutronPorts.revision_number, sortable: true },
  },
};

/** Filters only admins may use: on attributes only admins see. */
const ADMIN_FILTERS = ['binding:host_id', 'binding:vif_type'];
/** What `fixed_ips=<key>=<value>` may name (Neutron's syntax). */
const FIXED_IP_KEYS = ['ip_address', 'subnet_id', 'ip_address_substr'] as const;

/**
 * Neutron's `fixed_ips` filter: `fixed_ips=ip_address=X`, `fixed_ips=subnet_id=Y` (repeat for OR;
 * the kinds together must all match), `fixed_ips=ip_address_substr=Z`.
 */
function fixedIpConditions(db: Pick<PrimaryDb, 'select'>, values: readonly string[] | undefined): SQL[] {
  if (!values) return [];
  const byKey = new Map<string, string[]>();
  for (const value of values) {
    const separator = value.indexOf('=');
    const key = value.slice(0, separator);
    if (separator < 0 || !(FIXED_IP_KEYS as readonly string[]).includes(key)) {
      throw new NetworkError(
        400,
        'HTTPBadRequest',
        `Invalid input for fixed_ips. Reason: '${value}' is not of the form ip_address=..., subnet_id=... or ip_address_substr=...`,
      );
    }
    byKey.set(key, [...(byKey.get(key) ?? []), value.slice(separator + 1)]);
  }
  const portsHolding = (condition: SQL | undefined) =>
    inArray(
      neutronPorts.uuid,
      db.select({ uuid: neutronIpAllocations.port_uuid }).from(neutronIpAllocations).where(condition),
    );
  const conditions: SQL[] = [];
  const addresses = byKey.get('ip_address');
  if (addresses) {
    conditions.push(
      portsHolding(
        inArray(
          neutronIpAllocations.ip_address,
          addresses.map((address) => canonicalIp(address) ?? address),
        ),
      ),
    );
  }
  const subnets = byKey.get('subnet_id');
  if (subnets) conditions.push(portsHolding(inArray(neutronIpAllocations.subnet_uuid, subnets)));
  for (const part of byKey.get('ip_address_substr') ?? []) {
    conditions.push(
      portsHolding(like(neutronIpAllocations.ip_address, `%${part.replace(/[%_\\]/g, '\\$&')}%`)),
    );
  }
  return conditions;
}

function toPortCreate(
  caller: Caller,
  item: v.InferOutput<typeof CreatePortItem>,
  networkUuid: string,
): PortCreate {
  return {
    network_uuid: networkUuid,
    project_id: owningProject(caller, item),
    name: item.name,
    description: item.description,
    admin_state_up: item.admin_state_up,
    mac_address: item.mac_address,
    fixed_ips: item.fixed_ips,
    device_id: item.device_id,
    device_owner: item.device_owner,
    binding_host_id: item['binding:host_id'],
    binding_vnic_type: item['binding:vnic_type'],
    binding_profile: item['binding:profile'],
    security_groups: item.security_groups,
    allowed_address_pairs: item.allowed_address_pairs,
    port_security_enabled: item.port_security_enabled,
  };
}

/** Checks a create item against the network it names; the create's input. */
async function prepareCreate(db: PrimaryDb, caller: Caller, item: v.InferOutput<typeof CreatePortItem>) {
  const network = await findNetwork(db, networkCaller(caller), item.network_id);
  // Visible as external but not usable: as absent as another project's network.
  if (!mayAttachToNetwork(networkCaller(caller), network)) throw networkNotFound(item.network_id);
  checkPortPolicy(caller, 'create_port', item, ownsNetwork(networkCaller(caller), network));
  if (item.mac_address !== undefined && !canonicalMac(item.mac_address)) {
    throw new NetworkError(
      400,
      'HTTPBadRequest',
      `Invalid input for mac_address. Reason: '${item.mac_address}' is not a valid MAC address.`,
    );
  }
  return toPortCreate(caller, item, network.uuid);
}

/**
 * Rewrites the network cache of the servers whose ports changed: a server's addresses are what its
 * view and its host show (Neutron tells Nova the same with network-changed / network-vif-deleted).
 * Only a server of the port's own project: Nova reads a server's ports by its project too, so a port
 * naming another project's server as its device changes nothing there.
 */
async function refreshServers(
  db: PrimaryDb,
  ports: ReadonlyArray<Pick<PortView, 'device_id' | 'device_owner' | 'project_id'>>,
) {
  const owned = ports.filter(
    (port) => port.device_owner.startsWith(COMPUTE_OWNER_PREFIX) && port.device_id !== '',
  );
  if (owned.length === 0) return;
  const servers = await db
    .select({ uuid: instances.uuid, project_id: instances.project_id })
    .from(instances)
    .where(
      and(
        inArray(instances.uuid, [...new Set(owned.map((port) => port.device_id))]),
        eq(instances.deleted, 0),
      ),
    );
  for (const server of servers) {
    const mine = owned.some(
      (port) => port.device_id === server.uuid && port.project_id === server.project_id,
    );
    if (mine) await refreshInstanceNetworkCache(db, server.uuid);
  }
}

/** Whether an update changes what a server has on this port (its addresses, MAC, owner or binding). */
function changesServerNetwork(update: PortUpdate): boolean {
  return (
    update.fixed_ips !== undefined ||
    update.mac_address !== undefined ||
    update.device_id !== undefined ||
    update.device_owner !== undefined ||
    update.binding_host_id !== undefined
  );
}

export const portsRoutes: Route[] = [
  route({
    method: 'get',
    path: '/network/v2.0/ports',
    summary: 'List the ports the caller sees (own, on own networks; all for admins)',
    responses: { 200: 'ports, ports_links when paged' },
    handler: async (c) => {
      const request = parseListQuery(c, PORTS_SPEC, ['fixed_ips']);
      const caller = c.var.caller;
      if (!caller.isAdmin) {
        const hidden = ADMIN_FILTERS.filter((name) => request.filters.has(name));
        if (hidden.length > 0) {
          throw new NetworkError(
            400,
            'BadRequest',
            `[${hidden.map((name) => `'${name}'`).join(', ')}] is invalid attribute for filtering`,
          );
        }
      }
      const db = c.var.db;
      const visible = portVisibleTo(db, caller);
      const afterMarker = await markerCondition(db, PORTS_SPEC, request, neutronPorts, visible, portNotFound);
      const query = db
        .select()
        .from(neutronPorts)
        .where(
          and(
            visible,
            ...filterConditions(PORTS_SPEC, request),
            ...fixedIpConditions(db, filterValues(request, 'fixed_ips')),
            afterMarker,
          ),
        )
        .orderBy(...orderBy(PORTS_SPEC, request))
        .$dynamic();
      const limit = fetchLimit(request);
      const rows = await (limit === undefined ? query : query.limit(limit));
      const views = await portViews(db, rows);
      return listResponse(
        c,
        PORTS_SPEC,
        request,
        views.map((view) => visiblePort(view, caller)),
      );
    },
  }),
  route({
    method: 'get',
    path: '/network/v2.0/ports/:port_id',
    summary: 'Show a port',
    responses: { 200: 'port' },
    handler: async (c) => {
      const port = await findPort(c.var.db, c.var.caller, c.req.param('port_id') ?? '');
      return c.json({ port: selectFields(visiblePort(port, c.var.caller), requestedFields(c)) });
    },
  }),
  route({
    method: 'post',
    path: '/network/v2.0/ports',
    summary: 'Create a port, or several at once (all or nothing)',
    responses: { 201: 'port, or ports for a bulk create' },
    handler: async (c) => {
      const { items, bulk } = await readCreateBody(c, 'port', 'ports', CreatePortItem);
      const db = c.var.db.$primary;
      const made = await createAll(
        items,
        async (item) => createPort(db, await prepareCreate(db, c.var.caller, item)),
        (port) => deletePort(db, port.id),
      );
      await refreshServers(db, made);
      const views = made.map((port) => visiblePort(port, c.var.caller));
      return c.json(bulk ? { ports: views } : { port: views[0] }, 201);
    },
  }),
  route({
    method: 'put',
    path: '/network/v2.0/ports/:port_id',
    summary: 'Update a port (fixed IPs re-allocated race-free)',
    body: UpdatePortBody,
    responses: { 200: 'port' },
    handler: async (c, { body }) => {
      const db = c.var.db.$primary;
      const caller = c.var.caller;
      const before = await findPort(db, caller, c.req.param('port_id') ?? '');
      const [network] = await db
        .select({ project_id: neutronNetworks.project_id })
        .from(neutronNetworks)
        .where(eq(neutronNetworks.uuid, before.network_id));
      const attributes = body.port;
      checkPortPolicy(
        caller,
        'update_port',
        attributes,
        caller.isAdmin || network?.project_id === caller.projectId,
      );
      const update: PortUpdate = {
        name: attributes.name,
        description: attributes.description,
        admin_state_up: attributes.admin_state_up,
        device_id: attributes.device_id,
        device_owner: attributes.device_owner,
        binding_host_id: attributes['binding:host_id'],
        binding_vnic_type: attributes['binding:vnic_type'],
        binding_profile: attributes['binding:profile'],
        mac_address: attributes.mac_address,
        fixed_ips: attributes.fixed_ips,
        security_groups: attributes.security_groups,
        allowed_address_pairs: attributes.allowed_address_pairs,
        port_security_enabled: attributes.port_security_enabled,
      };
      const after = await updatePort(db, before.id, update);
      if (changesServerNetwork(update)) await refreshServers(db, [before, after]);
      return c.json({ port: visiblePort(after, caller) });
    },
  }),
  route({
    method: 'delete',
    path: '/network/v2.0/ports/:port_id',
    summary: "Delete a port (not a router's or a floating IP's: those go through their own API)",
    responses: { 204: 'deleted' },
    handler: async (c) => {
      const db = c.var.db.$primary;
      const port = await findPort(db, c.var.caller, c.req.param('port_id') ?? '');
      if (SERVICE_PORT_OWNERS.includes(port.device_owner)) {
        throw new NetworkError(
          409,
          'ServicePortInUse',
          `Port ${port.id} cannot be deleted directly via the port API: has device owner ${port.device_owner}.`,
        );
      }
      await deletePort(db, port.id);
      await refreshServers(db, [port]);
      return c.body(null, 204);
    },
  }),
];
