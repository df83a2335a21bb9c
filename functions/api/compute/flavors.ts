import { and, asc, eq } from 'drizzle-orm';
import { Hono } from 'hono';
import { flavors } from '../../../schema/tables/index.ts';
import { NotFound } from '../../shared/errors.ts';
import type { AppEnv } from '../context.ts';
import { resourceLinks } from '../links.ts';

export const FLAVORS_EXTENSION = {
  alias: 'flavors',
  name: 'Flavors',
  description: 'Flavors Extension.',
  version: 1,
  core: true,
} as const;

type FlavorRow = typeof flavors.$inferSelect;

function flavorDetail(c: Parameters<typeof resourceLinks>[0], flavor: FlavorRow) {
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

export const flavorRoutes = new Hono<AppEnv>()
  .get('/', async (c) => {
    const rows = await c.var.db
      .select()
      .from(flavors)
      .where(eq(flavors.deleted, 0))
      .orderBy(asc(flavors.memory_mb), asc(flavors.flavorid));
    return c.json({
      flavors: rows.map((flavor) => ({
        id: flavor.flavorid,
        name: flavor.name,
        links: resourceLinks(c, 'flavors', flavor.flavorid),
      })),
    });
  })
  .get('/detail', async (c) => {
    const rows = await c.var.db
      .select()
      .from(flavors)
      .where(eq(flavors.deleted, 0))
      .orderBy(asc(flavors.memory_mb), asc(flavors.flavorid));
    return c.json({ flavors: rows.map((flavor) => flavorDetail(c, flavor)) });
  })
  .get('/:flavorId', async (c) => {
    const flavorId = c.req.param('flavorId');
    const [flavor] = await c.var.db
      .select()
      .from(flavors)
      .where(and(eq(flavors.flavorid, flavorId), eq(flavors.deleted, 0)));
    if (!flavor) throw new NotFound(`Flavor ${flavorId} could not be found.`);
    return c.json({ flavor: flavorDetail(c, flavor) });
  });
