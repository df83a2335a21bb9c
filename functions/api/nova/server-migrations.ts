import { and, desc, eq, inArray } from 'drizzle-orm';
import type { Context } from 'hono';
import * as v from 'valibot';
import { type MigrationControl, migrations } from '../../../schema/tables/index.ts';
import { BadRequest, Conflict, NotFound } from '../../shared/errors.ts';
import type { AppEnv } from '../context.ts';
import { requestedVersion } from '../middleware/extension-versions.ts';
import { authorize } from '../policy.ts';
import { route } from '../route.ts';
import { defineExtension } from './extension.ts';
import { migrationView } from './migration-view.ts';
import { loadServerForAction } from './server-action-kit.ts';

// The moves of one server, and an admin's say over a live migration in flight: cancel it (the source
// keeps the guest) or force it to complete. The request is recorded on the migration; the source host's
// agent reads it with its next heartbeat, so nothing here ever talks to a host.

type MigrationRow = typeof migrations.$inferSelect;

/** The server's uuid, as every server action finds it (another project's server is a 404). */
async function findServer(c: Context<AppEnv>): Promise<string> {
  return (await loadServerForAction(c, c.req.param('server_id') ?? '')).uuid;
}

async function findMigration(c: Context<AppEnv>, primary: boolean): Promise<MigrationRow> {
  const uuid = await findServer(c);
  const id = Number(c.req.param('migration_id'));
  const db = primary ? c.var.db.$primary : c.var.db;
  const [migration] = Number.isSafeInteger(id)
    ? await db
        .select()
        .from(migrations)
        .where(and(eq(migrations.id, id), eq(migrations.instance_uuid, uuid), eq(migrations.deleted, 0)))
    : [];
  if (!migration) {
    throw new NotFound(`Migration ${c.req.param('migration_id')} for server ${uuid} could not be found.`);
  }
  return migration;
}

/** Records the admin's request, conditional on the migration still being in a status it applies to. */
async function requestControl(
  c: Context<AppEnv>,
  control: MigrationControl,
  statuses: readonly string[],
): Promise<void> {
  const migration = await findMigration(c, true);
  if (migration.migration_type !== 'live-migration') {
    throw new BadRequest(`Migration ${migration.id} is a ${migration.migration_type}, not a live migration`);
  }
  const updated = await c.var.db.$primary
    .update(migrations)
    .set({ control, updated_at: new Date() })
    .where(and(eq(migrations.id, migration.id), inArray(migrations.status, [...statuses])));
  if (updated.rowsAffected !== 1) {
    throw new Conflict(
      `Cannot ${control === 'cancel' ? 'cancel' : 'force completion of'} migration ${migration.id} while it is ${migration.status}`,
    );
  }
}

const ForceComplete = v.strictObject({ force_complete: v.null() });

/** A migration as the requested version of the extension shows it: uuid and owner from version 2. */
function viewOf(c: Context<AppEnv>, row: MigrationRow) {
  const recent = requestedVersion(c, serverMigrationsExtension) >= 2;
  return migrationView(row, { owner: recent, uuid: recent });
}

export const serverMigrationsExtension = defineExtension({
  alias: 'server-migrations',
  name: 'ServerMigrations',
  description: 'List the migrations of a server; cancel or force the completion of a live migration.',
  version: 2,
  core: false,
  history: [
    { version: 1, change: 'list, show, cancel (DELETE) and force_complete a live migration' },
    { version: 2, change: 'each migration shows its uuid and the user_id and project_id that started it' },
  ],
  routes: [
    route({
      method: 'get',
      path: '/v3/servers/:server_id/migrations',
      summary: 'List the migrations of a server, newest first (admin)',
      responses: { 200: 'migrations' },
      handler: async (c) => {
        authorize(c.var.caller, 'compute_extension:server-migrations');
        const uuid = await findServer(c);
        const rows = await c.var.db
          .select()
          .from(migrations)
          .where(and(eq(migrations.instance_uuid, uuid), eq(migrations.deleted, 0)))
          .orderBy(desc(migrations.created_at), desc(migrations.id));
        return c.json({ migrations: rows.map((row) => viewOf(c, row)) });
      },
    }),
    route({
      method: 'get',
      path: '/v3/servers/:server_id/migrations/:migration_id',
      summary: 'Show one migration of a server (admin)',
      responses: { 200: 'migration' },
      handler: async (c) => {
        authorize(c.var.caller, 'compute_extension:server-migrations');
        return c.json({ migration: viewOf(c, await findMigration(c, false)) });
      },
    }),
    route({
      method: 'delete',
      path: '/v3/servers/:server_id/migrations/:migration_id',
      summary: 'Cancel a live migration that has not completed (admin); the guest stays on the source',
      responses: { 202: 'no body' },
      handler: async (c) => {
        authorize(c.var.caller, 'compute_extension:server-migrations:cancel');
        await requestControl(c, 'cancel', ['pre-migrating', 'migrating']);
        return c.body(null, 202);
      },
    }),
    route({
      method: 'post',
      path: '/v3/servers/:server_id/migrations/:migration_id/action',
      summary:
        'force_complete: finish a live migration now instead of waiting for the copy to converge (admin)',
      body: ForceComplete,
      responses: { 202: 'no body' },
      handler: async (c) => {
        authorize(c.var.caller, 'compute_extension:server-migrations:force_complete');
        await requestControl(c, 'force_complete', ['migrating']);
        return c.body(null, 202);
      },
    }),
  ],
});
