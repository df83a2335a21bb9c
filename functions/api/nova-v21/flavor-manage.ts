import { and, eq } from 'drizzle-orm';
import type { Context } from 'hono';
import * as v from 'valibot';
import { flavors } from '../../../schema/tables/index.ts';
import { NotFound } from '../../shared/errors.ts';
import type { AppEnv } from '../context.ts';
import { readJson } from '../middleware/validate.ts';
import { createFlavor, flavorManageExtension } from '../nova/flavor-manage.ts';
import { authorize } from '../policy.ts';
import { route } from '../route.ts';
import { defineFace, translatedRoute, v3Route } from './face.ts';
import { flavorViews } from './flavor-view.ts';
import { atLeast } from './microversion.ts';
import { NovaBoolean } from './query.ts';

// Nova's flavor create (admin) with v2.1's names: `OS-FLV-EXT-DATA:ephemeral` for the ephemeral disk,
// sizes as integers or digit strings, and from 2.55 a `description`. PUT /flavors/{id} (2.55, admin)
// replaces the description, the only field Nova lets change after create. Create and update answer 200
// with the flavor; delete answers 202 where v3 answers 204.
const MAX_INT = 2 ** 31 - 1;

const Size = (minimum: number) =>
  v.pipe(
    v.union(
      [v.pipe(v.number(), v.integer()), v.pipe(v.string(), v.regex(/^[0-9]+$/), v.transform(Number))],
      'must be an integer or a string of digits',
    ),
    v.minValue(minimum),
    v.maxValue(MAX_INT),
  );

// Printable, without leading or trailing white space (Nova's `name` format).
const Name = v.pipe(
  v.string(),
  v.minLength(1),
  v.maxLength(255),
  v.regex(/^(?!\s)[^\p{Cc}\p{Cs}]*(?<!\s)$/u, 'must be printable and not start or end with white space'),
);

const FlavorId = v.nullish(
  v.union([
    v.pipe(
      v.string(),
      v.minLength(1),
      v.maxLength(255),
      v.regex(/^(?! )[a-zA-Z0-9. _-]+(?<! )$/, 'may hold letters, digits, spaces, ".", "_" and "-"'),
    ),
    v.pipe(v.number(), v.transform(String)),
  ]),
);

const RxtxFactor = v.pipe(
  v.union([v.number(), v.pipe(v.string(), v.regex(/^[0-9]+(\.[0-9]+)?$/), v.transform(Number))]),
  v.gtValue(0),
  v.maxValue(3.40282e38),
);

const MAX_DESCRIPTION_CHARACTERS = 65535;

// Nova's flavor description: null, or up to 65535 characters (code points, as JSON Schema counts them),
// each printable. Nova's printable is any character outside Unicode's "other" categories (control,
// format, surrogate, private use, unassigned) and its line and paragraph separators; spaces of every
// kind are allowed anywhere, tabs and newlines nowhere.
const Description = v.nullable(
  v.pipe(
    v.string(),
    v.check(
      (text) => [...text].length <= MAX_DESCRIPTION_CHARACTERS,
      `must be at most ${MAX_DESCRIPTION_CHARACTERS} characters`,
    ),
    v.regex(/^[^\p{C}\p{Zl}\p{Zp}]*$/u, 'must be printable: no control characters, tabs or line breaks'),
  ),
);

const flavorFields = {
  name: Name,
  id: FlavorId,
  ram: Size(1),
  vcpus: Size(1),
  disk: Size(0),
  'OS-FLV-EXT-DATA:ephemeral': v.optional(Size(0), 0),
  swap: v.optional(Size(0), 0),
  'os-flavor-access:is_public': v.optional(NovaBoolean, true),
};
const CreateFlavor = v.strictObject({
  flavor: v.strictObject({
    ...flavorFields,
    rxtx_factor: v.optional(RxtxFactor, 1),
    description: v.optional(v.never('description is accepted from 2.55 on')),
  }),
});
const CreateFlavorV255 = v.strictObject({
  flavor: v.strictObject({
    ...flavorFields,
    rxtx_factor: v.optional(RxtxFactor, 1),
    description: v.optional(Description),
  }),
});
// 2.102 took rxtx_factor out of flavors.
const CreateFlavorV2102 = v.strictObject({
  flavor: v.strictObject({
    ...flavorFields,
    rxtx_factor: v.optional(v.never('rxtx_factor is not accepted from 2.102 on')),
    description: v.optional(Description),
  }),
});

