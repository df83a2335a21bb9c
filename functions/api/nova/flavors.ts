import { and, asc, eq, exists, or, type SQL } from 'drizzle-orm';
import type { Context } from 'hono';
import * as v from 'valibot';
import type { PrimaryDb } from '../../../schema/db.ts';
import { flavorProjects, flavors } from '../../../schema/tables/index.ts';
import { NotFound } from '../../shared/errors.ts';
import type { AppEnv, Caller } from '../context.ts';
import { resourceLinks } from '../links.ts';
import { route } from '../route.ts';
import { defineExtension, extensionAttributes } from './extension.ts';

export type FlavorRow = typeof flavors.$inferSelect;

type Reader = Pick<PrimaryDb, 'select'>;

export function flavorDetail(c: Context<AppEnv>, flavor: FlavorRow) {
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
    links: resourceLinks(c, 'flavors', flavor.flavorid),
    ...extensionAttributes(c.var.extensions, (extension) => extension.flavorAttributes?.(flavor)),
  };
}

/** Public flavors and the private ones the project was given access to (os-flavor-access). */
export function publicOrSharedWith(db: Reader, projectId: string): SQL | undefined {
  const access = db
    .select({ id: flavorProjects.id })
    .from(flavorProjects)
    .where(
      and(
        eq(flavorProjects.flavor_id, flavors.id),
        eq(flavorProjects.project_id, projectId),
        eq(flavorProjects.deleted, 0),
      ),
    );
  return or(eq(flavors.is_public, true), exists(access));
}

/**
 * Which flavors the caller may see: admins all of them, members the public ones and the private
 * ones their project was given access to; any other flavor is simply not found.
 */
export function visibleTo(db: Reader, caller: Caller): SQL | undefined {
  return caller.isAdmin ? undefined : publicOrSharedWith(db, caller.projectId);
}

/** A live flavor the caller may see, or 404. */
export async function findVisibleFlavor(db: Reader, caller: Caller, flavorId: string): Promise<FlavorRow> {
  const [flavor] = await db
    .select()
    .from(flavors)
    .where(and(eq(flavors.flavorid, flavorId), eq(flavors.deleted, 0), visibleTo(db, caller)));
  if (!flavor) throw new NotFound(`Flavor ${flavorId} could not be found.`);
  return flavor;
}

// Havana: admins may narrow the list with is_public (`none` = every flavor); members' value is ignored.
const ListQuery = v.object({
  is_public: v.optional(v.picklist(['true', 'false', 'True', 'False', '1', '0', 'none', 'None'])),
});

function publicFilter(caller: Caller, isPublic: string | undefined): SQL | undefined {
  if (!caller.isAdmin || isPublic === undefined || isPublic.toLowerCase() === 'none') return undefined;
  return eq(flavors.is_public, ['true', '1'].includes(isPublic.toLowerCase()));
}

async function liveFlavors(c: Context<AppEnv>, query: v.InferOutput<typeof ListQuery>) {
  return c.var.db
    .select()
    .from(flavors)
    .where(
      and(
        eq(flavors.deleted, 0),
        visibleTo(c.var.db, c.var.caller),
        publicFilter(c.var.caller, query.is_public),
      ),
    )
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
      query: ListQuery,
      responses: { 200: 'flavors: id, name, links' },
      handler: async (c, { query }) =>
        c.json({
          flavors: (await liveFlavors(c, query)).map((flavor) => ({
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
      query: ListQuery,
      responses: { 200: 'flavors with ram, vcpus, disk, ...' },
      handler: async (c, { query }) =>
        c.json({ flavors: (await liveFlavors(c, query)).map((flavor) => flavorDetail(c, flavor)) }),
    }),
    route({
      method: 'get',
      path: '/v3/flavors/:flavor_id',
      summary: 'Show a flavor',
      responses: { 200: 'flavor' },
      handler: async (c) => {
        const flavor = await findVisibleFlavor(c.var.db, c.var.caller, c.req.param('flavor_id') ?? '');
        return c.json({ flavor: flavorDetail(c, flavor) });
      },
    }),
  ],
});
