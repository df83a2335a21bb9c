import { eq } from 'drizzle-orm';
import { createMiddleware } from 'hono/factory';
import { hostCredentials } from '../../../schema/tables/index.ts';
import { constantTimeEqual, sha256Hex } from '../../shared/encoding.ts';
import { Unauthorized } from '../../shared/errors.ts';
import type { AppEnv } from '../context.ts';

// Agents authenticate as their host with `Authorization: Host <host>:<secret>`. The secret is
// stored hashed; a credential proves one host and nothing else.
export const authenticateHost = createMiddleware<AppEnv>(async (c, next) => {
  const match = /^Host ([^:\s]+):(\S+)$/.exec(c.req.header('authorization') ?? '');
  if (!match?.[1] || !match[2])
    throw new Unauthorized('Host credential required: Authorization: Host <host>:<secret>');
  const [, host, secret] = match;
  const [credential] = await c.var.db.$primary
    .select({ secret_hash: hostCredentials.secret_hash })
    .from(hostCredentials)
    .where(eq(hostCredentials.host, host));
  if (!credential || !constantTimeEqual(credential.secret_hash, await sha256Hex(secret))) {
    throw new Unauthorized(`Invalid credential for host ${host}`);
  }
  c.set('host', host);
  await next();
});
