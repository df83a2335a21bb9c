import { and, asc, eq } from 'drizzle-orm';
import { type Context, Hono } from 'hono';
import * as v from 'valibot';
import { projects, roleAssignments, roles, users } from '../../../schema/tables/index.ts';
import { DEFAULT_DOMAIN } from '../../identity/domains.ts';
import { recordRevocations } from '../../identity/revocations.ts';
import { NotFound } from '../../shared/errors.ts';
import type { AppEnv } from '../context.ts';
import { authenticate } from '../middleware/auth.ts';
import { readQuery } from '../middleware/validate.ts';
import { authorize } from '../policy.ts';
import { QueryFlag } from './input.ts';
import { findProject } from './projects.ts';
import { findRole } from './roles.ts';
import { collectionLinks, identityBase, roleView } from './views.ts';

// Role grants of a user on a project (`openstack role add|remove --project P --user U R`) and
// GET /role_assignments (`openstack role assignment list`). Users hold roles on projects directly: there
// are no groups, domain grants or inheritance, so effective assignments are the direct ones.
const GRANT = '/projects/:project_id/users/:user_id/roles/:role_id';

const AssignmentFilters = v.strictObject({
  'user.id': v.optional(v.string()),
  'scope.project.id': v.optional(v.string()),
  'role.id': v.optional(v.string()),
  effective: v.optional(QueryFlag),
  include_names: v.optional(QueryFlag),
});

function grantParts(c: Context<AppEnv>) {
  return {
    projectId: c.req.param('project_id') ?? '',
    userId: c.req.param('user_id') ?? '',
    roleId: c.req.param('role_id') ?? '',
  };
}

/** 404 naming the first part of a grant URL that does not exist. */
async function checkGrantParts(c: Context<AppEnv>) {
  const db = c.var.db.$primary;
  const { projectId, userId, roleId } = grantParts(c);
  await findProject(db, projectId);
  const [user] = await db.select({ id: users.id }).from(users).where(eq(users.id, userId));
  if (!user) throw new NotFound(`Could not find user: ${userId}.`);
  await findRole(db, roleId);
  return { projectId, userId, roleId };
}

function grantCondition(grant: { projectId: string; userId: string; roleId: string }) {
  return and(
    eq(roleAssignments.project_id, grant.projectId),
    eq(roleAssignments.user_id, grant.userId),
    eq(roleAssignments.role_id, grant.roleId),
  );
}

function assignmentNotFound(grant: { projectId: string; userId: string; roleId: string }): NotFound {
  return new NotFound(
    `Could not find role assignment with role: ${grant.roleId}, user or group: ${grant.userId}, project, domain, or system: ${grant.projectId}.`,
  );
}

export const grantRoutes = new Hono<AppEnv>()
  .put(GRANT, authenticate, async (c) => {
    authorize(c.var.caller, 'identity:create_grant');
    const grant = await checkGrantParts(c);
    await c.var.db.$primary
      .insert(roleAssignments)
      .values({
        user_id: grant.userId,
        project_id: grant.projectId,
        role_id: grant.roleId,
        created_at: new Date(),
      })
      // Granting a role the user already holds is not an error (Keystone's PUT is idempotent).
      .onDuplicateKeyUpdate({ set: { role_id: grant.roleId } });
    return c.body(null, 204);
  })
  // Also answers HEAD: Hono serves HEAD from the GET route.
  .get(GRANT, authenticate, async (c) => {
    authorize(c.var.caller, 'identity:check_grant');
    const grant = await checkGrantParts(c);
    const [held] = await c.var.db.$primary
      .select({ roleId: roleAssignments.role_id })
      .from(roleAssignments)
      .where(grantCondition(grant));
    if (!held) throw assignmentNotFound(grant);
    return c.body(null, 204);
  })
  // The user's tokens on that project stop at once: they list the role that is gone.
  .delete(GRANT, authenticate, async (c) => {
    authorize(c.var.caller, 'identity:revoke_grant');
    const grant = await checkGrantParts(c);
    await c.var.db.transaction(async (tx) => {
      const removed = await tx.delete(roleAssignments).where(grantCondition(grant));
      if (removed.rowsAffected === 0) throw assignmentNotFound(grant);
      await recordRevocations(
        tx,
        [{ userId: grant.userId, projectId: grant.projectId }],
        c.var.config.TOKEN_TTL_SECONDS,
      );
    });
    return c.body(null, 204);
  })
  .get('/projects/:project_id/users/:user_id/roles', authenticate, async (c) => {
    authorize(c.var.caller, 'identity:list_grants');
    const db = c.var.db.$primary;
    const projectId = c.req.param('project_id');
    const userId = c.req.param('user_id');
    await findProject(db, projectId);
    const [user] = await db.select({ id: users.id }).from(users).where(eq(users.id, userId));
    if (!user) throw new NotFound(`Could not find user: ${userId}.`);
    const rows = await db
      .select({ role: roles })
      .from(roleAssignments)
      .innerJoin(roles, eq(roles.id, roleAssignments.role_id))
      .where(and(eq(roleAssignments.project_id, projectId), eq(roleAssignments.user_id, userId)))
      .orderBy(asc(roles.name));
    return c.json({ roles: rows.map(({ role }) => roleView(c, role)), links: collectionLinks(c) });
  })
  .get('/role_assignments', authenticate, async (c) => {
    authorize(c.var.caller, 'identity:list_role_assignments');
    const filters = readQuery(c, AssignmentFilters);
    const rows = await c.var.db.$primary
      .select({
        role: { id: roles.id, name: roles.name },
        user: { id: users.id, name: users.name },
        project: { id: projects.id, name: projects.name },
      })
      .from(roleAssignments)
      .innerJoin(roles, eq(roles.id, roleAssignments.role_id))
      .innerJoin(users, eq(users.id, roleAssignments.user_id))
      .innerJoin(projects, eq(projects.id, roleAssignments.project_id))
      .where(
        and(
          filters['user.id'] !== undefined ? eq(roleAssignments.user_id, filters['user.id']) : undefined,
          filters['scope.project.id'] !== undefined
            ? eq(roleAssignments.project_id, filters['scope.project.id'])
            : undefined,
          filters['role.id'] !== undefined ? eq(roleAssignments.role_id, filters['role.id']) : undefined,
        ),
      )
      .orderBy(asc(users.name), asc(projects.name), asc(roles.name));
    const base = identityBase(c);
    // include_names adds names, and the domain of the user and the project (osc prints `name@domain`).
    const named = filters.include_names === true;
    return c.json({
      role_assignments: rows.map(({ role, user, project }) => ({
        role: named ? role : { id: role.id },
        user: named ? { ...user, domain: DEFAULT_DOMAIN } : { id: user.id },
        scope: { project: named ? { ...project, domain: DEFAULT_DOMAIN } : { id: project.id } },
        links: { assignment: `${base}/projects/${project.id}/users/${user.id}/roles/${role.id}` },
      })),
      links: collectionLinks(c),
    });
  });
