import { floatingIpPools } from '../../network/nova-network/floating-ips.ts';
import { authorize } from '../policy.ts';
import { route } from '../route.ts';
import { defineExtension } from './extension.ts';

// os-floating-ip-pools (nova-network, deprecated; functions/api/nova/legacy-network.ts): the pools
// that have floating IPs.

export const floatingIpPoolsExtension = defineExtension({
  alias: 'os-floating-ip-pools',
  name: 'FloatingIpPools',
  description: 'nova-network floating IP pools (deprecated: use the networking service at /network/v2.0).',
  version: 1,
  core: false,
  history: [{ version: 1, change: 'list' }],
  routes: [
    route({
      method: 'get',
      path: '/v3/os-floating-ip-pools',
      summary: 'List the floating IP pools (deprecated)',
      responses: { 200: 'floating_ip_pools: [{name}]' },
      handler: async (c) => {
        authorize(c.var.caller, 'compute_extension:floating_ip_pools');
        const pools = await floatingIpPools(c.var.db);
        return c.json({ floating_ip_pools: pools.map((name) => ({ name })) });
      },
    }),
  ],
});
