import { eq } from 'drizzle-orm';
import { ensureProject } from '../../functions/identity/bootstrap.ts';
import { hashPassword } from '../../functions/identity/passwords.ts';
import { roleAssignments, roles, users } from '../../schema/tables/index.ts';
import { primaryDb } from './api.ts';

/** A user with only the member role on its own project (identity administration is not an API yet). */
export async function createMember(name: string, password: string): Promise<{ projectId: string }> {
  const db = primaryDb();
  const projectId = await ensureProject(db, `${name}-project`);
  const userId = crypto.randomUUID().replaceAll('-', '');
  await db.insert(users).values({
    id: userId,
    name,
    password_hash: await hashPassword(password),
    default_project_id: projectId,
    created_at: new Date(),
  });
  const [member] = await db.select().from(roles).where(eq(roles.name, 'member'));
  if (!member) throw new Error('member role missing');
  await db
    .insert(roleAssignments)
    .values({ user_id: userId, project_id: projectId, role_id: member.id, created_at: new Date() });
  return { projectId };
}
