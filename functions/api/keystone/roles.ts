import { and, asc, eq, sql } from 'drizzle-orm';
import { Hono } from 'hono';
import * as v from 'valibot';
import type { PrimaryDb } from '../../../schema/db.ts';
import { roleAssignments, roles } from '../../../schema/tables/index.ts';
import { newIdentityId } from '../../identity/ids.ts';
import { recordRevocations } from '../../identity/revocations.ts';
import { NotFound } from '../../shared/errors.ts';
import type { AppEnv } from '../context.ts';
import { authenticate } from '../middleware/auth.ts';
import { readJson, readQuery } from '../middleware/validate.ts';
import { authorize } from '../policy.ts';
import { storeNamed } from './entities.ts';
import { Description, entityName, NoOptions, someAttribute } from './input.ts';
import { collectionLinks, roleView } from './views.ts';

// Keystone's /v3/roles as `openstack role ...` uses it. Roles are global: a role with a domain_id
// (Keystone's domain-specific roles) cannot be created, and a `?domain_id=` filter finds none.
const RoleName = entityName(64);

const CreateRole = v.strictObject({
  role: v.strictObject({
    name: RoleName,
    description: v.optional(Description),
    domain_id: v.nullish(v.null('domain-specific roles are not supported')),
    options: v.optional(NoOptions),
  }),
});

const UpdateRole = v.strictObject({
  role: v.pipe(
    v.strictObject({
      name: v.optional(RoleName),
      description: v.optional(Description),
      options: v.optional(NoOptions),
    }),
    someAttribute(),
  ),
});

const RoleFilters = v.strictObject({ name: v.optional(v.string()), domain_id: v.optional(v.string()) });

export async function findRole(db: PrimaryDb, id: string) {
  const [role] = await db.select().from(roles).where(eq(roles.id, id));
  if (!role) throw new NotFound(`Could not find role: ${id}.`);
  return role;
}

export const roleRoutes = new Hono<AppEnv>()
  .post('/roles', authenticate, async (c) => {
    authorize(c.var.caller, 'identity:create_role');
    const { role } = await readJson(c, CreateRole);
    const row = {
      id: newIdentityId(),
      name: role.name,
      description: role.description ?? null,
      created_at: new Date(),
    };
    await storeNamed('role', role.name, () => c.var.db.$primary.insert(roles).values(row));
    return c.json({ role: roleView(c, { ...row, updated_at: null }) }, 201);
  })
  .get('/roles', authenticate, async (c) => {
    authorize(c.var.caller, 'identity:list_roles');
    const filters = readQuery(c, RoleFilters);
    const rows = await c.var.db.$primary
      .select()
      .from(roles)
      .where(
        and(
          // Every role is global: asking for a domain's own roles finds none.
          filters.domain_id !== undefined ? sql`false` : undefined,
          filters.name !== undefined ? eq(roles.name, filters.name) : undefined,
        ),
      )
      .orderBy(asc(roles.name));
    return c.json({ roles: rows.map((role) => roleView(c, role)), links: collectionLinks(c) });
  })
  .get('/roles/:role_id', authenticate, async (c) => {
    authorize(c.var.caller, 'identity:get_role');
    return c.json({ role: roleView(c, await findRole(c.var.db.$primary, c.req.param('role_id'))) });
  })
  .patch('/roles/:role_id', authenticate, async (c) => {
    authorize(c.var.caller, 'identity:update_role');
    const { role: change } = await readJson(c, UpdateRole);
    const db = c.var.db.$primary;
    const role = await findRole(db, c.req.param('role_id'));
    // Only what the request names is written, so a concurrent change to the other attribute survives.
    const set = {
      ...(change.name !== undefined ? { name: change.name } : {}),
      ...(change.description !== undefined ? { description: change.description } : {}),
      updated_at: new Date(),
    };
    await storeNamed('role', change.name ?? role.name, () =>
      db.update(roles).set(set).where(eq(roles.id, role.id)),
    );
    const updated = { ...role, ...set };
    return c.json({ role: roleView(c, updated) });
  })
  // The role's assignments go with it, so every user-on-project pair that held it loses its tokens.
  .delete('/roles/:role_id', authenticate, async (c) => {
    authorize(c.var.caller, 'identity:delete_role');
    const id = c.req.param('role_id');
    await c.var.db.transaction(async (tx) => {
      const deleted = await tx.delete(roles).where(eq(roles.id, id));
      if (deleted.rowsAffected === 0) throw new NotFound(`Could not find role: ${id}.`);
      const holders = await tx
        .select({ userId: roleAssignments.user_id, projectId: roleAssignments.project_id })
        .from(roleAssignments)
        .where(eq(roleAssignments.role_id, id));
      await tx.delete(roleAssignments).where(eq(roleAssignments.role_id, id));
      await recordRevocations(tx, holders, c.var.config.TOKEN_TTL_SECONDS);
    });
    return c.body(null, 204);
  });
