import type { Context } from 'hono';
import * as v from 'valibot';
import { TERMINAL_MIGRATION_STATUSES } from '../../compute/migration-states.ts';
import { BadRequest, Conflict, NotFound } from '../../shared/errors.ts';
import type { AppEnv } from '../context.ts';
import type { migrationView } from '../nova/migration-view.ts';
import { serverMigrationsExtension } from '../nova/server-migrations.ts';
import { route } from '../route.ts';
import { defineFace, v3Route } from './face.ts';
import { atLeast } from './microversion.ts';
import { novaTime, novaTimeOrNull } from './nova-time.ts';
import { strictQuery } from './query.ts';
import { callV3 } from './v3-call.ts';

// A server's live migrations in flight, under v2.1's names (force_complete 2.22, list and show 2.23,
// abort 2.24; their uuid 2.59; aborting one that has not started copying 2.65; who started them 2.80).
// Nova shows only live migrations still under way here; the v3 extension lists every move of the server.
type V3Migration = ReturnType<typeof migrationView>;

const BASE = '/v3/servers/:server_id/migrations';
const V3_LIST = v3Route(serverMigrationsExtension, 'get', BASE);
const V3_SHOW = v3Route(serverMigrationsExtension, 'get', `${BASE}/:migration_id`);
const V3_CANCEL = v3Route(serverMigrationsExtension, 'delete', `${BASE}/:migration_id`);
const V3_FORCE = v3Route(serverMigrationsExtension, 'post', `${BASE}/:migration_id/action`);

function inProgressLive(migration: V3Migration): boolean {
  return (
    migration.migration_type === 'live-migration' &&
    !(TERMINAL_MIGRATION_STATUSES as readonly string[]).includes(migration.status)
  );
}

/** Nova's server migration; the memory and disk byte counts are not tracked here. */
function migrationView21(c: Context<AppEnv>, migration: V3Migration) {
  return {
    id: migration.id,
    server_uuid: migration.instance_uuid,
    status: migration.status,
    source_compute: migration.source_compute,
    source_node: migration.source_node,
    dest_compute: migration.dest_compute,
    dest_node: migration.dest_node,
    dest_host: migration.dest_host,
    memory_total_bytes: null,
    memory_processed_bytes: null,
    memory_remaining_bytes: null,
    disk_total_bytes: null,
    disk_processed_bytes: null,
    disk_remaining_bytes: null,
    created_at: novaTime(migration.created_at),
    updated_at: novaTimeOrNull(migration.updated_at),
    ...(atLeast(c, 59) ? { uuid: migration.uuid } : {}),
    ...(atLeast(c, 80) ? { user_id: migration.user_id, project_id: migration.project_id } : {}),
  };
}

/** The live migration in flight the path names, or 404 as Nova answers for any other move. */
async function inProgressMigration(c: Context<AppEnv>): Promise<V3Migration> {
  const { body } = await callV3<{ migration: V3Migration }>(c, V3_SHOW);
  if (!inProgressLive(body.migration)) {
    throw new NotFound(
      `In-progress live migration ${body.migration.id} is not found for server ${body.migration.instance_uuid}.`,
    );
  }
  return body.migration;
}

/** Nova refuses a request a migration's status does not allow with 400 (InvalidMigrationState); v3 with 409. */
async function asInvalidState<T>(request: Promise<T>): Promise<T> {
  return request.catch((error: unknown) => {
    if (error instanceof Conflict) throw new BadRequest(error.message);
    throw error;
  });
}

export const serverMigrationsFace = defineFace({
  alias: 'server-migrations',
  routes: [
    strictQuery(
      route({
        method: 'get',
        path: '/v2.1/servers/:server_id/migrations',
        summary: "List a server's live migrations in progress (admin)",
        since: 23,
        responses: { 200: 'migrations' },
        handler: async (c) => {
          const { body } = await callV3<{ migrations: V3Migration[] }>(c, V3_LIST);
          return c.json({
            migrations: body.migrations
              .filter(inProgressLive)
              .map((migration) => migrationView21(c, migration)),
          });
        },
      }),
      102,
    ),
    strictQuery(
      route({
        method: 'get',
        path: '/v2.1/servers/:server_id/migrations/:migration_id',
        summary: 'Show a live migration in progress (admin)',
        since: 23,
        responses: { 200: 'migration' },
        handler: async (c) => c.json({ migration: migrationView21(c, await inProgressMigration(c)) }),
      }),
      102,
    ),
    route({
      method: 'delete',
      path: '/v2.1/servers/:server_id/migrations/:migration_id',
      summary: 'Abort a live migration in progress (admin); the guest stays on the source',
      since: 24,
      responses: { 202: 'no body' },
      handler: async (c) => {
        const migration = await inProgressMigration(c);
        // Before 2.65 only a migration that is copying (Nova's running) can be aborted.
        if (!atLeast(c, 65) && migration.status !== 'migrating') {
          throw new BadRequest(
            `Migration ${migration.id} state of instance ${migration.instance_uuid} is ${migration.status}. Cannot abort live migration unless it is migrating.`,
          );
        }
        await asInvalidState(callV3(c, V3_CANCEL));
        return c.body(null, 202);
      },
    }),
    route({
      method: 'post',
      path: '/v2.1/servers/:server_id/migrations/:migration_id/action',
      summary: 'force_complete: finish a live migration now (admin)',
      since: 22,
      body: v.strictObject({ force_complete: v.null('force_complete takes null') }),
      responses: { 202: 'no body' },
      handler: async (c, { body }) => {
        await asInvalidState(callV3(c, V3_FORCE, { body }));
        return c.body(null, 202);
      },
    }),
  ],
  microversions: [
    {
      minor: 22,
      change: 'force_complete a live migration that is copying (400 in any other status)',
      routes: ['/v2.1/servers/{server_id}/migrations/{migration_id}/action'],
    },
    {
      minor: 23,
      change:
        "list and show a server's live migrations in progress (os-migrations' migration_type and links are that face's)",
      routes: ['/v2.1/servers/{server_id}/migrations[/{migration_id}]'],
    },
    {
      minor: 24,
      change: 'abort a live migration that is copying; the guest stays on the source',
      routes: ['/v2.1/servers/{server_id}/migrations/{migration_id}'],
    },
    {
      minor: 59,
      change: "uuid in a server's migrations (os-migrations' paging and filters are that face's)",
      routes: ['/v2.1/servers/{server_id}/migrations[/{migration_id}]'],
    },
    {
      minor: 65,
      change: 'abort a live migration that has not started copying yet (pre-migrating) too',
      routes: ['/v2.1/servers/{server_id}/migrations/{migration_id}'],
    },
    {
      minor: 80,
      change:
        'user_id and project_id of whoever started the migration (null for moves recorded before they were) (server migrations part)',
      routes: ['/v2.1/servers/{server_id}/migrations[/{migration_id}]'],
    },
    {
      minor: 102,
      change: 'unknown query parameters are a 400 on every GET',
      routes: ['/v2.1/servers/{server_id}/migrations[/{migration_id}]'],
    },
  ],
});
