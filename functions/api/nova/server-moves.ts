// Starting a move of a server and deciding a resize: the API's side of the migrate-server workflow
// (workflows/migrate-server.ts). The actions that ask for a move (resize, migrate, migrate_live,
// evacuate, confirm_resize, revert_resize) validate their request with these checks, then start it.
import { StartExecutionCommand } from '@aws-sdk/client-sfn';
import { and, desc, eq } from 'drizzle-orm';
import type { Context } from 'hono';
import type { PrimaryDb } from '../../../schema/db.ts';
import { type FlavorSnapshot, instances, migrations } from '../../../schema/tables/index.ts';
import { finishAction } from '../../compute/instance-actions.ts';
import { type InstanceEvent, transitionInstance } from '../../compute/instance-states.ts';
import { transitionMigration } from '../../compute/migration-states.ts';
import { missingMoveCommands, moveCommands } from '../../compute/move-commands.ts';
import { isServiceUp } from '../../compute/service-liveness.ts';
import { loadHostService } from '../../conductor/host-commands.ts';
import { BadRequest, Conflict, NotFound, ServiceUnavailable } from '../../shared/errors.ts';
import type { AppEnv } from '../context.ts';
import { type InstanceRow, recordRequest, requireState } from './server-action-kit.ts';

/** The workflow that carries out every move. */
export const MIGRATE_WORKFLOW = 'migrate-server';

/** 409 while this deployment has no migrate-server workflow: callers check this before writing. */
export function requireMigrationWorkflow(c: Context<AppEnv>): string {
  const arn = c.var.config.STATE_MACHINE_ARNS[MIGRATE_WORKFLOW];
  if (!arn) {
    throw new Conflict(
      'Migrations are not available in this deployment: the migrate-server workflow is not deployed',
    );
  }
  return arn;
}

/**
 * A compute host by name (400 when there is none); `expect` says whether the move needs it up (a target
 * checked before the request is accepted) or down (evacuate's source).
 */
export async function requireComputeHost(
  c: Context<AppEnv>,
  host: string,
  expect?: 'up' | 'down',
): Promise<void> {
  const service = await loadHostService(c.var.db.$primary, host).catch((error: unknown) => {
    if (error instanceof NotFound) throw new BadRequest(`Compute host ${host} could not be found.`);
    throw error;
  });
  const up = isServiceUp(service, new Date(), c.var.config.SERVICE_DOWN_TIME_SECONDS);
  if (expect === 'up' && (!up || service.disabled)) {
    throw new BadRequest(`Compute service of ${host} is unavailable at this time.`);
  }
  if (expect === 'down' && up) throw new Conflict(`Compute service of ${host} is still in use.`);
}

/**
 * 409 when a host's agent cannot run what the move needs from it (an agent older than moves, during a
 * rolling upgrade). A destination the scheduler picks is checked when the command is prepared.
 */
async function requireMoveCommands(
  db: PrimaryDb,
  migrationType: MigrationRequest['migration_type'],
  side: 'source' | 'destination',
  host: string | null | undefined,
): Promise<void> {
  // Evacuation sends its source nothing: no need to read that host.
  if (!host || moveCommands(migrationType, side).length === 0) return;
  const service = await loadHostService(db, host).catch((error: unknown) => {
    if (error instanceof NotFound) return undefined;
    throw error;
  });
  const missing = service ? missingMoveCommands(service.supported_commands, migrationType, side) : [];
  if (missing.length > 0) {
    throw new Conflict(
      `The agent of compute host ${host} does not run ${missing.join(', ')}, which a ${migrationType} needs on its ${side}: upgrade it first`,
    );
  }
}

export interface MigrationRequest {
  event: InstanceEvent;
  /** The instance action name, e.g. `resize` or `live-migration`. */
  action: string;
  migration_type: 'migration' | 'resize' | 'live-migration' | 'evacuation';
  dest_compute?: string | null;
  /** A resize's new flavor; every other move keeps the instance's. */
  new_flavor?: FlavorSnapshot;
  /** Passed to the migrate-server workflow as its `options` (block_migration, on_shared_storage...). */
  options?: Record<string, unknown>;
}

async function insertMigrationRow(
  c: Context<AppEnv>,
  instance: InstanceRow,
  request: MigrationRequest,
): Promise<number> {
  const [inserted] = await c.var.db.$primary
    .insert(migrations)
    .values({
      instance_uuid: instance.uuid,
      // Whoever asked for the move, which is not necessarily the server's owner (compute 2.80).
      user_id: c.var.caller.userId,
      project_id: c.var.caller.projectId,
      migration_type: request.migration_type,
      status: 'pre-migrating',
      source_compute: instance.host,
      source_node: instance.node,
      dest_compute: request.dest_compute ?? null,
      old_flavorid: instance.flavor.flavorid,
      new_flavorid: (request.new_flavor ?? instance.flavor).flavorid,
      old_flavor: instance.flavor,
      new_flavor: request.new_flavor ?? instance.flavor,
      created_at: new Date(),
    })
    .$returningId();
  if (inserted?.id === undefined) throw new Error('the migration row was not created');
  return inserted.id;
}

