import * as v from 'valibot';
import { IP_TEXT_LENGTH } from '../../../schema/tables/index.ts';
import {
  createFloatingRange,
  DEFAULT_INTERFACE,
  DEFAULT_POOL,
  deleteFloatingRange,
  type FloatingIpDetail,
  listAllFloatingIps,
} from '../../network/nova-network/floating-ips.ts';
import { authorize } from '../policy.ts';
import { route } from '../route.ts';
import { defineExtension } from './extension.ts';

// os-floating-ips-bulk (nova-network, deprecated; functions/api/nova/legacy-network.ts): the admin
// adds ranges of floating IPs to pools and removes them, and lists every floating IP.

const IpRange = v.pipe(v.string(), v.minLength(1, 'must not be empty'), v.maxLength(IP_TEXT_LENGTH));
const Name = v.pipe(v.string(), v.minLength(1, 'must not be empty'), v.maxLength(255));

export const BulkCreate = v.strictObject({
  floating_ips_bulk_create: v.strictObject({
    ip_range: IpRange,
    pool: v.optional(Name),
    interface: v.optional(Name),
  }),
});

export const BulkDelete = v.strictObject({ ip_range: IpRange });

function infoView(floating: FloatingIpDetail) {
  return {
    address: floating.address,
    instance_uuid: floating.instance_uuid,
    interface: floating.interface,
    pool: floating.pool,
    project_id: floating.project_id,
  };
}

export const floatingIpsBulkExtension = defineExtension({
  alias: 'os-floating-ips-bulk',
  name: 'FloatingIpsBulk',
  description: 'nova-network floating IP ranges (deprecated: use the networking service at /network/v2.0).',
  version: 1,
  core: false,
  history: [{ version: 1, change: 'list, list by host, create a range, delete a range' }],
  routes: [
    route({
      method: 'get',
      path: '/v3/os-floating-ips-bulk',
      summary: 'List every floating IP (admin, deprecated)',
      responses: { 200: 'floating_ip_info: [{address, instance_uuid, interface, pool, project_id}]' },
      handler: async (c) => {
        authorize(c.var.caller, 'compute_extension:floating_ips_bulk');
        return c.json({ floating_ip_info: (await listAllFloatingIps(c.var.db)).map(infoView) });
      },
    }),
    route({
      method: 'get',
      path: '/v3/os-floating-ips-bulk/:host',
      summary: 'List the floating IPs on a host (admin, deprecated)',
      responses: { 200: 'floating_ip_info: [{address, instance_uuid, interface, pool, project_id}]' },
      handler: async (c) => {
        authorize(c.var.caller, 'compute_extension:floating_ips_bulk');
        const rows = await listAllFloatingIps(c.var.db, c.req.param('host') ?? '');
        return c.json({ floating_ip_info: rows.map(infoView) });
      },
    }),
    route({
      method: 'post',
      path: '/v3/os-floating-ips-bulk',
      summary: `Add a range (an address, or a CIDR's hosts, /16 at most) to a pool (default ${DEFAULT_POOL}) (admin, deprecated)`,
      body: BulkCreate,
      responses: { 200: 'floating_ips_bulk_create: {ip_range, pool, interface}' },
      handler: async (c, { body }) => {
        authorize(c.var.caller, 'compute_extension:floating_ips_bulk');
        const range = {
          ip_range: body.floating_ips_bulk_create.ip_range,
          pool: body.floating_ips_bulk_create.pool ?? DEFAULT_POOL,
          interface: body.floating_ips_bulk_create.interface ?? DEFAULT_INTERFACE,
        };
        await createFloatingRange(c.var.db.$primary, range);
        return c.json({ floating_ips_bulk_create: range });
      },
    }),
    route({
      method: 'put',
      path: '/v3/os-floating-ips-bulk/delete',
      summary: 'Remove a range of floating IPs; 409 while one of them is on a server (admin, deprecated)',
      body: BulkDelete,
      responses: { 200: 'floating_ips_bulk_delete: <ip_range>' },
      handler: async (c, { body }) => {
        authorize(c.var.caller, 'compute_extension:floating_ips_bulk');
        await deleteFloatingRange(c.var.db.$primary, body.ip_range);
        return c.json({ floating_ips_bulk_delete: body.ip_range });
      },
    }),
  ],
});
