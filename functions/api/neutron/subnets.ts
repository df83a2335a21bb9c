import { and, eq } from 'drizzle-orm';
import * as v from 'valibot';
import type { PrimaryDb } from '../../../schema/db.ts';
import { neutronNetworks, neutronSubnets } from '../../../schema/tables/index.ts';
import { subnetNotFound } from '../../network/errors.ts';
import type { IpVersion } from '../../network/ip-math.ts';
import { findNetwork, ownsNetwork } from '../../network/networks.ts';
import { IPV6_MODES } from '../../network/subnet-settings.ts';
import {
  createSubnet,
  deleteSubnet,
  findSubnet,
  type SubnetCreate,
  type SubnetRow,
  subnetView,
  subnetVisibleTo,
  updateSubnet,
} from '../../network/subnets.ts';
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
  ResourceId,
  readCreateBody,
  requestedFields,
} from './attributes.ts';
import {
  type CollectionSpec,
  fetchLimit,
  filterConditions,
  listResponse,
  markerCondition,
  orderBy,
  parseListQuery,
  selectFields,
} from './list-query.ts';

// /network/v2.0/subnets. A subnet is added to a network by the network's owner or an admin; the
// subnets of shared and external networks are visible to every project, and writable only by them.

const IpText = v.pipe(v.string(), v.maxLength(64));
const AllocationPool = neutronObject({ start: IpText, end: IpText });
const HostRoute = neutronObject({ destination: IpText, nexthop: IpText });
const Ipv6Mode = v.nullable(v.picklist(IPV6_MODES, `must be one of ${IPV6_MODES.join(', ')} or null`));

const UpdatableAttributes = {
  name: v.optional(Name),
  description: v.optional(Description),
  gateway_ip: v.optional(v.nullable(IpText)),
  allocation_pools: v.optional(v.array(AllocationPool)),
  dns_nameservers: v.optional(v.array(IpText)),
  host_routes: v.optional(v.array(HostRoute)),
  enable_dhcp: v.optional(NeutronBoolean),
};

const CreateSubnetItem = neutronObject({
  ...UpdatableAttributes,
  ...OwnerAttributes,
  network_id: ResourceId,
  ip_version: v.pipe(
    NeutronInteger,
    v.check((version) => version === 4 || version === 6, 'must be 4 or 6'),
    v.transform((version) => version as IpVersion),
  ),
  cidr: IpText,
  ipv6_address_mode: v.optional(Ipv6Mode),
  ipv6_ra_mode: v.optional(Ipv6Mode),
  // Subnet pools, routed segments and service types are not provided: only their empty values pass.
  subnetpool_id: v.optional(v.null('subnet pools are not supported')),
  segment_id: v.optional(v.null('segments are not supported')),
  service_types: v.optional(v.pipe(v.array(v.string()), v.maxLength(0, 'service types are not supported'))),
});

const UpdateSubnetBody = v.strictObject({ subnet: neutronObject(UpdatableAttributes) });

export const SUBNETS_SPEC: CollectionSpec = {
  collection: 'subnets',
  idColumn: neutronSubnets.uuid,
  attributes: {
    id: { type: 'string', column: neutronSubnets.uuid, sortable: true },
    name: { type: 'string', column: neutronSubnets.name, sortable: true },
    description: { type: 'string', column: neutronSubnets.description, sortable: true },
    project_id: { type: 'string', column: neutronSubnets.project_id, sortable: true },
    tenant_id: { type: 'string', column: neutronSubnets.project_id, sortable: true },
    network_id: { type: 'string', column: neutronSubnets.network_uuid, sortable: true },
    ip_version: { type: 'integer', column: neutronSubnets.ip_version, sortable: true },
    cidr: { type: 'string', column: neutronSubnets.cidr, sortable: true },
    gateway_ip: { type: 'string', column: neutronSubnets.gateway_ip },
    enable_dhcp: { type: 'boolean', column: neutronSubnets.enable_dhcp, sortable: true },
    ipv6_address_mode: { type: 'string', column: neutronSubnets.ipv6_address_mode },
    ipv6_ra_mode: { type: 'string', column: neutronSubnets.ipv6_ra_mode },
    revision_number: { type: 'integer', column: neutronSubnets.revision_number, sortable: true },
  },
};

/** Whether `caller` may change the subnet: an admin, the owner of its network, or its own owner. */
async function checkSubnetWriter(db: PrimaryDb, caller: Caller, subnet: SubnetRow, rule: string) {
  if (caller.isAdmin || subnet.project_id === caller.projectId) return;
  const [network] = await db
    .select({ project_id: neutronNetworks.project_id })
    .from(neutronNetworks)
    .where(eq(neutronNetworks.uuid, subnet.network_uuid));
  if (network?.project_id !== caller.projectId) throw policyNotAuthorized(rule);
}

