import { createMiddleware } from 'hono/factory';
import { verifyToken } from '../../identity/tokens.ts';
import { Unauthorized } from '../../shared/errors.ts';
import type { AppEnv } from '../context.ts';

export const ADMIN_ROLE = 'admin';

/** Every compute route needs a valid X-Auth-Token; its claims become `c.var.caller`. */
export const authenticate = createMiddleware<AppEnv>(async (c, next) => {
  const token = c.req.header('x-auth-token');
  if (!token) throw new Unauthorized('Authentication required: send a token in X-Auth-Token');
  const claims = await verifyToken(token, c.var.config.TOKEN_SECRET);
  if (!claims) throw new Unauthorized('The token is invalid or has expired');
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
