import { eq } from 'drizzle-orm';
import type { PrimaryDb } from '../../schema/db.ts';
import { projects, roleAssignments, roles, users } from '../../schema/tables/index.ts';
import { grantUnlimitedQuotas } from '../compute/quotas.ts';
import { newIdentityId } from './ids.ts';
import { hashPassword } from './passwords.ts';

// Keystone's bootstrap roles; `reader` is granted to nobody here, it exists for operators to hand out.
export const BOOTSTRAP_ROLES = ['admin', 'member', 'reader'] as const;

async function ensureRole(db: PrimaryDb, name: string): Promise<string> {
  await db
    .insert(roles)
    .values({ id: newIdentityId(), name, created_at: new Date() })
    .onDuplicateKeyUpdate({ set: { name } });
  const [role] = await db.select({ id: roles.id }).from(roles).where(eq(roles.name, name));
  if (!role) throw new Error(`role ${name} vanished right after being created`);
  return role.id;
}

export async function ensureProject(db: PrimaryDb, name: string): Promise<string> {
  await db
    .insert(projects)
    .values({ id: newIdentityId(), name, created_at: new Date() })
    .onDuplicateKeyUpdate({ set: { name } });
  const [project] = await db.select({ id: projects.id }).from(projects).where(eq(projects.name, name));
  if (!project) throw new Error(`project ${name} vanished right after being created`);
  return project.id;
}

/**
 * Creates the roles, the admin project and the admin user if they are missing. The password of an
 * existing admin is reset to `adminPassword`, so the operator's configured password always works.
 */
export async function bootstrapIdentity(
  db: PrimaryDb,
  options: { adminUser: string; adminPassword: string; adminProject: string },
): Promise<{ userId: string; projectId: string }> {
  const roleIds = Object.fromEntries(
    await Promise.all(BOOTSTRAP_ROLES.map(async (name) => [name, await ensureRole(db, name)] as const)),
  );
  const projectId = await ensureProject(db, options.adminProject);
  await grantUnlimitedQuotas(db, projectId);
  const passwordHash = await hashPassword(options.adminPassword);
  await db
    .insert(users)
    .values({
      id: newIdentityId(),
      name: options.adminUser,
      password_hash: passwordHash,
      default_project_id: projectId,
      created_at: new Date(),
    })
    .onDuplicateKeyUpdate({ set: { password_hash: passwordHash, updated_at: new Date() } });
  const [user] = await db.select({ id: users.id }).from(users).where(eq(users.name, options.adminUser));
  if (!user) throw new Error('admin user vanished right after being created');
  for (const roleId of [roleIds.admin, roleIds.member]) {
    if (!roleId) continue;
    await db
      .insert(roleAssignments)
      .values({ user_id: user.id, project_id: projectId, role_id: roleId, created_at: new Date() })
      .onDuplicateKeyUpdate({ set: { role_id: roleId } });
  }
  return { userId: user.id, projectId };
}
