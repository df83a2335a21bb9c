import { FixedIpAction, fixedIpsExtension } from '../nova/os-fixed-ips.ts';
import { defineFace, translatedRoute, v3Route } from './face.ts';
import { atLeast, removedAt } from './microversion.ts';

// os-fixed-ips (nova-network, deprecated): v3's routes until 2.35, gone from 2.36. The fixed IP shows
// whether it is reserved from 2.4.
const FIXED_IPS = '/v3/os-fixed-ips';

export const fixedIpsFace = defineFace({
  alias: 'os-fixed-ips',
  routes: [
    translatedRoute({
      method: 'get',
      path: '/v2.1/os-fixed-ips/:fixed_ip',
      summary: 'Show a fixed IP (admin; before 2.36; deprecated)',
      target: v3Route(fixedIpsExtension, 'get', `${FIXED_IPS}/:fixed_ip`),
      responses: { 200: 'fixed_ip: {address, cidr, hostname, host} (and reserved from 2.4)' },
      response: (c, body, status) => {
        if (status !== 200 || atLeast(c, 4)) return { body };
        const { reserved: _hidden, ...fixedIp } = (body as { fixed_ip: Record<string, unknown> }).fixed_ip;
        return { body: { fixed_ip: fixedIp } };
      },
    }),
    translatedRoute({
      method: 'post',
      path: '/v2.1/os-fixed-ips/:fixed_ip/action',
      summary: 'Reserve or unreserve a fixed IP (admin; before 2.36; deprecated)',
      body: FixedIpAction,
      target: v3Route(fixedIpsExtension, 'post', `${FIXED_IPS}/:fixed_ip/action`),
      responses: { 202: 'done' },
    }),
  ].map((served) => removedAt(36, served)),
  microversions: [
    {
      minor: 4,
      change: 'the fixed IP shows whether it is reserved',
      routes: ['/v2.1/os-fixed-ips/{fixed_ip}'],
    },
    {
      minor: 36,
      change: 'every os-fixed-ips route is gone (network proxy APIs)',
      routes: ['/v2.1/os-fixed-ips/{fixed_ip}', '/v2.1/os-fixed-ips/{fixed_ip}/action'],
    },
  ],
});
