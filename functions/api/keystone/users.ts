import { asc, eq } from 'drizzle-orm';
import { Hono } from 'hono';
import * as v from 'valibot';
import type { PrimaryDb } from '../../../schema/db.ts';
import { projects, users } from '../../../schema/tables/index.ts';
import { projectsOfUser } from '../../identity/assignments.ts';
import { newIdentityId } from '../../identity/ids.ts';
import { hashPassword, verifyPassword } from '../../identity/passwords.ts';
import { recordRevocations } from '../../identity/revocations.ts';
import { NotFound, Unauthorized } from '../../shared/errors.ts';
import type { AppEnv } from '../context.ts';
import { authenticate } from '../middleware/auth.ts';
import { readJson, readQuery } from '../middleware/validate.ts';
import { authorize } from '../policy.ts';
import { authorizeOwnUser } from './access.ts';
import { deleteRoleHolder, storeNamed } from './entities.ts';
import {
  DefaultDomainId,
  Description,
  EntityId,
  entityName,
  ListFilters,
  listFilterCondition,
  NoOptions,
  someAttribute,
} from './input.ts';
import { findProject } from './projects.ts';
import { collectionLinks, projectView, userView } from './views.ts';

// Keystone's /v3/users as `openstack user ...` uses it. Changing a user's password, disabling or
// deleting the user revokes every token the user holds, at once (a user revocation event).
const UserName = entityName(255);
// Keystone's own limit (max_password_length).
const Password = v.pipe(v.string(), v.maxLength(4096));
const Email = v.nullable(v.pipe(v.string(), v.maxLength(255)));

// A user created without a password cannot log in until one is set: verifyPassword refuses any hash
// that is not in its own scheme, and this one is in none.
const NO_PASSWORD = '!';

// What a user is created with and changed by, beside its name and password.
const ATTRIBUTES = {
  default_project_id: v.nullish(EntityId),
  email: v.optional(Email),
  description: v.optional(Description),
  enabled: v.optional(v.boolean()),
  domain_id: v.optional(DefaultDomainId),
  options: v.optional(NoOptions),
};

const CreateUser = v.strictObject({
  user: v.strictObject({ name: UserName, password: v.nullish(Password), ...ATTRIBUTES }),
});

const UpdateUser = v.strictObject({
  user: v.pipe(
    v.strictObject({ name: v.optional(UserName), password: v.optional(Password), ...ATTRIBUTES }),
    someAttribute(),
  ),
});

// What `openstack user password set` sends.
const ChangePassword = v.strictObject({
  user: v.strictObject({ password: Password, original_password: Password }),
});

async function findUser(db: PrimaryDb, id: string) {
  const [user] = await db.select().from(users).where(eq(users.id, id));
  if (!user) throw new NotFound(`Could not find user: ${id}.`);
  return user;
}

export const userRoutes = new Hono<AppEnv>()
  .post('/users', authenticate, async (c) => {
    authorize(c.var.caller, 'identity:create_user');
    const { user } = await readJson(c, CreateUser);
    const db = c.var.db.$primary;
    if (user.default_project_id) await findProject(db, user.default_project_id);
    const row = {
      id: newIdentityId(),
      name: user.name,
      password_hash: user.password ? await hashPassword(user.password) : NO_PASSWORD,
      default_project_id: user.default_project_id ?? null,
      email: user.email ?? null,
      description: user.description ?? null,
      enabled: user.enabled ?? true,
      created_at: new Date(),
    };
    await storeNamed('user', user.name, () => db.insert(users).values(row));
    return c.json({ user: userView(c, { ...row, updated_at: null }) }, 201);
  })
  .get('/users', authenticate, async (c) => {
    authorize(c.var.caller, 'identity:list_users');
    const filters = readQuery(c, ListFilters);
    const rows = await c.var.db.$primary
      .select()
      .from(users)
      .where(listFilterCondition(filters, users))
      .orderBy(asc(users.name));
    return c.json({ users: rows.map((user) => userView(c, user)), links: collectionLinks(c) });
  })
  .get('/users/:user_id', authenticate, async (c) => {
    const id = c.req.param('user_id');
    authorizeOwnUser(c.var.caller, 'identity:get_user', id);
    return c.json({ user: userView(c, await findUser(c.var.db.$primary, id)) });
  })
  .patch('/users/:user_id', authenticate, async (c) => {
    authorize(c.var.caller, 'identity:update_user');
    const { user: change } = await readJson(c, UpdateUser);
    const db = c.var.db.$primary;
    const id = c.req.param('user_id');
    const user = await findUser(db, id);
    if (change.default_project_id) await findProject(db, change.default_project_id);
    // Only what the request names is written, so concurrent changes to other attributes survive.
    const { password } = change;
    const set = {
      ...(change.name !== undefined ? { name: change.name } : {}),
      ...(password !== undefined ? { password_hash: await hashPassword(password) } : {}),
      ...(change.default_project_id !== undefined ? { default_project_id: change.default_project_id } : {}),
      ...(change.email !== undefined ? { email: change.email } : {}),
      ...(change.description !== undefined ? { description: change.description } : {}),
      ...(change.enabled !== undefined ? { enabled: change.enabled } : {}),
      updated_at: new Date(),
    };
    await storeNamed('user', change.name ?? user.name, () =>
      db.transaction(async (tx) => {
        await tx.update(users).set(set).where(eq(users.id, id));
        if (password !== undefined || change.enabled === false)
          await recordRevocations(tx, [{ userId: id }], c.var.config.TOKEN_TTL_SECONDS);
      }),
    );
    const updated = { ...user, ...set };
    return c.json({ user: userView(c, updated) });
  })
  .delete('/users/:user_id', authenticate, async (c) => {
    authorize(c.var.caller, 'identity:delete_user');
    await deleteRoleHolder(c, 'user', c.req.param('user_id'));
    return c.body(null, 204);
  })
  .post('/users/:user_id/password', authenticate, async (c) => {
    const id = c.req.param('user_id');
    authorizeOwnUser(c.var.caller, 'identity:change_password', id);
    const { user: change } = await readJson(c, ChangePassword);
    const db = c.var.db.$primary;
    const user = await findUser(db, id);
    if (!(await verifyPassword(change.original_password, user.password_hash)))
      throw new Unauthorized('The original password is not correct.');
    const passwordHash = await hashPassword(change.password);
    await db.transaction(async (tx) => {
      await tx
        .update(users)
        .set({ password_hash: passwordHash, updated_at: new Date() })
        .where(eq(users.id, id));
      await recordRevocations(tx, [{ userId: id }], c.var.config.TOKEN_TTL_SECONDS);
    });
    return c.body(null, 204);
  })
  // osc `project list` falls back to this when listing all projects is forbidden, so members see theirs.
  .get('/users/:user_id/projects', authenticate, async (c) => {
    const id = c.req.param('user_id');
    authorizeOwnUser(c.var.caller, 'identity:list_user_projects', id);
    const filters = readQuery(c, ListFilters);
    const db = c.var.db.$primary;
    await findUser(db, id);
    const rows = await projectsOfUser(db, id, listFilterCondition(filters, projects));
    return c.json({ projects: rows.map((project) => projectView(c, project)), links: collectionLinks(c) });
  });