async function toSubnetCreate(
  db: PrimaryDb,
  caller: Caller,
  item: v.InferOutput<typeof CreateSubnetItem>,
): Promise<SubnetCreate> {
  const network = await findNetwork(db, networkCaller(caller), item.network_id);
  if (!ownsNetwork(networkCaller(caller), network)) throw policyNotAuthorized('create_subnet');
  return {
    network_uuid: network.uuid,
    project_id: owningProject(caller, item),
    ip_version: item.ip_version,
    cidr: item.cidr,
    name: item.name,
    description: item.description,
    gateway_ip: item.gateway_ip,
    allocation_pools: item.allocation_pools,
    dns_nameservers: item.dns_nameservers,
    host_routes: item.host_routes,
    enable_dhcp: item.enable_dhcp,
    ipv6_address_mode: item.ipv6_address_mode,
    ipv6_ra_mode: item.ipv6_ra_mode,
  };
}

export const subnetsRoutes: Route[] = [
  route({
    method: 'get',
    path: '/network/v2.0/subnets',
    summary: 'List the subnets the caller sees',
    responses: { 200: 'subnets, subnets_links when paged' },
    handler: async (c) => {
      const request = parseListQuery(c, SUBNETS_SPEC);
      const db = c.var.db;
      const visible = subnetVisibleTo(db, networkCaller(c.var.caller));
      const afterMarker = await markerCondition(
        db,
        SUBNETS_SPEC,
        request,
        neutronSubnets,
        visible,
        subnetNotFound,
      );
      const query = db
        .select()
        .from(neutronSubnets)
        .where(and(visible, ...filterConditions(SUBNETS_SPEC, request), afterMarker))
        .orderBy(...orderBy(SUBNETS_SPEC, request))
        .$dynamic();
      const limit = fetchLimit(request);
      const rows = await (limit === undefined ? query : query.limit(limit));
      return listResponse(c, SUBNETS_SPEC, request, rows.map(subnetView));
    },
  }),
  route({
    method: 'get',
    path: '/network/v2.0/subnets/:subnet_id',
    summary: 'Show a subnet',
    responses: { 200: 'subnet' },
    handler: async (c) => {
      const subnet = await findSubnet(c.var.db, networkCaller(c.var.caller), c.req.param('subnet_id') ?? '');
      return c.json({ subnet: selectFields(subnetView(subnet), requestedFields(c)) });
    },
  }),
  route({
    method: 'post',
    path: '/network/v2.0/subnets',
    summary: 'Create a subnet, or several at once (all or nothing)',
    responses: { 201: 'subnet, or subnets for a bulk create' },
    handler: async (c) => {
      const { items, bulk } = await readCreateBody(c, 'subnet', 'subnets', CreateSubnetItem);
      const db = c.var.db.$primary;
      const made = await createAll(
        items,
        async (item) => createSubnet(db, await toSubnetCreate(db, c.var.caller, item)),
        (row) => deleteSubnet(db, row.uuid),
      );
      const views = made.map(subnetView);
      return c.json(bulk ? { subnets: views } : { subnet: views[0] }, 201);
    },
  }),
  route({
    method: 'put',
    path: '/network/v2.0/subnets/:subnet_id',
    summary: 'Update a subnet',
    body: UpdateSubnetBody,
    responses: { 200: 'subnet' },
    handler: async (c, { body }) => {
      const db = c.var.db.$primary;
      const subnet = await findSubnet(db, networkCaller(c.var.caller), c.req.param('subnet_id') ?? '');
      await checkSubnetWriter(db, c.var.caller, subnet, 'update_subnet');
      return c.json({ subnet: subnetView(await updateSubnet(db, subnet.uuid, body.subnet)) });
    },
  }),
  route({
    method: 'delete',
    path: '/network/v2.0/subnets/:subnet_id',
    summary: 'Delete a subnet (409 while ports hold addresses on it)',
    responses: { 204: 'deleted' },
    handler: async (c) => {
      const db = c.var.db.$primary;
      const subnet = await findSubnet(db, networkCaller(c.var.caller), c.req.param('subnet_id') ?? '');
      await checkSubnetWriter(db, c.var.caller, subnet, 'delete_subnet');
      await deleteSubnet(db, subnet.uuid);
      return c.body(null, 204);
    },
  }),
];
