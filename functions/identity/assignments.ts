import { and, asc, eq, inArray, type SQL } from 'drizzle-orm';
import type { PrimaryDb } from '../../schema/db.ts';
import { projects, roleAssignments, roles } from '../../schema/tables/index.ts';

export async function rolesOnProject(db: PrimaryDb, userId: string, projectId: string) {
  return db
    .select({ id: roles.id, name: roles.name })
    .from(roleAssignments)
    .innerJoin(roles, eq(roles.id, roleAssignments.role_id))
    .where(and(eq(roleAssignments.user_id, userId), eq(roleAssignments.project_id, projectId)))
    .orderBy(asc(roles.name));
}

/** The projects the user holds at least one role on (and that meet `filter`, when given). */
export async function projectsOfUser(db: PrimaryDb, userId: string, filter?: SQL) {
  return db
    .select()
    .from(projects)
    .where(
      and(
        inArray(
          projects.id,
          db
            .select({ id: roleAssignments.project_id })
            .from(roleAssignments)
            .where(eq(roleAssignments.user_id, userId)),
        ),
        filter,
      ),
    )
    .orderBy(asc(projects.name));
}
