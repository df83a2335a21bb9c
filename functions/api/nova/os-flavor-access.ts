import { and, asc, eq, sql } from 'drizzle-orm';
import type { Context } from 'hono';
import * as v from 'valibot';
import type { PrimaryDb } from '../../../schema/db.ts';
import { flavorProjects } from '../../../schema/tables/index.ts';
import { Conflict, isDuplicateKey, NotFound } from '../../shared/errors.ts';
import type { AppEnv } from '../context.ts';
import { authorize } from '../policy.ts';
import { route } from '../route.ts';
import { defineExtension } from './extension.ts';
import { type FlavorRow, findVisibleFlavor } from './flavors.ts';

const TenantAccess = v.object({
  tenant_id: v.pipe(v.string(), v.trim(), v.minLength(1, 'tenant_id must not be empty'), v.maxLength(64)),
});

// A flavor action body holds exactly one action, named by its key.
const FlavorAction = v.pipe(
  v.strictObject({
    add_tenant_access: v.optional(TenantAccess),
    remove_tenant_access: v.optional(TenantAccess),
  }),
  v.check((body) => Object.keys(body).length === 1, 'the body must hold exactly one action'),
);

/** The projects a flavor is shared with, as `{flavor_id, tenant_id}` entries. */
export async function accessList(db: Pick<PrimaryDb, 'select'>, flavor: FlavorRow) {
  const rows = await db
    .select({ project_id: flavorProjects.project_id })
    .from(flavorProjects)
    .where(and(eq(flavorProjects.flavor_id, flavor.id), eq(flavorProjects.deleted, 0)))
    .orderBy(asc(flavorProjects.project_id));
  return rows.map((row) => ({ flavor_id: flavor.flavorid, tenant_id: row.project_id }));
}

/** Shares the flavor with a project; sharing it twice is a 409. */
export async function grantFlavorAccess(db: PrimaryDb, flavor: FlavorRow, tenantId: string): Promise<void> {
  try {
    await db
      .insert(flavorProjects)
      .values({ flavor_id: flavor.id, project_id: tenantId, created_at: new Date() });
  } catch (error) {
    if (isDuplicateKey(error)) {
      throw new Conflict(
        `Flavor access already exists for flavor ${flavor.flavorid} and project ${tenantId}.`,
      );
    }
    throw error;
  }
}

async function addAccess(c: Context<AppEnv>, flavor: FlavorRow, tenantId: string) {
  if (flavor.is_public)
    throw new Conflict(`Flavor ${flavor.flavorid} is public: access lists apply to private flavors only.`);
  await grantFlavorAccess(c.var.db.$primary, flavor, tenantId);
}

/** Stops sharing the flavor with a project; 404 when it was not shared with it. */
export async function revokeFlavorAccess(db: PrimaryDb, flavor: FlavorRow, tenantId: string): Promise<void> {
  const now = new Date();
  const result = await db
    .update(flavorProjects)
    .set({ deleted: sql`${flavorProjects.id}`, deleted_at: now, updated_at: now })
    .where(
      and(
        eq(flavorProjects.flavor_id, flavor.id),
        eq(flavorProjects.project_id, tenantId),
        eq(flavorProjects.deleted, 0),
      ),
    );
  if (result.rowsAffected === 0) {
    throw new NotFound(`Flavor access not found for flavor ${flavor.flavorid} and project ${tenantId}.`);
  }
}

export const flavorAccessExtension = defineExtension({
  alias: 'os-flavor-access',
  name: 'FlavorAccess',
  description: 'Flavor access support.',
  version: 1,
  core: false,
  history: [{ version: 1, change: 'list access, add_tenant_access, remove_tenant_access' }],
  flavorAttributes: (flavor) => ({ 'os-flavor-access:is_public': flavor.is_public }),
  routes: [
    route({
      method: 'get',
      path: '/v3/flavors/:flavor_id/os-flavor-access',
      summary: 'List the projects that may use a private flavor (admin)',
      responses: { 200: 'flavor_access: [{flavor_id, tenant_id}]' },
      handler: async (c) => {
        authorize(c.var.caller, 'compute_extension:os-flavor-access');
        const flavor = await findVisibleFlavor(c.var.db, c.var.caller, c.req.param('flavor_id') ?? '');
        if (flavor.is_public) throw new NotFound('Access list not available for public flavors.');
        return c.json({ flavor_access: await accessList(c.var.db, flavor) });
      },
    }),
    route({
      method: 'post',
      path: '/v3/flavors/:flavor_id/action',
      summary: 'Flavor action: add_tenant_access or remove_tenant_access {tenant_id} (admin)',
      body: FlavorAction,
      responses: { 200: 'flavor_access: the access list after the change' },
      handler: async (c, { body }) => {
        authorize(
          c.var.caller,
          body.add_tenant_access
            ? 'compute_extension:os-flavor-access:add_tenant_access'
            : 'compute_extension:os-flavor-access:remove_tenant_access',
        );
        const db = c.var.db.$primary;
        const flavor = await findVisibleFlavor(db, c.var.caller, c.req.param('flavor_id') ?? '');
        if (body.add_tenant_access) await addAccess(c, flavor, body.add_tenant_access.tenant_id);
        if (body.remove_tenant_access)
          await revokeFlavorAccess(db, flavor, body.remove_tenant_access.tenant_id);
        return c.json({ flavor_access: await accessList(db, flavor) });
      },
    }),
  ],
});
