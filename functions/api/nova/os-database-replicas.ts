import { replicaStatus } from '../../../schema/consistency.ts';
import { connectDatabase } from '../../../schema/db.ts';
import { authorize } from '../policy.ts';
import { route } from '../route.ts';
import { defineExtension } from './extension.ts';

export const databaseReplicasExtension = defineExtension({
  alias: 'os-database-replicas',
  name: 'DatabaseReplicas',
  description:
    'Admin view of the read replicas: whether each has caught up with the primary, and where each stands.',
  version: 1,
  core: false,
  history: [{ version: 1, change: 'list replicas with positions and caught_up' }],
  routes: [
    route({
      method: 'get',
      path: '/v3/os-database-replicas',
      summary: 'Replication status of every read replica (admin)',
      responses: { 200: 'replicas: index, host, caught_up, primary_position, replica_position' },
      handler: async (c) => {
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
      },
    }),
  ],
});
