import * as v from 'valibot';
import { neutronRouters } from '../../../schema/tables/index.ts';
import {
  addRouterInterface,
  createRouter,
  deleteRouter,
  type RouterGatewayRequest,
  removeRouterInterface,
  routerViews,
  showRouter,
  updateRouter,
} from '../../network/routers.ts';
import { type Route, route } from '../route.ts';
import {
  Description,
  Name,
  neutronObject,
  OwnerAttributes,
  owningProject,
  ResourceId,
} from './attributes.ts';
import { ownedBy, readListPage } from './list-page.ts';
import { type CollectionSpec, listResponse, parseListQuery } from './list-query.ts';
import { IpText, resourceBody, showBody } from './resource-input.ts';

// /network/v2.0/routers: Neutron's L3 routers (functions/network/routers.ts), as `openstack router ...`
// drives them. Extra routes, distributed and HA routers and availability zones are not served: their
// attributes are accepted only with the values that ask for nothing.

const ROUTERS: CollectionSpec = {
  collection: 'routers',
  idColumn: neutronRouters.uuid,
  attributes: {
    id: { type: 'string', column: neutronRouters.uuid, sortable: true },
    name: { type: 'string', column: neutronRouters.name, sortable: true },
    description: { type: 'string', column: neutronRouters.description, sortable: true },
    admin_state_up: { type: 'boolean', column: neutronRouters.admin_state_up, sortable: true },
    status: { type: 'string', column: neutronRouters.status, sortable: true },
    project_id: { type: 'string', column: neutronRouters.project_id, sortable: true },
    tenant_id: { type: 'string', column: neutronRouters.project_id, sortable: true },
    revision_number: { type: 'integer', column: neutronRouters.revision_number, sortable: true },
  },
};

const GatewayFixedIp = neutronObject({ subnet_id: v.optional(ResourceId), ip_address: v.optional(IpText) });

/** `{}` and null both clear the gateway (`openstack router unset --external-gateway` sends `{}`). */
const GatewayChange = v.nullable(
  v.pipe(
    neutronObject({
      network_id: v.optional(ResourceId),
      enable_snat: v.optional(v.boolean()),
      external_fixed_ips: v.optional(v.array(GatewayFixedIp)),
      qos_policy_id: v.optional(v.null('QoS policies are not supported')),
    }),
    v.check(
      (info) => info.network_id !== undefined || Object.keys(info).length === 0,
      'network_id is required to set a gateway',
    ),
    v.transform(({ network_id: networkId, enable_snat, external_fixed_ips }): RouterGatewayRequest | null =>
      networkId === undefined ? null : { network_id: networkId, enable_snat, external_fixed_ips },
    ),
  ),
);

const NoRoutes = v.pipe(v.array(v.unknown()), v.length(0, 'extra routes are not supported'));
const NoZones = v.pipe(v.array(v.string()), v.length(0, 'router availability zones are not supported'));

const CreateRouter = resourceBody('router', {
  name: v.optional(Name),
  description: v.optional(Description),
  admin_state_up: v.optional(v.boolean()),
  external_gateway_info: v.optional(GatewayChange),
  availability_zone_hints: v.optional(NoZones),
  distributed: v.optional(v.literal(false, 'distributed routers are not supported')),
  ha: v.optional(v.literal(false, 'HA routers are not supported')),
  ...OwnerAttributes,
});

const UpdateRouter = resourceBody('router', {
  name: v.optional(Name),
  description: v.optional(Description),
  admin_state_up: v.optional(v.boolean()),
  external_gateway_info: v.optional(GatewayChange),
  routes: v.optional(NoRoutes),
});

const InterfaceBody = neutronObject({ subnet_id: v.optional(ResourceId), port_id: v.optional(ResourceId) });

const ROUTER_PATH = '/network/v2.0/routers/:router_id';

export const routersRoutes: Route[] = [
  route({
    method: 'get',
    path: '/network/v2.0/routers',
    summary: 'List routers',
    responses: { 200: 'routers (filters, fields, sorting, paging)' },
    handler: async (c) => {
      const request = parseListQuery(c, ROUTERS);
      const rows = await readListPage(
        c.var.db,
        neutronRouters,
        ROUTERS,
        request,
        ownedBy(c.var.caller, neutronRouters.project_id),
      );
      return listResponse(c, ROUTERS, request, await routerViews(c.var.db, rows));
    },
  }),
  route({
    method: 'post',
    path: '/network/v2.0/routers',
    summary: 'Create a router, with its external gateway when given',
    body: CreateRouter,
    responses: { 201: 'router' },
    handler: async (c, { body }) => {
      const input = body.router;
      const router = await createRouter(c.var.db.$primary, {
        project_id: owningProject(c.var.caller, input),
        name: input.name,
        description: input.description,
        admin_state_up: input.admin_state_up,
        external_gateway_info: input.external_gateway_info ?? undefined,
      });
      return c.json({ router }, 201);
    },
  }),
  route({
    method: 'get',
    path: ROUTER_PATH,
    summary: 'Show a router',
    responses: { 200: 'router' },
    handler: async (c) => {
      const router = await showRouter(c.var.db, c.req.param('router_id') ?? '', c.var.caller);
      return c.json(showBody(c, 'router', router));
    },
  }),
  route({
    method: 'put',
    path: ROUTER_PATH,
    summary: 'Update a router: name, description, state, external gateway (set, change or clear)',
    body: UpdateRouter,
    responses: { 200: 'router' },
    handler: async (c, { body }) => {
      const change = body.router;
      const router = await updateRouter(c.var.db.$primary, c.req.param('router_id') ?? '', c.var.caller, {
        name: change.name,
        description: change.description,
        admin_state_up: change.admin_state_up,
        ...(change.external_gateway_info === undefined
          ? {}
          : { external_gateway_info: change.external_gateway_info as RouterGatewayRequest | null }),
      });
      return c.json({ router });
    },
  }),
  route({
    method: 'delete',
    path: ROUTER_PATH,
    summary: 'Delete a router without interfaces (its gateway goes with it)',
    responses: { 204: 'nothing' },
    handler: async (c) => {
      await deleteRouter(c.var.db.$primary, c.req.param('router_id') ?? '', c.var.caller);
      return c.body(null, 204);
    },
  }),
  route({
    method: 'put',
    path: `${ROUTER_PATH}/add_router_interface`,
    summary: 'Add an interface to a router, on a subnet (its gateway address) or with a port',
    body: InterfaceBody,
    responses: { 200: 'the interface: router id, port_id, subnet_id(s), network_id' },
    handler: async (c, { body }) =>
      c.json(await addRouterInterface(c.var.db.$primary, c.req.param('router_id') ?? '', c.var.caller, body)),
  }),
  route({
    method: 'put',
    path: `${ROUTER_PATH}/remove_router_interface`,
    summary: 'Remove an interface from a router, by subnet or by port',
    body: InterfaceBody,
    responses: { 200: 'the interface removed' },
    handler: async (c, { body }) =>
      c.json(
        await removeRouterInterface(c.var.db.$primary, c.req.param('router_id') ?? '', c.var.caller, body),
      ),
  }),
];