// The description is the only field, so it is required: `null` clears it.
const UpdateFlavor = v.strictObject({ flavor: v.strictObject({ description: Description }) });

function createSchema(c: Context<AppEnv>) {
  if (atLeast(c, 102)) return CreateFlavorV2102;
  return atLeast(c, 55) ? CreateFlavorV255 : CreateFlavor;
}

export const flavorManageFace = defineFace({
  alias: 'flavor-manage',
  routes: [
    route({
      method: 'post',
      path: '/v2.1/flavors',
      summary: 'Create a flavor (admin)',
      responses: { 200: 'flavor' },
      handler: async (c) => {
        authorize(c.var.caller, 'compute_extension:flavor-manage');
        const { flavor } = await readJson(c, createSchema(c));
        const db = c.var.db.$primary;
        const created = await createFlavor(db, {
          flavorid: flavor.id ?? undefined,
          name: flavor.name,
          memory_mb: flavor.ram,
          vcpus: flavor.vcpus,
          root_gb: flavor.disk,
          ephemeral_gb: flavor['OS-FLV-EXT-DATA:ephemeral'],
          swap: flavor.swap,
          rxtx_factor: flavor.rxtx_factor ?? 1,
          is_public: flavor['os-flavor-access:is_public'],
          description: flavor.description,
        });
        const [view] = await flavorViews(c, db, [created]);
        return c.json({ flavor: view });
      },
    }),
    route({
      method: 'put',
      path: '/v2.1/flavors/:flavor_id',
      summary: "Replace a flavor's description (admin; from 2.55)",
      since: 55,
      responses: { 200: 'flavor', 404: 'no such flavor, or below 2.55' },
      handler: async (c) => {
        authorize(c.var.caller, 'compute_extension:flavor-manage');
        const { flavor: update } = await readJson(c, UpdateFlavor);
        const flavorId = c.req.param('flavor_id') ?? '';
        const live = and(eq(flavors.flavorid, flavorId), eq(flavors.deleted, 0));
        const db = c.var.db.$primary;
        // Read back rather than trust the affected-row count: MySQL counts a row whose values did not
        // change as unaffected.
        await db.update(flavors).set({ description: update.description, updated_at: new Date() }).where(live);
        const [updated] = await db.select().from(flavors).where(live);
        if (!updated) throw new NotFound(`Flavor ${flavorId} could not be found.`);
        const [view] = await flavorViews(c, db, [updated]);
        return c.json({ flavor: view });
      },
    }),
    translatedRoute({
      method: 'delete',
      path: '/v2.1/flavors/:flavor_id',
      summary: 'Delete a flavor (admin)',
      target: v3Route(flavorManageExtension, 'delete', '/v3/flavors/:flavor_id'),
      responses: { 202: 'deleted' },
      response: () => ({ status: 202 }),
    }),
  ],
  microversions: [
    {
      minor: 55,
      change:
        'create accepts a description; PUT /flavors/{flavor_id} replaces it (null clears it) and answers the flavor',
      routes: ['/v2.1/flavors', '/v2.1/flavors/{flavor_id}'],
    },
    {
      minor: 61,
      change: 'create answers with extra_specs ({}) for callers allowed to list them',
      routes: ['/v2.1/flavors'],
    },
    {
      minor: 75,
      change: 'create answers swap 0 (was "") for a flavor without swap',
      routes: ['/v2.1/flavors'],
    },
    {
      minor: 102,
      change: 'create refuses rxtx_factor and answers without rxtx_factor and OS-FLV-DISABLED:disabled',
      routes: ['/v2.1/flavors'],
    },
  ],
});
