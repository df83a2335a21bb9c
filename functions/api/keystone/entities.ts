import { eq } from 'drizzle-orm';
import type { Context } from 'hono';
import { projects, roleAssignments, users } from '../../../schema/tables/index.ts';
import { recordRevocations } from '../../identity/revocations.ts';
import { Conflict, isDuplicateKey, NotFound } from '../../shared/errors.ts';
import type { AppEnv } from '../context.ts';

// What the project, user and role routes do alike when they write.

/**
 * Runs a write that stores `name` for a project, user or role. Names are unique (per kind, in the one
 * domain), so a duplicate key is Keystone's 409 for a taken name.
 */
export async function storeNamed<T>(
  kind: 'project' | 'user' | 'role',
  name: string,
  write: () => PromiseLike<T>,
): Promise<T> {
  try {
    return await write();
  } catch (error) {
    if (!isDuplicateKey(error)) throw error;
    throw new Conflict(
      `Conflict occurred attempting to store ${kind} - Duplicate entry found with name ${name}.`,
    );
  }
}

// Where each kind of role holder is named in role assignments and revocation events.
const HOLDERS = {
  project: {
    table: projects,
    assignments: roleAssignments.project_id,
    revoke: (id: string) => ({ projectId: id }),
  },
  user: { table: users, assignments: roleAssignments.user_id, revoke: (id: string) => ({ userId: id }) },
};

/**
 * Deletes a project or user with the role assignments it holds or is the scope of, and revokes the
 * tokens it had, at once; 404 when there is none.
 */
export async function deleteRoleHolder(
  c: Context<AppEnv>,
  kind: 'project' | 'user',
  id: string,
): Promise<void> {
  const { table, assignments, revoke } = HOLDERS[kind];
  await c.var.db.transaction(async (tx) => {
    const deleted = await tx.delete(table).where(eq(table.id, id));
    if (deleted.rowsAffected === 0) throw new NotFound(`Could not find ${kind}: ${id}.`);
    await tx.delete(roleAssignments).where(eq(assignments, id));
    await recordRevocations(tx, [revoke(id)], c.var.config.TOKEN_TTL_SECONDS);
  });
}
