import { and, asc, eq, sql } from 'drizzle-orm';
import type { Context } from 'hono';
import * as v from 'valibot';
import { flavorExtraSpecs } from '../../../schema/tables/index.ts';
import { BadRequest, NotFound } from '../../shared/errors.ts';
import type { AppEnv } from '../context.ts';
import { authorize } from '../policy.ts';
import { route } from '../route.ts';
import { defineExtension } from './extension.ts';
import { findVisibleFlavor } from './flavors.ts';

const SpecKey = v.pipe(
  v.string(),
  v.minLength(1, 'extra spec keys must not be empty'),
  v.maxLength(255),
  v.regex(/^[a-zA-Z0-9_:. -]+$/, 'extra spec keys may hold letters, digits, "_", ":", ".", "-" and spaces'),
);
// Havana stored every value as a string; numbers and booleans are accepted and stored as text.
const SpecValue = v.pipe(
  v.union([v.string(), v.number(), v.boolean()]),
  v.transform(String),
  v.maxLength(255, 'extra spec values hold at most 255 characters'),
);
const SpecMap = v.record(SpecKey, SpecValue);

const SetSpecs = v.object({
  extra_specs: v.pipe(
    SpecMap,
    v.check((specs) => Object.keys(specs).length > 0, 'extra_specs must name at least one key'),
  ),
});
const SetOneSpec = v.pipe(
  SpecMap,
  v.check((specs) => Object.keys(specs).length === 1, 'the body must hold exactly one key'),
);

async function flavorFor(c: Context<AppEnv>, primary: boolean) {
  const db = primary ? c.var.db.$primary : c.var.db;
  return findVisibleFlavor(db, c.var.caller, c.req.param('flavor_id') ?? '');
}

async function upsertSpecs(c: Context<AppEnv>, flavorId: number, specs: Record<string, string>) {
  const now = new Date();
  const rows = Object.entries(specs).map(([key, value]) => ({
    flavor_id: flavorId,
    key,
    value,
    created_at: now,
  }));
  // One statement: concurrent writers of the same key meet on the unique key instead of racing.
  await c.var.db.$primary
    .insert(flavorExtraSpecs)
    .values(rows)
    .onDuplicateKeyUpdate({ set: { value: sql`values(${flavorExtraSpecs.value})`, updated_at: now } });
}

async function liveSpec(c: Context<AppEnv>, flavorId: number, key: string) {
  const [spec] = await c.var.db
    .select()
    .from(flavorExtraSpecs)
    .where(
      and(
        eq(flavorExtraSpecs.flavor_id, flavorId),
        eq(flavorExtraSpecs.key, key),
        eq(flavorExtraSpecs.deleted, 0),
      ),
    );
  if (!spec) throw new NotFound(`Flavor ${c.req.param('flavor_id')} has no extra spec with key ${key}.`);
  return spec;
}

const BASE = '/v3/flavors/:flavor_id/flavor-extra-specs';

export const flavorExtraSpecsExtension = defineExtension({
  alias: 'flavor-extra-specs',
  name: 'FlavorsExtraSpecs',
  description: 'Flavors Extension.',
  version: 1,
  core: false,
  history: [{ version: 1, change: 'list, set, show, update, delete extra specs of a flavor' }],
  routes: [
    route({
      method: 'get',
      path: BASE,
      summary: "List a flavor's extra specs",
      responses: { 200: 'extra_specs: {key: value}' },
      handler: async (c) => {
        authorize(c.var.caller, 'compute_extension:flavor-extra-specs:index');
        const flavor = await flavorFor(c, false);
        const rows = await c.var.db
          .select()
          .from(flavorExtraSpecs)
          .where(and(eq(flavorExtraSpecs.flavor_id, flavor.id), eq(flavorExtraSpecs.deleted, 0)))
          .orderBy(asc(flavorExtraSpecs.key));
        return c.json({ extra_specs: Object.fromEntries(rows.map((row) => [row.key, row.value])) });
      },
    }),
    route({
      method: 'post',
      path: BASE,
      summary: 'Set extra specs (admin): keys given are created or replaced',
      body: SetSpecs,
      responses: { 201: 'extra_specs as set' },
      handler: async (c, { body }) => {
        authorize(c.var.caller, 'compute_extension:flavor-extra-specs:create');
        const flavor = await flavorFor(c, true);
        await upsertSpecs(c, flavor.id, body.extra_specs);
        return c.json({ extra_specs: body.extra_specs }, 201);
      },
    }),
    route({
      method: 'get',
      path: `${BASE}/:key`,
      summary: 'Show one extra spec',
      responses: { 200: '{key: value}' },
      handler: async (c) => {
        authorize(c.var.caller, 'compute_extension:flavor-extra-specs:show');
        const flavor = await flavorFor(c, false);
        const spec = await liveSpec(c, flavor.id, c.req.param('key') ?? '');
        return c.json({ [spec.key]: spec.value });
      },
    }),
    route({
      method: 'put',
      path: `${BASE}/:key`,
      summary: 'Create or replace one extra spec (admin); the body key must match the URL',
      body: SetOneSpec,
      responses: { 200: '{key: value}' },
      handler: async (c, { body }) => {
        authorize(c.var.caller, 'compute_extension:flavor-extra-specs:update');
        const key = c.req.param('key') ?? '';
        if (!(key in body)) throw new BadRequest(`Request body and URI mismatch: the body must set '${key}'`);
        const flavor = await flavorFor(c, true);
        await upsertSpecs(c, flavor.id, body);
        return c.json(body);
      },
    }),
    route({
      method: 'delete',
      path: `${BASE}/:key`,
      summary: 'Delete one extra spec (admin)',
      responses: { 204: 'deleted' },
      handler: async (c) => {
        authorize(c.var.caller, 'compute_extension:flavor-extra-specs:delete');
        const flavor = await flavorFor(c, true);
        const key = c.req.param('key') ?? '';
        const now = new Date();
        const result = await c.var.db.$primary
          .update(flavorExtraSpecs)
          .set({ deleted: sql`${flavorExtraSpecs.id}`, deleted_at: now, updated_at: now })
          .where(
            and(
              eq(flavorExtraSpecs.flavor_id, flavor.id),
              eq(flavorExtraSpecs.key, key),
              eq(flavorExtraSpecs.deleted, 0),
            ),
          );
        if (result.rowsAffected === 0) {
          throw new NotFound(`Flavor ${flavor.flavorid} has no extra spec with key ${key}.`);
        }
        return c.body(null, 204);
      },
    }),
  ],
});
