import * as v from 'valibot';
import { IP_TEXT_LENGTH } from '../../../schema/tables/index.ts';
import { canonicalIp } from '../../network/ip-math.ts';
import {
  addLegacyNetworkToProject,
  associateLegacyNetwork,
  createLegacyNetwork,
  deleteLegacyNetwork,
  findLegacyNetworkRow,
  listLegacyNetworks,
  MAX_VLAN,
} from '../../network/nova-network/networks.ts';
import {
  type LegacyNetworkRow,
  projectMayUse,
  usableBy,
} from '../../network/nova-network/project-networks.ts';
import { NotFound } from '../../shared/errors.ts';
import type { Caller } from '../context.ts';
import { authorize } from '../policy.ts';
import { route } from '../route.ts';
import { defineExtension } from './extension.ts';

// os-networks (nova-network, deprecated; functions/api/nova/legacy-network.ts): the networks an admin
// creates, one per CIDR with its fixed IPs, and hands to projects. Members list the networks they may
// use, with the fields Havana showed non-admins.

const USER_FIELDS = [
  'cidr',
  'netmask',
  'gateway',
  'broadcast',
  'dns1',
  'dns2',
  'cidr_v6',
  'gateway_v6',
  'label',
  'netmask_v6',
] as const;

const ADMIN_FIELDS = [
  'injected',
  'bridge',
  'vlan',
  'vpn_public_address',
  'vpn_public_port',
  'vpn_private_address',
  'dhcp_start',
  'project_id',
  'host',
  'bridge_interface',
  'multi_host',
  'priority',
  'rxtx_base',
] as const;

export function networkView(caller: Caller, network: LegacyNetworkRow): Record<string, unknown> {
  const view: Record<string, unknown> = { id: network.uuid };
  for (const field of USER_FIELDS) view[field] = network[field];
  if (!caller.isAdmin) return view;
  for (const field of ADMIN_FIELDS) view[field] = network[field];
  return {
    ...view,
    created_at: network.created_at.toISOString(),
    updated_at: network.updated_at?.toISOString() ?? null,
    deleted_at: null,
    deleted: false,
  };
}

const Text = v.pipe(v.string(), v.maxLength(255));
const Address = v.pipe(
  v.string(),
  v.maxLength(IP_TEXT_LENGTH),
  v.check((text) => canonicalIp(text) !== undefined, 'must be an IP address'),
);
const Cidr = v.pipe(v.string(), v.minLength(1, 'must not be empty'), v.maxLength(IP_TEXT_LENGTH));
const Vlan = v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(MAX_VLAN));

export const CreateNetwork = v.strictObject({
  network: v.strictObject({
    label: v.pipe(v.string(), v.trim(), v.minLength(1, 'Network label is required'), v.maxLength(255)),
    cidr: Cidr,
    cidr_v6: v.optional(Cidr),
    gateway: v.optional(Address),
    gateway_v6: v.optional(Address),
    bridge: v.optional(Text),
    bridge_interface: v.optional(Text),
    multi_host: v.optional(v.boolean()),
    dns1: v.optional(Address),
    dns2: v.optional(Address),
    vlan: v.optional(Vlan),
    vlan_start: v.optional(Vlan),
    vpn_start: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(65535))),
    project_id: v.optional(Text),
    priority: v.optional(v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(2147483647))),
    rxtx_base: v.optional(v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(2147483647))),
  }),
});

export const AddNetwork = v.strictObject({ id: v.nullable(v.pipe(v.string(), v.maxLength(36))) });

// Havana's os-networks `disassociate` and os-networks-associate's actions: one per request.
export const NetworkAction = v.union(
  [
    v.strictObject({ disassociate: v.null() }),
    v.strictObject({ disassociate_host: v.null() }),
    v.strictObject({ disassociate_project: v.null() }),
    v.strictObject({ associate_host: v.pipe(v.string(), v.minLength(1), v.maxLength(255)) }),
  ],
  'expected one of {"disassociate": null}, {"disassociate_host": null}, {"disassociate_project": null}, {"associate_host": "<host>"}',
);

