import { Hono } from 'hono';
import * as v from 'valibot';
import { hostCredentials } from '../../../schema/tables/index.ts';
import { randomSecret, sha256Hex } from '../../shared/encoding.ts';
import type { AppEnv } from '../context.ts';
import { authenticate } from '../middleware/auth.ts';
import { readJson } from '../middleware/validate.ts';
import { authorize } from '../policy.ts';

/** Host names become queue names, so they are limited to what SQS accepts. */
export const HostName = v.pipe(
  v.string(),
  v.regex(
    /^[A-Za-z0-9][A-Za-z0-9-]{0,62}$/,
    'host must be 1-63 letters, digits or hyphens, starting alphanumeric',
  ),
);

// An admin issues (or rotates) a host's credential; the secret is shown once and stored hashed.
export const credentialRoutes = new Hono<AppEnv>().post('/', authenticate, async (c) => {
  authorize(c.var.caller, 'compute_agent:host_credentials');
  const { host } = await readJson(c, v.object({ host: HostName }));
  const secret = randomSecret();
  const secretHash = await sha256Hex(secret);
  const now = new Date();
  await c.var.db.$primary
    .insert(hostCredentials)
    .values({ host, secret_hash: secretHash, created_at: now })
    .onDuplicateKeyUpdate({ set: { secret_hash: secretHash, updated_at: now } });
  return c.json({ credential: { host, secret } }, 201);
});
