import { createMiddleware } from 'hono/factory';
import * as v from 'valibot';
import { primaryPosition, replicaHasReached } from '../../../schema/consistency.ts';
import { connectDatabase, createDatabase } from '../../../schema/db.ts';
import type { AppEnv } from '../context.ts';
import { parseOrBadRequest } from './validate.ts';

/**
 * Read-your-writes: a successful write answers with the primary's replication position in this
 * header; a read that sends it back is served only by replicas that have applied it (the primary
 * when none has). Reads without it may see a replica a little behind.
 */
export const CONSISTENCY_HEADER = 'x-consistency-token';

const READS = new Set(['GET', 'HEAD']);
const Token = v.pipe(
  v.string(),
  v.maxLength(4096),
  v.regex(/^[0-9A-Za-z:,\-\s]*$/, 'not a replication position'),
);

export const readYourWrites = createMiddleware<AppEnv>(async (c, next) => {
  const { config } = c.var;
  const token = c.req.header(CONSISTENCY_HEADER);
  if (READS.has(c.req.method) && token && config.DATABASE_REPLICA_URLS.length > 0) {
    const position = parseOrBadRequest(Token, token);
    const reached = await Promise.all(
      config.DATABASE_REPLICA_URLS.map((url) =>
        replicaHasReached(connectDatabase(url), config.DATABASE_FLAVOR, position),
      ),
    );
    c.set(
      'db',
      createDatabase({
        primary: config.DATABASE_URL,
        replicas: config.DATABASE_REPLICA_URLS.filter((_, index) => reached[index]),
      }),
    );
  }
  await next();
  if (!READS.has(c.req.method) && c.res.status < 400) {
    c.header(CONSISTENCY_HEADER, await primaryPosition(c.var.db.$primary, config.DATABASE_FLAVOR));
  }
});
