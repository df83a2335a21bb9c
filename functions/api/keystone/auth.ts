import { and, eq, type SQL, sql } from 'drizzle-orm';
import { type Context, Hono } from 'hono';
import * as v from 'valibot';
import { projects, users } from '../../../schema/tables/index.ts';
import { projectsOfUser, rolesOnProject } from '../../identity/assignments.ts';
import { buildCatalog } from '../../identity/catalog.ts';
import { DEFAULT_DOMAIN, isDefaultDomain } from '../../identity/domains.ts';
import { verifyPassword } from '../../identity/passwords.ts';
import { recordRevocations, validateToken } from '../../identity/revocations.ts';
import { issueToken, newAuditId, type TokenClaims } from '../../identity/tokens.ts';
import { BadRequest, NotFound, Unauthorized } from '../../shared/errors.ts';
import type { AppEnv } from '../context.ts';
import { authenticate } from '../middleware/auth.ts';
import { readJson, readQuery } from '../middleware/validate.ts';
import { authorizeOwnUser } from './access.ts';
import { EntityId, entityName } from './input.ts';
import { collectionLinks, domainView, identityBase, keystoneTime, projectView } from './views.ts';

// Keystone's /v3/auth: password authentication, token validation and revocation, and what a token
// gives access to (catalog, projects, domains). The request shapes are those keystoneauth 5 sends.

/**
 * A reference to a user, project or domain as Keystone takes one: `{"id": ...}` or `{"name": ...}`,
 * never both, with `entries` beside them.
 */
function entityRef<TEntries extends v.ObjectEntries>(nameLength: number, entries: TEntries) {
  return v.pipe(
    v.strictObject({ id: v.optional(EntityId), name: v.optional(entityName(nameLength)), ...entries }),
    v.check((ref) => (ref.id === undefined) !== (ref.name === undefined), 'give exactly one of id and name'),
  );
}

const DomainRef = entityRef(64, {});

const UserRef = entityRef(255, {
  domain: v.optional(DomainRef),
  // Keystone's own limit (max_password_length).
  password: v.pipe(v.string(), v.maxLength(4096)),
});

const ProjectRef = entityRef(64, { domain: v.optional(DomainRef) });

// Only project scope exists: every token is scoped to a project (given, or the user's default one).
const AuthRequest = v.strictObject({
  auth: v.strictObject({
    identity: v.strictObject({
      methods: v.pipe(
        v.array(v.string()),
        v.check(
          (methods) => methods.length === 1 && methods[0] === 'password',
          'only the password method is supported',
        ),
      ),
      password: v.strictObject({ user: UserRef }),
    }),
    scope: v.optional(v.strictObject({ project: ProjectRef })),
  }),
});

/** `?nocatalog` leaves the catalog out, whatever its value (Keystone's reading). */
const TokenQuery = v.strictObject({ nocatalog: v.optional(v.string()) });

const AuthenticationRequired = 'The request you have made requires authentication.';

// Checked when the user is unknown or disabled, so that the answer costs the same PBKDF2 run
// (passwords.ts's iterations) as a wrong password: its timing must not tell which it was either.
const DECOY_HASH = 'pbkdf2-sha256$100000$tBuH9HuwuZUaNST_Ix1yFA$LdzjmIOOyHT-RQbuIK7XPHnUUlPT2hfQAoobarXLZZI';

/** The enabled user or project a reference names; one in another domain matches nothing. */
function enabledByRef(
  ref: { id?: string; name?: string; domain?: { id?: string; name?: string } },
  table: typeof users | typeof projects,
): SQL | undefined {
  return and(
    ref.domain && !isDefaultDomain(ref.domain) ? sql`false` : undefined,
    ref.id !== undefined ? eq(table.id, ref.id) : eq(table.name, ref.name ?? ''),
    eq(table.enabled, true),
  );
}

function tokenBody(c: Context<AppEnv>, claims: TokenClaims, withCatalog: boolean) {
  return {
    token: {
      methods: ['password'],
      user: {
        domain: DEFAULT_DOMAIN,
        id: claims.user_id,
        name: claims.user_name,
        password_expires_at: null,
      },
      audit_ids: [claims.audit_id],
      expires_at: keystoneTime(claims.expires_at),
      issued_at: keystoneTime(claims.issued_at),
      project: { domain: DEFAULT_DOMAIN, id: claims.project_id, name: claims.project_name },
      is_domain: false,
      roles: claims.roles,
      ...(withCatalog ? { catalog: buildCatalog(new URL(c.req.url).origin, c.var.config.REGION_NAME) } : {}),
    },
  };
}

