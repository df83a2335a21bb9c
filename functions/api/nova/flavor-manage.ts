import { and, eq, sql } from 'drizzle-orm';
import * as v from 'valibot';
import type { PrimaryDb } from '../../../schema/db.ts';
import { flavorExtraSpecs, flavorProjects, flavors } from '../../../schema/tables/index.ts';
import { Conflict, isDuplicateKey, NotFound } from '../../shared/errors.ts';
import { authorize } from '../policy.ts';
import { route } from '../route.ts';
import { defineExtension } from './extension.ts';
import { type FlavorRow, flavorDetail } from './flavors.ts';

// Havana accepted numbers and numeric strings alike ("ram": "512").
const Count = (minimum: number) =>
  v.pipe(
    v.union([v.number(), v.pipe(v.string(), v.regex(/^\s*\d+\s*$/, 'must be an integer'), v.toNumber())]),
    v.integer(),
    v.minValue(minimum),
    v.maxValue(2 ** 31 - 1),
  );

const CreateFlavor = v.object({
  flavor: v.object({
    name: v.pipe(v.string(), v.trim(), v.minLength(1, 'name must not be empty'), v.maxLength(255)),
    id: v.optional(
      v.pipe(
        v.union([v.string(), v.pipe(v.number(), v.integer(), v.transform(String))]),
        v.trim(),
        v.regex(/^[a-zA-Z0-9. _-]{1,255}$/, 'id may hold letters, digits, spaces, ".", "_" and "-"'),
      ),
    ),
    ram: Count(1),
    vcpus: Count(1),
    disk: Count(0),
    ephemeral: v.optional(Count(0), 0),
    swap: v.optional(Count(0), 0),
    rxtx_factor: v.optional(
      v.pipe(v.union([v.number(), v.pipe(v.string(), v.toNumber())]), v.number(), v.gtValue(0)),
      1,
    ),
    'os-flavor-access:is_public': v.optional(v.boolean(), true),
  }),
});

/** A new flavor's columns; without a `flavorid`, the flavor gets a uuid. */
export type NewFlavor = Pick<
  typeof flavors.$inferInsert,
  | 'name'
  | 'memory_mb'
  | 'vcpus'
  | 'root_gb'
  | 'ephemeral_gb'
  | 'swap'
  | 'rxtx_factor'
  | 'is_public'
  | 'description'
> & { flavorid?: string };

/** Inserts a flavor; a live flavor with the same name or id is a 409. */
export async function createFlavor(db: PrimaryDb, flavor: NewFlavor): Promise<FlavorRow> {
  const flavorId = flavor.flavorid ?? crypto.randomUUID();
  try {
    await db.insert(flavors).values({ ...flavor, flavorid: flavorId, created_at: new Date() });
  } catch (error) {
    if (isDuplicateKey(error)) {
      throw new Conflict(`Flavor with name ${flavor.name} or id ${flavorId} already exists.`);
    }
    throw error;
  }
  const [created] = await db
    .select()
    .from(flavors)
    .where(and(eq(flavors.flavorid, flavorId), eq(flavors.deleted, 0)));
  if (!created) throw new NotFound(`Flavor ${flavorId} could not be found.`);
  return created;
}

export const flavorManageExtension = defineExtension({
  alias: 'flavor-manage',
  name: 'FlavorManage',
  description: 'Flavor create/delete API support.',
  version: 1,
  core: false,
  history: [{ version: 1, change: 'create and delete flavors (admin)' }],
  routes: [
    route({
      method: 'post',
      path: '/v3/flavors',
      summary: 'Create a flavor (admin)',
      body: CreateFlavor,
      responses: { 200: 'flavor' },
      handler: async (c, { body: { flavor } }) => {
        authorize(c.var.caller, 'compute_extension:flavor-manage');
        const created = await createFlavor(c.var.db.$primary, {
          flavorid: flavor.id,
          name: flavor.name,
          memory_mb: flavor.ram,
          vcpus: flavor.vcpus,
          root_gb: flavor.disk,
          ephemeral_gb: flavor.ephemeral,
          swap: flavor.swap,
          rxtx_factor: flavor.rxtx_factor,
          is_public: flavor['os-flavor-access:is_public'],
        });
        return c.json({ flavor: flavorDetail(c, created) });
      },
    }),
    route({
      method: 'delete',
      path: '/v3/flavors/:flavor_id',
      summary: 'Delete a flavor (admin); servers keep the flavor they were built with',
      responses: { 204: 'deleted' },
      handler: async (c) => {
        authorize(c.var.caller, 'compute_extension:flavor-manage');
        const flavorId = c.req.param('flavor_id') ?? '';
        const db = c.var.db.$primary;
        const [flavor] = await db
          .select({ id: flavors.id })
          .from(flavors)
          .where(and(eq(flavors.flavorid, flavorId), eq(flavors.deleted, 0)));
        if (!flavor) throw new NotFound(`Flavor ${flavorId} could not be found.`);
        const now = new Date();
        await db.transaction(async (tx) => {
          await tx
            .update(flavors)
            .set({ deleted: flavor.id, deleted_at: now, updated_at: now })
            .where(and(eq(flavors.id, flavor.id), eq(flavors.deleted, 0)));
          // Soft delete stores each row's own id in `deleted`, keeping (flavor, key) unique among live rows.
          for (const table of [flavorExtraSpecs, flavorProjects]) {
            await tx
              .update(table)
              .set({ deleted: sql`${table.id}`, deleted_at: now, updated_at: now })
              .where(and(eq(table.flavor_id, flavor.id), eq(table.deleted, 0)));
          }
        });
        return c.body(null, 204);
      },
    }),
  ],
});
