import { BulkCreate, BulkDelete, floatingIpsBulkExtension } from '../nova/os-floating-ips-bulk.ts';
import { defineFace, translatedRoute, v3Route } from './face.ts';
import { removedAt } from './microversion.ts';

// os-floating-ips-bulk (nova-network, deprecated): v3's routes until 2.35, gone from 2.36.
const BULK = '/v3/os-floating-ips-bulk';

export const floatingIpsBulkFace = defineFace({
  alias: 'os-floating-ips-bulk',
  routes: [
    translatedRoute({
      method: 'get',
      path: '/v2.1/os-floating-ips-bulk',
      summary: 'List every floating IP (admin; before 2.36; deprecated)',
      target: v3Route(floatingIpsBulkExtension, 'get', BULK),
      responses: { 200: 'floating_ip_info: [{address, instance_uuid, interface, pool, project_id}]' },
    }),
    translatedRoute({
      method: 'get',
      path: '/v2.1/os-floating-ips-bulk/:host',
      summary: 'List the floating IPs on a host (admin; before 2.36; deprecated)',
      target: v3Route(floatingIpsBulkExtension, 'get', `${BULK}/:host`),
      responses: { 200: 'floating_ip_info: [{address, instance_uuid, interface, pool, project_id}]' },
    }),
    translatedRoute({
      method: 'post',
      path: '/v2.1/os-floating-ips-bulk',
      summary: 'Add a range of floating IPs to a pool (admin; before 2.36; deprecated)',
      body: BulkCreate,
      target: v3Route(floatingIpsBulkExtension, 'post', BULK),
      responses: { 200: 'floating_ips_bulk_create: {ip_range, pool, interface}' },
    }),
    translatedRoute({
      method: 'put',
      path: '/v2.1/os-floating-ips-bulk/delete',
      summary: 'Remove a range of floating IPs (admin; before 2.36; deprecated)',
      body: BulkDelete,
      target: v3Route(floatingIpsBulkExtension, 'put', `${BULK}/delete`),
      responses: { 200: 'floating_ips_bulk_delete: <ip_range>' },
    }),
  ].map((served) => removedAt(36, served)),
  microversions: [
    {
      minor: 36,
      change: 'every os-floating-ips-bulk route is gone (network proxy APIs)',
      routes: ['/v2.1/os-floating-ips-bulk', '/v2.1/os-floating-ips-bulk/{host}'],
    },
  ],
});
