import { and, eq } from 'drizzle-orm';
import type { Context } from 'hono';
import type { NetworkInfo } from '../../../schema/objects/network-info.ts';
import { instances } from '../../../schema/tables/index.ts';
import { loadNetworkInfo } from '../../network/instance-cache.ts';
import { NotFound } from '../../shared/errors.ts';
import type { AppEnv } from '../context.ts';
import { authorize } from '../policy.ts';
import { route } from '../route.ts';
import { defineExtension, type Extension } from './extension.ts';

// Server addresses by network label, from the instance network cache (what the server's network API
// last wrote there): each fixed address, then the floating addresses on it.
export interface ServerAddress {
  version: 4 | 6;
  addr: string;
  type: 'fixed' | 'floating';
  mac_addr: string;
}
export type Addresses = Record<string, ServerAddress[]>;

/** The server view's `addresses` (and `/ips`) from its network info. */
export function addressesOf(info: NetworkInfo): Addresses {
  const addresses: Addresses = {};
  for (const vif of info) {
    const entries = addresses[vif.network.label] ?? [];
    addresses[vif.network.label] = entries;
    for (const subnet of vif.network.subnets) {
      for (const ip of subnet.ips) {
        entries.push({ version: ip.version, addr: ip.address, type: 'fixed', mac_addr: vif.address });
        for (const floating of ip.floating_ips) {
          const version = floating.address.includes(':') ? 6 : 4;
          entries.push({ version, addr: floating.address, type: 'floating', mac_addr: vif.address });
        }
      }
    }
  }
  return addresses;
}

async function serverAddresses(c: Context<AppEnv>): Promise<Addresses> {
  authorize(c.var.caller, 'compute_extension:ips');
  const uuid = c.req.param('server_id') ?? '';
  const caller = c.var.caller;
  const [row] = await c.var.db
    .select({ uuid: instances.uuid })
    .from(instances)
    .where(
      and(
        eq(instances.uuid, uuid),
        eq(instances.deleted, 0),
        caller.isAdmin ? undefined : eq(instances.project_id, caller.projectId),
      ),
    );
  if (!row) throw new NotFound(`Instance ${uuid} could not be found.`);
  return addressesOf(await loadNetworkInfo(c.var.db, uuid));
}

export const ipsExtension: Extension = defineExtension({
  alias: 'ips',
  name: 'ips',
  description: 'Server addresses, by network label.',
  version: 1,
  core: true,
  history: [{ version: 1, change: 'Havana v3 server ips' }],
  routes: [
    route({
      method: 'get',
      path: '/v3/servers/:server_id/ips',
      summary: "List a server's addresses",
      responses: { 200: 'addresses: {network_label: [address]}' },
      handler: async (c) => c.json({ addresses: await serverAddresses(c) }),
    }),
    route({
      method: 'get',
      path: '/v3/servers/:server_id/ips/:network_label',
      summary: "List a server's addresses on one network",
      responses: { 200: '{network_label: [address]}' },
      handler: async (c) => {
        const label = c.req.param('network_label') ?? '';
        const addresses = (await serverAddresses(c))[label];
        if (!addresses) throw new NotFound(`Instance is not a member of specified network ${label}`);
        return c.json({ [label]: addresses });
      },
    }),
  ],
});
