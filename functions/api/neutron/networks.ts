import { and, sql } from 'drizzle-orm';
import * as v from 'valibot';
import { neutronNetworks } from '../../../schema/tables/index.ts';
import { networkNotFound } from '../../network/errors.ts';
import {
  createNetwork,
  deleteNetwork,
  findNetwork,
  MAX_MTU,
  MIN_MTU,
  NETWORK_TYPES,
  type NetworkCreate,
  type NetworkRow,
  type NetworkUpdate,
  networkViews,
  networkVisibleTo,
  ownsNetwork,
  updateNetwork,
} from '../../network/networks.ts';
import type { Caller } from '../context.ts';
import { type Route, route } from '../route.ts';
import {
  createAll,
  Description,
  Name,
  NeutronBoolean,
  NeutronInteger,
  networkCaller,
  neutronObject,
  OwnerAttributes,
  owningProject,
  policyNotAuthorized,
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

// /network/v2.0/networks. Who may do what follows Neutron's default policy: a project creates and
// changes its own networks; `shared`, `router:external` and the provider attributes are an admin's to
// set and only admins see the provider attributes; others' networks are a 404 unless shared or
// external, which are visible but not writable (403).

const Mtu = v.pipe(
  NeutronInteger,
  v.minValue(MIN_MTU, `Requested MTU is too small, minimum is ${MIN_MTU}`),
  v.maxValue(MAX_MTU, `Requested MTU is too big, maximum is ${MAX_MTU}`),
);

const CommonAttributes = {
  name: v.optional(Name),
  description: v.optional(Description),
  admin_state_up: v.optional(NeutronBoolean),
  shared: v.optional(NeutronBoolean),
  'router:external': v.optional(NeutronBoolean),
  mtu: v.optional(Mtu),
  port_security_enabled: v.optional(NeutronBoolean),
};

const CreateNetworkItem = neutronObject({
  ...CommonAttributes,
  ...OwnerAttributes,
  'provider:network_type': v.optional(
    v.picklist(NETWORK_TYPES, `must be one of ${NETWORK_TYPES.join(', ')}`),
  ),
  'provider:physical_network': v.optional(v.nullable(v.pipe(v.string(), v.minLength(1), v.maxLength(64)))),
  'provider:segmentation_id': v.optional(v.nullable(NeutronInteger)),
  // One availability zone serves every network: nothing to hint at.
  availability_zone_hints: v.optional(
    v.pipe(v.array(v.string()), v.maxLength(0, 'only one availability zone exists: give []')),
  ),
  // The auto-allocated topology (a project's default external network) is not provided.
  is_default: v.optional(v.literal(false, 'a default external network is not supported')),
});

const UpdateNetworkBody = v.strictObject({
  network: neutronObject({
    ...CommonAttributes,
    'provider:network_type': v.optional(v.never('Plugin does not support updating provider attributes')),
    'provider:physical_network': v.optional(v.never('Plugin does not support updating provider attributes')),
    'provider:segmentation_id': v.optional(v.never('Plugin does not support updating provider attributes')),
  }),
});

const ADMIN_ONLY_ATTRIBUTES = [
  'shared',
  'router:external',
  'provider:network_type',
  'provider:physical_network',
  'provider:segmentation_id',
] as const;

/**
 * Neutron's policy: these attributes are an admin's to set (`create_network:shared`, ...). A create
 * that gives one its default value (`"shared": false`) sets nothing and passes, as in Neutron.
 */
function checkAdminAttributes(caller: Caller, action: string, body: Record<string, unknown>): void {
  for (const attribute of ADMIN_ONLY_ATTRIBUTES) {
    const value = body[attribute];
    const isDefault = action === 'create_network' && (value === false || value === null);
    if (value !== undefined && !isDefault) requireAdmin(caller, `${action}:${attribute}`);
  }
}

export const NETWORKS_SPEC: CollectionSpec = {
  collection: 'networks',
  idColumn: neutronNetworks.uuid,
  attributes: {
    id: { type: 'string', column: neutronNetworks.uuid, sortable: true },
    name: { type: 'string', column: neutronNetworks.name, sortable: true },
    description: { type: 'string', column: neutronNetworks.description, sortable: true },
    project_id: { type: 'string', column: neutronNetworks.project_id, sortable: true },
    tenant_id: { type: 'string', column: neutronNetworks.project_id, sortable: true },
    admin_state_up: { type: 'boolean', column: neutronNetworks.admin_state_up, sortable: true },
    status: { type: 'string', column: neutronNetworks.status, sortable: true },
    shared: { type: 'boolean', column: neutronNetworks.shared, sortable: true },
    'router:external': { type: 'boolean', column: neutronNetworks.router_external, sortable: true },
    mtu: { type: 'integer', column: neutronNetworks.mtu, sortable: true },
    port_security_enabled: { type: 'boolean', column: neutronNetworks.port_security_enabled, sortable: true },
    'provider:network_type': { type: 'string', column: neutronNetworks.network_type, sortable: true },
    'provider:physical_network': { type: 'string', column: neutronNetworks.physical_network },
    'provider:segmentation_id': { type: 'integer', column: neutronNetworks.segmentation_id },
    revision_number: { type: 'integer', column: neutronNetworks.revision_number, sortable: true },
    // Never true here (no auto-allocated topology): filtering on it keeps all networks or none.
    is_default: { type: 'boolean' },
  },
};

function toNetworkCreate(caller: Caller, item: v.InferOutput<typeof CreateNetworkItem>): NetworkCreate {
  checkAdminAttributes(caller, 'create_network', item);
  return {
    project_id: owningProject(caller, item),
    name: item.name,
    description: item.description,
    admin_state_up: item.admin_state_up,
    shared: item.shared,
    router_external: item['router:external'],
    mtu: item.mtu,
    port_security_enabled: item.port_security_enabled,
    network_type: item['provider:network_type'],
    physical_network: item['provider:physical_network'],
    segmentation_id: item['provider:segmentation_id'],
  };
}

/** The network `caller` may change: 404 when it cannot see it, 403 when it only sees it (shared, external). */
async function writableNetwork(
  db: Parameters<typeof findNetwork>[0],
  caller: Caller,
  uuid: string,
  rule: string,
): Promise<NetworkRow> {
  const network = await findNetwork(db, networkCaller(caller), uuid);
  if (!ownsNetwork(networkCaller(caller), network)) throw policyNotAuthorized(rule);
  return network;
}

export const networksRoutes: Route[] = [
  route({
    method: 'get',
    path: '/network/v2.0/networks',
    summary: 'List the networks the caller sees (own, shared, external; all for admins)',
    responses: { 200: 'networks, networks_links when paged' },
    handler: async (c) => {
      const request = parseListQuery(c, NETWORKS_SPEC);
      const caller = networkCaller(c.var.caller);
      const db = c.var.db;
      const visible = networkVisibleTo(caller);
      const afterMarker = await markerCondition(
        db,
        NETWORKS_SPEC,
        request,
        neutronNetworks,
        visible,
        networkNotFound,
      );
      // No network is the auto-allocated default: `is_default=true` matches none.
      const noDefault = filterValues(request, 'is_default')?.every((value) => value === 'true') ?? false;
      const query = db
        .select()
        .from(neutronNetworks)
        .where(
          and(
            visible,
            ...filterConditions(NETWORKS_SPEC, request),
            afterMarker,
            noDefault ? sql`false` : undefined,
          ),
        )
        .orderBy(...orderBy(NETWORKS_SPEC, request))
        .$dynamic();
      const limit = fetchLimit(request);
      const rows = await (limit === undefined ? query : query.limit(limit));
      return listResponse(c, NETWORKS_SPEC, request, await networkViews(db, rows, caller));
    },
  }),
  route({
    method: 'get',
    path: '/network/v2.0/networks/:network_id',
    summary: 'Show a network',
    responses: { 200: 'network' },
    handler: async (c) => {
      const caller = networkCaller(c.var.caller);
      const network = await findNetwork(c.var.db, caller, c.req.param('network_id') ?? '');
      const [view] = await networkViews(c.var.db, [network], caller);
      return c.json({ network: selectFields({ ...view }, requestedFields(c)) });
    },
  }),
  route({
    method: 'post',
    path: '/network/v2.0/networks',
    summary: 'Create a network, or several at once (all or nothing)',
    responses: { 201: 'network, or networks for a bulk create' },
    handler: async (c) => {
      const { items, bulk } = await readCreateBody(c, 'network', 'networks', CreateNetworkItem);
      const inputs = items.map((item) => toNetworkCreate(c.var.caller, item));
      const db = c.var.db.$primary;
      const made = await createAll(
        inputs,
        (input) => createNetwork(db, input),
        (row) => deleteNetwork(db, row.uuid),
      );
      const views = await networkViews(db, made, networkCaller(c.var.caller));
      return c.json(bulk ? { networks: views } : { network: views[0] }, 201);
    },
  }),
  route({
    method: 'put',
    path: '/network/v2.0/networks/:network_id',
    summary: 'Update a network',
    body: UpdateNetworkBody,
    responses: { 200: 'network' },
    handler: async (c, { body }) => {
      const attributes = body.network;
      const db = c.var.db.$primary;
      const uuid = c.req.param('network_id') ?? '';
      await writableNetwork(db, c.var.caller, uuid, 'update_network');
      checkAdminAttributes(c.var.caller, 'update_network', attributes);
      const update: NetworkUpdate = {
        name: attributes.name,
        description: attributes.description,
        admin_state_up: attributes.admin_state_up,
        shared: attributes.shared,
        router_external: attributes['router:external'],
        mtu: attributes.mtu,
        port_security_enabled: attributes.port_security_enabled,
      };
      const network = await updateNetwork(db, uuid, update);
      const [view] = await networkViews(db, [network], networkCaller(c.var.caller));
      return c.json({ network: view });
    },
  }),
  route({
    method: 'delete',
    path: '/network/v2.0/networks/:network_id',
    summary: 'Delete a network and its subnets (409 while ports use it)',
    responses: { 204: 'deleted' },
    handler: async (c) => {
      const db = c.var.db.$primary;
      const uuid = c.req.param('network_id') ?? '';
      await writableNetwork(db, c.var.caller, uuid, 'delete_network');
      await deleteNetwork(db, uuid);
      return c.body(null, 204);
    },
  }),
];
