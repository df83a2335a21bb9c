import { createMiddleware } from 'hono/factory';
import { validateToken } from '../../identity/revocations.ts';
import { Unauthorized } from '../../shared/errors.ts';
import type { AppEnv } from '../context.ts';

export const ADMIN_ROLE = 'admin';

/**
 * Every API route but discovery and login needs a valid X-Auth-Token; its claims become `c.var.caller`.
 * The signature proves the token; the revocation check (one indexed query on the primary) makes a
 * revoked token, a disabled user or a removed role stop at once on every worker.
 */
export const authenticate = createMiddleware<AppEnv>(async (c, next) => {
  const token = c.req.header('x-auth-token');
  if (!token) throw new Unauthorized('Authentication required: send a token in X-Auth-Token');
  const claims = await validateToken(c.var.db.$primary, token, c.var.config.TOKEN_SECRET);
  if (!claims) throw new Unauthorized('The token is invalid, has expired or has been revoked');
  const roles = claims.roles.map((role) => role.name);
  c.set('caller', {
    userId: claims.user_id,
    userName: claims.user_name,
    projectId: claims.project_id,
    projectName: claims.project_name,
    roles,
    isAdmin: roles.includes(ADMIN_ROLE),
    policyOverrides: c.var.config.POLICY_OVERRIDES,
  });
  await next();
});
