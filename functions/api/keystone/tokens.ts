import { and, eq } from 'drizzle-orm';
import { Hono } from 'hono';
import * as v from 'valibot';
import { projects, users } from '../../../schema/tables/index.ts';
import { rolesOnProject } from '../../identity/assignments.ts';
import { verifyPassword } from '../../identity/passwords.ts';
import { issueToken } from '../../identity/tokens.ts';
import { Unauthorized } from '../../shared/errors.ts';
import type { AppEnv } from '../context.ts';
import { readJson } from '../middleware/validate.ts';

const DEFAULT_DOMAIN = { id: 'default', name: 'Default' };

const NameOrId = v.union([
  v.looseObject({ id: v.pipe(v.string(), v.minLength(1)) }),
  v.looseObject({ name: v.pipe(v.string(), v.minLength(1)) }),
]);

// Keystone v3 password authentication, project-scoped (or the user's default project).
const AuthRequest = v.object({
  auth: v.object({
    identity: v.object({
      methods: v.pipe(
        v.array(v.string()),
        v.check((methods) => methods.includes('password'), 'only the password method is supported'),
      ),
      password: v.object({ user: v.intersect([NameOrId, v.looseObject({ password: v.string() })]) }),
    }),
    scope: v.optional(v.object({ project: NameOrId })),
  }),
});

function byIdOrName<T extends { id: unknown; name: unknown }>(ref: v.InferOutput<typeof NameOrId>, table: T) {
  return 'id' in ref ? eq(table.id as never, ref.id) : eq(table.name as never, ref.name as string);
}

export const tokenRoutes = new Hono<AppEnv>().post('/auth/tokens', async (c) => {
  const { auth } = await readJson(c, AuthRequest);
  const db = c.var.db.$primary;
  const userRef = auth.identity.password.user;
  const [user] = await db
    .select()
    .from(users)
    .where(and(byIdOrName(userRef, users), eq(users.enabled, true)));
  // One message for unknown user and wrong password: the answer must not reveal which.
  if (!user || !(await verifyPassword(userRef.password, user.password_hash))) {
    throw new Unauthorized('The request you have made requires authentication.');
  }
  const projectRef =
    auth.scope?.project ?? (user.default_project_id ? { id: user.default_project_id } : undefined);
  if (!projectRef) throw new Unauthorized('No project scope was given and the user has no default project');
  const [project] = await db
    .select()
    .from(projects)
    .where(and(byIdOrName(projectRef, projects), eq(projects.enabled, true)));
  const roles = project ? await rolesOnProject(db, user.id, project.id) : [];
  if (!project || roles.length === 0) throw new Unauthorized('The user has no role on the requested project');

  const config = c.var.config;
  const issuedAt = Date.now();
  const expiresAt = issuedAt + config.TOKEN_TTL_SECONDS * 1000;
  const token = await issueToken(
    {
      user_id: user.id,
      user_name: user.name,
      project_id: project.id,
      project_name: project.name,
      roles,
      issued_at: issuedAt,
      expires_at: expiresAt,
    },
    config.TOKEN_SECRET,
  );
  const origin = new URL(c.req.url).origin;
  const endpoint = (type: string, url: string) => ({
    type,
    id: type,
    name: type === 'compute' ? 'nova' : 'keystone',
    endpoints: [
      {
        id: `${type}-public`,
        interface: 'public',
        region: config.REGION_NAME,
        region_id: config.REGION_NAME,
        url,
      },
    ],
  });
  c.header('X-Subject-Token', token);
  return c.json(
    {
      token: {
        methods: ['password'],
        user: { id: user.id, name: user.name, domain: DEFAULT_DOMAIN },
        project: { id: project.id, name: project.name, domain: DEFAULT_DOMAIN },
        roles,
        issued_at: new Date(issuedAt).toISOString(),
        expires_at: new Date(expiresAt).toISOString(),
        catalog: [endpoint('compute', `${origin}/v3`), endpoint('identity', `${origin}/identity/v3`)],
      },
    },
    201,
  );
});
