import { and, eq } from 'drizzle-orm';
import type { PrimaryDb } from '../../schema/db.ts';
import { roleAssignments, roles } from '../../schema/tables/index.ts';

export async function rolesOnProject(db: PrimaryDb, userId: string, projectId: string) {
  return db
    .select({ id: roles.id, name: roles.name })
    .from(roleAssignments)
    .innerJoin(roles, eq(roles.id, roleAssignments.role_id))
    .where(and(eq(roleAssignments.user_id, userId), eq(roleAssignments.project_id, projectId)));
}