/** The X-Subject-Token's claims; a token that is bad, expired or revoked is not found, as in Keystone. */
async function subjectToken(c: Context<AppEnv>): Promise<{ token: string; claims: TokenClaims }> {
  const token = c.req.header('x-subject-token');
  if (!token) throw new BadRequest('The X-Subject-Token header names the token to act on; it is missing');
  const claims = await validateToken(c.var.db.$primary, token, c.var.config.TOKEN_SECRET);
  if (!claims) throw new NotFound('Failed to validate token');
  return { token, claims };
}

export const authRoutes = new Hono<AppEnv>()
  .post('/auth/tokens', async (c) => {
    const query = readQuery(c, TokenQuery);
    const { auth } = await readJson(c, AuthRequest);
    const db = c.var.db.$primary;
    const userRef = auth.identity.password.user;
    const [user] = await db.select().from(users).where(enabledByRef(userRef, users));
    // One message for unknown user, disabled user and wrong password: the answer must not reveal which.
    const passwordMatches = await verifyPassword(userRef.password, user?.password_hash ?? DECOY_HASH);
    if (!user || !passwordMatches) {
      throw new Unauthorized(AuthenticationRequired);
    }
    const projectRef =
      auth.scope?.project ?? (user.default_project_id ? { id: user.default_project_id } : undefined);
    if (!projectRef) throw new Unauthorized('No project scope was given and the user has no default project');
    const [project] = await db.select().from(projects).where(enabledByRef(projectRef, projects));
    const roles = project ? await rolesOnProject(db, user.id, project.id) : [];
    if (!project || roles.length === 0)
      throw new Unauthorized('The user has no role on the requested project');

    const issuedAt = Date.now();
    const claims: TokenClaims = {
      user_id: user.id,
      user_name: user.name,
      project_id: project.id,
      project_name: project.name,
      roles,
      issued_at: issuedAt,
      expires_at: issuedAt + c.var.config.TOKEN_TTL_SECONDS * 1000,
      audit_id: newAuditId(),
    };
    c.header('X-Subject-Token', await issueToken(claims, c.var.config.TOKEN_SECRET));
    return c.json(tokenBody(c, claims, query.nocatalog === undefined), 201);
  })
  // Also answers HEAD (Hono serves HEAD from the GET route, without the body), as Keystone's check.
  .get('/auth/tokens', authenticate, async (c) => {
    const query = readQuery(c, TokenQuery);
    const { token, claims } = await subjectToken(c);
    authorizeOwnUser(c.var.caller, 'identity:validate_token', claims.user_id);
    c.header('X-Subject-Token', token);
    return c.json(tokenBody(c, claims, query.nocatalog === undefined), 200);
  })
  .delete('/auth/tokens', authenticate, async (c) => {
    const { claims } = await subjectToken(c);
    authorizeOwnUser(c.var.caller, 'identity:revoke_token', claims.user_id);
    await recordRevocations(
      c.var.db.$primary,
      [{ auditId: claims.audit_id }],
      c.var.config.TOKEN_TTL_SECONDS,
    );
    return c.body(null, 204);
  })
  .get('/auth/catalog', authenticate, (c) =>
    c.json({
      catalog: buildCatalog(new URL(c.req.url).origin, c.var.config.REGION_NAME),
      links: { self: `${identityBase(c)}/auth/catalog` },
    }),
  )
  // The projects a token could be scoped to: enabled ones the user holds a role on.
  .get('/auth/projects', authenticate, async (c) => {
    const rows = await projectsOfUser(c.var.db.$primary, c.var.caller.userId, eq(projects.enabled, true));
    return c.json({
      projects: rows.map((project) => projectView(c, project)),
      links: collectionLinks(c),
    });
  })
  .get('/auth/domains', authenticate, (c) => c.json({ domains: [domainView(c)], links: collectionLinks(c) }));