async function visibleNetwork(caller: Caller, db: Parameters<typeof findLegacyNetworkRow>[0], uuid: string) {
  const network = await findLegacyNetworkRow(db, uuid);
  if (!network || (!caller.isAdmin && !projectMayUse(network, caller.projectId)))
    throw new NotFound('Network not found');
  return network;
}

export const networksExtension = defineExtension({
  alias: 'os-networks',
  name: 'Networks',
  description: 'nova-network networks (deprecated: use the networking service at /network/v2.0).',
  version: 1,
  core: false,
  history: [
    {
      version: 1,
      change:
        'list, show, create (one network per CIDR, flat or VLAN), delete, add to a project (VLAN only), disassociate and associate actions',
    },
  ],
  routes: [
    route({
      method: 'get',
      path: '/v3/os-networks',
      summary: 'List networks: all for admins, those the project may use for members (deprecated)',
      responses: { 200: 'networks: [{id, label, cidr, ...}]' },
      handler: async (c) => {
        authorize(c.var.caller, 'compute_extension:networks:view');
        const caller = c.var.caller;
        const rows = await listLegacyNetworks(
          c.var.db,
          caller.isAdmin ? undefined : usableBy(caller.projectId),
        );
        return c.json({ networks: rows.map((row) => networkView(caller, row)) });
      },
    }),
    route({
      method: 'get',
      path: '/v3/os-networks/:network_id',
      summary: 'Show a network (deprecated)',
      responses: { 200: 'network: {id, label, cidr, ...}' },
      handler: async (c) => {
        authorize(c.var.caller, 'compute_extension:networks:view');
        const network = await visibleNetwork(c.var.caller, c.var.db, c.req.param('network_id') ?? '');
        return c.json({ network: networkView(c.var.caller, network) });
      },
    }),
    route({
      method: 'post',
      path: '/v3/os-networks',
      summary:
        'Create a network sized to its CIDR, with its fixed IPs; `vlan` or `vlan_start` makes it a VLAN network (admin, deprecated)',
      body: CreateNetwork,
      responses: { 200: 'network: {id, label, cidr, ...}' },
      handler: async (c, { body }) => {
        authorize(c.var.caller, 'compute_extension:networks');
        const network = await createLegacyNetwork(c.var.db.$primary, body.network);
        return c.json({ network: networkView(c.var.caller, network) });
      },
    }),
    route({
      method: 'delete',
      path: '/v3/os-networks/:network_id',
      summary: 'Delete a network no server uses and no project holds (admin, deprecated)',
      responses: { 202: 'deleted' },
      handler: async (c) => {
        authorize(c.var.caller, 'compute_extension:networks');
        await deleteLegacyNetwork(c.var.db.$primary, c.req.param('network_id') ?? '');
        return c.body(null, 202);
      },
    }),
    route({
      method: 'post',
      path: '/v3/os-networks/add',
      summary:
        "Give the caller's project a VLAN network: the one named, or any unassigned one (admin, deprecated; 501 without VLAN networks)",
      body: AddNetwork,
      responses: { 202: 'associated' },
      handler: async (c, { body }) => {
        authorize(c.var.caller, 'compute_extension:networks');
        await addLegacyNetworkToProject(c.var.db.$primary, c.var.caller.projectId, body.id);
        return c.body(null, 202);
      },
    }),
    route({
      method: 'post',
      path: '/v3/os-networks/:network_id/action',
      summary:
        'disassociate (host and project), disassociate_host, disassociate_project or associate_host (admin, deprecated)',
      body: NetworkAction,
      responses: { 202: 'done' },
      handler: async (c, { body }) => {
        const networkId = c.req.param('network_id') ?? '';
        const db = c.var.db.$primary;
        if ('disassociate' in body) {
          authorize(c.var.caller, 'compute_extension:networks');
          await associateLegacyNetwork(db, networkId, { host: null, project_id: null });
        } else {
          authorize(c.var.caller, 'compute_extension:networks_associate');
          await associateLegacyNetwork(
            db,
            networkId,
            'associate_host' in body
              ? { host: body.associate_host }
              : 'disassociate_host' in body
                ? { host: null }
                : { project_id: null },
          );
        }
        return c.body(null, 202);
      },
    }),
  ],
});
