import { createMiddleware } from 'hono/factory';
import * as v from 'valibot';
import {
  fencedReplicas,
  fenceReplica,
  liftFence,
  primaryPosition,
  replicaHasReached,
  replicaReaches,
} from '../../../schema/consistency.ts';
import { connectDatabase, createDatabase, type PrimaryDb } from '../../../schema/db.ts';
import type { ApiConfig } from '../../shared/config.ts';
import type { AppEnv } from '../context.ts';
import { parseOrBadRequest } from './validate.ts';

/**
 * Read-your-writes: a successful write answers with the primary's replication position in this
 * header; a read that sends it back is served only by replicas that have applied it (the primary
 * when none has).
 *
 * Clients that never send it (the OpenStack SDK and CLI) read their writes too: a successful write
 * answers only once every replica has applied it or REPLICA_WAIT_MS has passed, and fences each
 * replica that has not; reads skip a fenced replica until it catches up (schema/consistency.ts).
 * Writes made by workflows outside a request are not waited for: they reach reads with replica lag.
 */
export const CONSISTENCY_HEADER = 'x-consistency-token';

const READS = new Set(['GET', 'HEAD']);
const Token = v.pipe(
  v.string(),
  v.maxLength(4096),
  v.regex(/^[0-9A-Za-z:,\-\s]*$/, 'not a replication position'),
);

/** How a fence names its replica: the same host on every worker, and no credentials. */
function replicaName(url: string): string {
  return new URL(url).host;
}

/** Whether a read may use this replica: it has applied the client's token and its own fence, if any. */
async function replicaServes(
  config: ApiConfig,
  primary: PrimaryDb,
  url: string,
  token: string | undefined,
  fences: Promise<Map<string, string>>,
): Promise<boolean> {
  const replica = connectDatabase(url);
  const pastFence = fences.then(async (fenced) => {
    const position = fenced.get(replicaName(url));
    if (position === undefined) return true;
    // A fenced replica that does not answer (down, most likely) is simply not read from.
    const reached = await replicaHasReached(replica, config.DATABASE_FLAVOR, position).catch(() => false);
    if (reached) await liftFence(primary, replicaName(url), position);
    return reached;
  });
  const [tokenReached, fenceCleared] = await Promise.all([
    token === undefined ? true : replicaHasReached(replica, config.DATABASE_FLAVOR, token),
    pastFence,
  ]);
  return tokenReached && fenceCleared;
}

/** Waits for each replica to apply `position`, and fences those that do not within the bound. */
async function awaitReplicas(
  config: ApiConfig,
  primary: PrimaryDb,
  position: string,
  requestId: string,
): Promise<void> {
  await Promise.all(
    config.DATABASE_REPLICA_URLS.map(async (url) => {
      const outcome = await replicaReaches(
        connectDatabase(url),
        config.DATABASE_FLAVOR,
        position,
        config.REPLICA_WAIT_MS,
      ).catch((error: Error) => error);
      if (outcome === true) return;
      // The write is committed: an unreachable replica must not fail its answer, only stop serving reads.
      const { newlyFenced } = await fenceReplica(primary, config.DATABASE_FLAVOR, replicaName(url));
      // Once per episode: while a replica stays behind, every write raises its fence again.
      if (!newlyFenced) return;
      console.warn(
        JSON.stringify({
          level: 'warn',
          request_id: requestId,
          kind: 'replica-fenced',
          replica: replicaName(url),
          reason:
            outcome instanceof Error
              ? outcome.message
              : `not caught up within REPLICA_WAIT_MS=${config.REPLICA_WAIT_MS}`,
        }),
      );
    }),
  );
}

export const readYourWrites = createMiddleware<AppEnv>(async (c, next) => {
  const { config } = c.var;
  const replicaUrls = config.DATABASE_REPLICA_URLS;
  const fencing = config.REPLICA_WAIT_MS > 0;
  if (READS.has(c.req.method) && replicaUrls.length > 0) {
    const header = c.req.header(CONSISTENCY_HEADER);
    const token = header ? parseOrBadRequest(Token, header) : undefined;
    if (token !== undefined || fencing) {
      const primary = c.var.db.$primary;
      const fences = fencing ? fencedReplicas(primary) : Promise.resolve(new Map<string, string>());
      const serving = await Promise.all(
        replicaUrls.map((url) => replicaServes(config, primary, url, token, fences)),
      );
      if (serving.includes(false)) {
        c.set(
          'db',
          createDatabase({
            primary: config.DATABASE_URL,
            replicas: replicaUrls.filter((_, index) => serving[index]),
          }),
        );
      }
    }
  }
  await next();
  if (!READS.has(c.req.method) && c.res.status < 400) {
    const primary = c.var.db.$primary;
    const position = await primaryPosition(primary, config.DATABASE_FLAVOR);
    if (fencing) await awaitReplicas(config, primary, position, c.var.requestId);
    c.header(CONSISTENCY_HEADER, position);
  }
});
