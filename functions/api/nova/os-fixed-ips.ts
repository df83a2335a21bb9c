import * as v from 'valibot';
import { setFixedIpReserved, showFixedIp } from '../../network/nova-network/fixed-ips.ts';
import { authorize } from '../policy.ts';
import { route } from '../route.ts';
import { defineExtension } from './extension.ts';

// os-fixed-ips (nova-network, deprecated; functions/api/nova/legacy-network.ts): one fixed IP with the
// server holding it, and reserving an address so that no server is given it.

export const FixedIpAction = v.union(
  [v.strictObject({ reserve: v.null() }), v.strictObject({ unreserve: v.null() })],
  'No valid action specified: expected {"reserve": null} or {"unreserve": null}',
);

export const fixedIpsExtension = defineExtension({
  alias: 'os-fixed-ips',
  name: 'FixedIPs',
  description: 'nova-network fixed IPs (deprecated: use the networking service at /network/v2.0).',
  version: 1,
  core: false,
  history: [{ version: 1, change: 'show (with reserved), reserve, unreserve' }],
  routes: [
    route({
      method: 'get',
      path: '/v3/os-fixed-ips/:fixed_ip',
      summary: 'Show a fixed IP and the server holding it (admin, deprecated)',
      responses: { 200: 'fixed_ip: {address, cidr, hostname, host, reserved}' },
      handler: async (c) => {
        authorize(c.var.caller, 'compute_extension:fixed_ips');
        return c.json({ fixed_ip: await showFixedIp(c.var.db, c.req.param('fixed_ip') ?? '') });
      },
    }),
    route({
      method: 'post',
      path: '/v3/os-fixed-ips/:fixed_ip/action',
      summary: 'Reserve or unreserve a fixed IP (admin, deprecated)',
      body: FixedIpAction,
      responses: { 202: 'done' },
      handler: async (c, { body }) => {
        authorize(c.var.caller, 'compute_extension:fixed_ips');
        await setFixedIpReserved(c.var.db.$primary, c.req.param('fixed_ip') ?? '', 'reserve' in body);
        return c.body(null, 202);
      },
    }),
  ],
});
