import { and, asc, eq } from 'drizzle-orm';
import type { Context } from 'hono';
import { flavors } from '../../../schema/tables/index.ts';
import { NotFound } from '../../shared/errors.ts';
import type { AppEnv } from '../context.ts';
import { resourceLinks } from '../links.ts';
import { route } from '../route.ts';
import { defineExtension } from './extension.ts';

type FlavorRow = typeof flavors.$inferSelect;

function flavorDetail(c: Context<AppEnv>, flavor: FlavorRow) {
  return {
    id: flavor.flavorid,
    name: flavor.name,
    ram: flavor.memory_mb,
    vcpus: flavor.vcpus,
    disk: flavor.root_gb,
    // Havana shows zero ephemeral/swap as "" rather than 0.
    ephemeral: flavor.ephemeral_gb || '',
    swap: flavor.swap || '',
    disabled: flavor.disabled,
    rxtx_factor: flavor.rxtx_factor,
    'os-flavor-access:is_public': flavor.is_public,
    links: resourceLinks(c, 'flavors', flavor.flavorid),
  };
}

async function liveFlavors(c: Context<AppEnv>) {
  return c.var.db
    .select()
    .from(flavors)
    .where(eq(flavors.deleted, 0))
    .orderBy(asc(flavors.memory_mb), asc(flavors.flavorid));
}

export const flavorsExtension = defineExtension({
  alias: 'flavors',
  name: 'Flavors',
  description: 'Flavors Extension.',
  version: 1,
  core: true,
  history: [{ version: 1, change: 'list, detail, show' }],
  routes: [
    route({
      method: 'get',
      path: '/v3/flavors',
      summary: 'List flavors',
      responses: { 200: 'flavors: id, name, links' },
      handler: async (c) =>
        c.json({
          flavors: (await liveFlavors(c)).map((flavor) => ({
            id: flavor.flavorid,
            name: flavor.name,
            links: resourceLinks(c, 'flavors', flavor.flavorid),
          })),
        }),
    }),
    route({
      method: 'get',
      path: '/v3/flavors/detail',
      summary: 'List flavors with details',
      responses: { 200: 'flavors with ram, vcpus, disk, ...' },
      handler: async (c) =>
        c.json({ flavors: (await liveFlavors(c)).map((flavor) => flavorDetail(c, flavor)) }),
    }),
    route({
      method: 'get',
      path: '/v3/flavors/:flavor_id',
      summary: 'Show a flavor',
      responses: { 200: 'flavor' },
      handler: async (c) => {
        const flavorId = c.req.param('flavor_id') ?? '';
        const [flavor] = await c.var.db
          .select()
          .from(flavors)
          .where(and(eq(flavors.flavorid, flavorId), eq(flavors.deleted, 0)));
        if (!flavor) throw new NotFound(`Flavor ${flavorId} could not be found.`);
        return c.json({ flavor: flavorDetail(c, flavor) });
      },
    }),
  ],
});
