import * as v from 'valibot';
import { neutronFloatingIps } from '../../../schema/tables/index.ts';
import {
  createFloatingIp,
  deleteFloatingIp,
  floatingIpViews,
  showFloatingIp,
  updateFloatingIp,
} from '../../network/floating-ips.ts';
import { type Route, route } from '../route.ts';
import { Description, OwnerAttributes, owningProject, ResourceId } from './attributes.ts';
import { ownedBy, readListPage } from './list-page.ts';
import { type CollectionSpec, listResponse, parseListQuery } from './list-query.ts';
import { IpText, resourceBody, showBody } from './resource-input.ts';

// /network/v2.0/floatingips (functions/network/floating-ips.ts), as `openstack floating ip ...` drives
// them. DNS names, QoS policies and port forwardings are not served: their attributes are accepted
// only empty.

const FLOATING_IPS: CollectionSpec = {
  collection: 'floatingips',
  idColumn: neutronFloatingIps.uuid,
  attributes: {
    id: { type: 'string', column: neutronFloatingIps.uuid, sortable: true },
    floating_ip_address: { type: 'string', column: neutronFloatingIps.floating_ip_address, sortable: true },
    floating_network_id: { type: 'string', column: neutronFloatingIps.floating_network_uuid, sortable: true },
    router_id: { type: 'string', column: neutronFloatingIps.router_uuid },
    port_id: { type: 'string', column: neutronFloatingIps.fixed_port_uuid },
    fixed_ip_address: { type: 'string', column: neutronFloatingIps.fixed_ip_address },
    status: { type: 'string', column: neutronFloatingIps.status, sortable: true },
    description: { type: 'string', column: neutronFloatingIps.description, sortable: true },
    project_id: { type: 'string', column: neutronFloatingIps.project_id, sortable: true },
    tenant_id: { type: 'string', column: neutronFloatingIps.project_id, sortable: true },
    revision_number: { type: 'integer', column: neutronFloatingIps.revision_number, sortable: true },
  },
};

const NoDns = v.optional(v.literal('', 'DNS names for floating IPs are not supported'));
const NoQos = v.optional(v.null('QoS policies are not supported'));

const CreateFloatingIp = resourceBody('floatingip', {
  floating_network_id: ResourceId,
  floating_ip_address: v.optional(IpText),
  subnet_id: v.optional(ResourceId),
  port_id: v.optional(v.nullable(ResourceId)),
  fixed_ip_address: v.optional(v.nullable(IpText)),
  description: v.optional(Description),
  dns_name: NoDns,
  dns_domain: NoDns,
  qos_policy_id: NoQos,
  ...OwnerAttributes,
});

const UpdateFloatingIp = resourceBody('floatingip', {
  port_id: v.optional(v.nullable(ResourceId)),
  fixed_ip_address: v.optional(v.nullable(IpText)),
  description: v.optional(Description),
  qos_policy_id: NoQos,
});

const FLOATING_IP_PATH = '/network/v2.0/floatingips/:floatingip_id';

export const floatingipsRoutes: Route[] = [
  route({
    method: 'get',
    path: '/network/v2.0/floatingips',
    summary: 'List floating IPs',
    responses: { 200: 'floatingips (filters, fields, sorting, paging)' },
    handler: async (c) => {
      const request = parseListQuery(c, FLOATING_IPS);
      const rows = await readListPage(
        c.var.db,
        neutronFloatingIps,
        FLOATING_IPS,
        request,
        ownedBy(c.var.caller, neutronFloatingIps.project_id),
      );
      return listResponse(c, FLOATING_IPS, request, await floatingIpViews(c.var.db, rows));
    },
  }),
  route({
    method: 'post',
    path: '/network/v2.0/floatingips',
    summary: 'Allocate a floating IP on an external network, associated with a port when one is given',
    body: CreateFloatingIp,
    responses: { 201: 'floatingip' },
    handler: async (c, { body }) => {
      const input = body.floatingip;
      const floatingip = await createFloatingIp(
        c.var.db.$primary,
        {
          project_id: owningProject(c.var.caller, input),
          floating_network_id: input.floating_network_id,
          floating_ip_address: input.floating_ip_address,
          subnet_id: input.subnet_id,
          description: input.description,
          port_id: input.port_id ?? undefined,
          fixed_ip_address: input.fixed_ip_address ?? undefined,
        },
        c.var.caller,
      );
      return c.json({ floatingip }, 201);
    },
  }),
  route({
    method: 'get',
    path: FLOATING_IP_PATH,
    summary: 'Show a floating IP',
    responses: { 200: 'floatingip' },
    handler: async (c) => {
      const floatingip = await showFloatingIp(c.var.db, c.req.param('floatingip_id') ?? '', c.var.caller);
      return c.json(showBody(c, 'floatingip', floatingip));
    },
  }),
  route({
    method: 'put',
    path: FLOATING_IP_PATH,
    summary: 'Associate a floating IP with a port (port_id) or disassociate it (port_id null)',
    body: UpdateFloatingIp,
    responses: { 200: 'floatingip' },
    handler: async (c, { body }) => {
      const change = body.floatingip;
      const floatingip = await updateFloatingIp(
        c.var.db.$primary,
        c.req.param('floatingip_id') ?? '',
        c.var.caller,
        {
          port_id: change.port_id,
          fixed_ip_address: change.fixed_ip_address ?? undefined,
          description: change.description,
        },
      );
      return c.json({ floatingip });
    },
  }),
  route({
    method: 'delete',
    path: FLOATING_IP_PATH,
    summary: 'Release a floating IP (its address goes back to the pool)',
    responses: { 204: 'nothing' },
    handler: async (c) => {
      await deleteFloatingIp(c.var.db.$primary, c.req.param('floatingip_id') ?? '', c.var.caller);
      return c.body(null, 204);
    },
  }),
];
