import { Hono } from 'hono';
import { replicaStatus } from '../../../schema/consistency.ts';
import { connectDatabase } from '../../../schema/db.ts';
import type { AppEnv } from '../context.ts';
import { authorize } from '../policy.ts';
import type { ExtensionInfo } from './extension.ts';

export const DATABASE_REPLICAS_EXTENSION = {
  alias: 'os-database-replicas',
  name: 'DatabaseReplicas',
  description:
    'Admin view of the read replicas: whether each has caught up with the primary, and where each stands.',
  version: 1,
  core: false,
} as const satisfies ExtensionInfo;

export const databaseReplicaRoutes = new Hono<AppEnv>().get('/', async (c) => {
  authorize(c.var.caller, 'compute_extension:database_replicas');
  const { config } = c.var;
  const primary = connectDatabase(config.DATABASE_URL);
  const replicas = await Promise.all(
    config.DATABASE_REPLICA_URLS.map(async (url, index) => ({
      index,
      host: new URL(url).host,
      ...(await replicaStatus(primary, connectDatabase(url), config.DATABASE_FLAVOR)),
    })),
  );
  return c.json({ replicas });
});
