import { floatingIpPoolsExtension } from '../nova/os-floating-ip-pools.ts';
import { defineFace, translatedRoute, v3Route } from './face.ts';
import { removedAt } from './microversion.ts';

// os-floating-ip-pools (nova-network, deprecated): v3's list until 2.35, gone from 2.36.
export const floatingIpPoolsFace = defineFace({
  alias: 'os-floating-ip-pools',
  routes: [
    removedAt(
      36,
      translatedRoute({
        method: 'get',
        path: '/v2.1/os-floating-ip-pools',
        summary: 'List the floating IP pools (before 2.36; deprecated)',
        target: v3Route(floatingIpPoolsExtension, 'get', '/v3/os-floating-ip-pools'),
        responses: { 200: 'floating_ip_pools: [{name}]' },
      }),
    ),
  ],
  microversions: [
    {
      minor: 36,
      change: 'os-floating-ip-pools is gone (network proxy APIs)',
      routes: ['/v2.1/os-floating-ip-pools'],
    },
  ],
});
