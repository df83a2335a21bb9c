import { and, eq } from 'drizzle-orm';
import type { Context } from 'hono';
import { instances } from '../../../schema/tables/index.ts';
import { NotFound } from '../../shared/errors.ts';
import type { AppEnv } from '../context.ts';
import { authorize } from '../policy.ts';
import { route } from '../route.ts';
import { defineExtension, type Extension } from './extension.ts';

// Server addresses by network label. No networking service assigns addresses yet, so every server
// has none: the list is empty and any label is unknown.
type Addresses = Record<string, Array<{ addr: string; version: number; type: string; mac_addr: string }>>;

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
  return {};
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