/**
 * Starts a move: the instance's task state, a `pre-migrating` migrations row, and the migrate-server
 * workflow. Callers validate everything first (requireState, requireMigrationWorkflow, hosts,
 * flavors), so a refused request writes nothing; the task state goes first because it is the
 * conditional write a concurrent action can win, and a request that loses it leaves no row behind.
 */
export async function startMigration(
  c: Context<AppEnv>,
  instance: InstanceRow,
  request: MigrationRequest,
): Promise<number> {
  const arn = requireMigrationWorkflow(c);
  const db = c.var.db.$primary;
  await requireMoveCommands(db, request.migration_type, 'source', instance.host);
  await requireMoveCommands(db, request.migration_type, 'destination', request.dest_compute);
  await transitionInstance(db, instance.uuid, request.event);
  const migrationId = await insertMigrationRow(c, instance, request).catch(async (error: unknown) => {
    await transitionInstance(db, instance.uuid, 'server_action_abandoned');
    throw error;
  });
  await recordRequest(c, db, request.action, instance.uuid);
  try {
    const execution = await c.var.sfn.send(
      new StartExecutionCommand({
        stateMachineArn: arn,
        name: `${request.action}-${instance.uuid}-${migrationId}`,
        input: JSON.stringify({
          instance_uuid: instance.uuid,
          migration_id: migrationId,
          migration_type: request.migration_type,
          operation: 'move',
          options: request.options ?? {},
        }),
      }),
    );
    await db
      .update(migrations)
      .set({ execution_arn: execution.executionArn, updated_at: new Date() })
      .where(eq(migrations.id, migrationId));
    await db
      .update(instances)
      .set({ execution_arn: execution.executionArn })
      .where(eq(instances.uuid, instance.uuid));
  } catch (error) {
    await transitionMigration(db, migrationId, 'failed', {
      error_message: `the workflow could not be started: ${(error as Error).message}`.slice(0, 1024),
    });
    await transitionInstance(db, instance.uuid, 'server_action_abandoned');
    await finishAction(db, instance.uuid, 'Error');
    throw new ServiceUnavailable(
      `The ${MIGRATE_WORKFLOW} workflow could not be started: ${(error as Error).message}`,
    );
  }
  return migrationId;
}

/**
 * confirm_resize / revert_resize: moves the waiting (`finished`) migration and the instance on, then
 * runs that path of the migrate-server workflow. The conditional writes make a concurrent confirm,
 * revert or the auto-confirm window lose cleanly with a 409.
 */
export async function decideResize(
  c: Context<AppEnv>,
  instance: InstanceRow,
  operation: 'confirm_resize' | 'revert_resize',
): Promise<void> {
  const event = operation === 'confirm_resize' ? 'confirm_resize_requested' : 'revert_resize_requested';
  requireState(instance, event);
  const arn = requireMigrationWorkflow(c);
  const db = c.var.db.$primary;
  const [migration] = await db
    .select({ id: migrations.id, status: migrations.status })
    .from(migrations)
    .where(and(eq(migrations.instance_uuid, instance.uuid), eq(migrations.deleted, 0)))
    .orderBy(desc(migrations.id))
    .limit(1);
  if (migration && migration.status !== 'finished' && instance.vm_state === 'resized') {
    // Another confirm or revert (or the confirm window) decided first.
    throw new Conflict(`Migration ${migration.id} is already ${migration.status}`);
  }
  if (migration?.status !== 'finished')
    throw new BadRequest(`Instance ${instance.uuid} has not been resized.`);
  await transitionMigration(
    db,
    migration.id,
    operation === 'confirm_resize' ? 'confirm_started' : 'revert_started',
  );
  await transitionInstance(db, instance.uuid, event).catch(async (error: unknown) => {
    await transitionMigration(db, migration.id, 'decision_withdrawn');
    throw error;
  });
  await recordRequest(
    c,
    db,
    operation === 'confirm_resize' ? 'confirmResize' : 'revertResize',
    instance.uuid,
  );
  try {
    const execution = await c.var.sfn.send(
      new StartExecutionCommand({
        stateMachineArn: arn,
        name: `${operation}-${instance.uuid}-${migration.id}`,
        input: JSON.stringify({
          instance_uuid: instance.uuid,
          migration_id: migration.id,
          operation,
          options: {},
        }),
      }),
    );
    await db
      .update(instances)
      .set({ execution_arn: execution.executionArn })
      .where(eq(instances.uuid, instance.uuid));
  } catch (error) {
    // Nothing will carry the decision out: the server waits in VERIFY_RESIZE again.
    await transitionMigration(db, migration.id, 'decision_withdrawn');
    await transitionInstance(db, instance.uuid, 'server_action_abandoned');
    await finishAction(db, instance.uuid, 'Error');
    throw new ServiceUnavailable(
      `The ${MIGRATE_WORKFLOW} workflow could not be started: ${(error as Error).message}`,
    );
  }
}
