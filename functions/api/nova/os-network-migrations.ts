import { DescribeExecutionCommand, StartExecutionCommand, StopExecutionCommand } from '@aws-sdk/client-sfn';
import { desc, eq } from 'drizzle-orm';
import type { Context } from 'hono';
import * as v from 'valibot';
import { networkMigrations } from '../../../schema/tables/index.ts';
import { DEFAULT_PHYSICAL_NETWORK } from '../../network/migration/plan.ts';
import { loadNetworkMigration, type NetworkMigrationRow } from '../../network/migration/runs.ts';
import {
  type NetworkMigrationStatus,
  networkMigrationTransitionAllowed,
  RESUMABLE_STATUSES,
  transitionNetworkMigration,
} from '../../network/migration/states.ts';
import { networkApiMode } from '../../network/mode.ts';
import { stateMachineArn } from '../../shared/aws.ts';
import { Conflict, isDuplicateKey, ServiceUnavailable } from '../../shared/errors.ts';
import type { AppEnv } from '../context.ts';
import { authorize } from '../policy.ts';
import { route } from '../route.ts';
import { defineExtension } from './extension.ts';

// The admin's handle on the nova-network → networking service migration (workflows/network-migration.ts):
// start a run (or a dry run), watch its status, progress and report while it runs, and roll it back
// before the cut-over or resume it after a crash, a stop or a failure. A resume is an action on the run
// (not a new POST, which would be a new run and is refused while this one is unfinished): it starts a
// new execution of the workflow for the same run, which carries on from what exists.

const WORKFLOW = 'network-migration';
const POLICY = 'compute_extension:os-network-migrations';

const PhysicalNetwork = v.pipe(v.string(), v.trim(), v.minLength(1, 'must not be empty'), v.maxLength(64));
const CreateBody = v.strictObject({
  network_migration: v.strictObject({
    dry_run: v.optional(v.boolean(), false),
    /** The provider physical network the migrated networks go on (`physnet1` unless told). */
    physical_network: v.optional(PhysicalNetwork, DEFAULT_PHYSICAL_NETWORK),
  }),
});
const ActionBody = v.pipe(
  v.strictObject({ rollback: v.optional(v.null()), resume: v.optional(v.null()) }),
  v.check(
    (body) => Object.keys(body).length === 1,
    'the body must hold exactly one action: rollback or resume',
  ),
);

/** A run as the API shows it; the list leaves the report out and counts what it holds instead. */
function migrationView(row: NetworkMigrationRow, withReport: boolean) {
  return {
    id: row.uuid,
    status: row.status,
    dry_run: row.dry_run,
    physical_network: row.physical_network,
    step: row.step,
    progress: row.progress,
    error: row.error,
    user_id: row.user_id,
    project_id: row.project_id,
    created_at: row.created_at.toISOString(),
    updated_at: row.updated_at?.toISOString() ?? null,
    finished_at: row.finished_at?.toISOString() ?? null,
    ...(withReport
      ? { report: row.report }
      : {
          conflicts: row.report.conflicts?.length ?? 0,
          differences: row.report.differences?.length ?? 0,
        }),
  };
}

/** Starts an execution for the run (a first start or a resume) and records it on the row. */
async function startExecution(c: Context<AppEnv>, uuid: string): Promise<void> {
  const execution = await c.var.sfn.send(
    new StartExecutionCommand({
      stateMachineArn: stateMachineArn(c.var.config, WORKFLOW),
      // The request id tells one execution of the run from another, and names the request that started it.
      name: `${uuid}-${c.var.requestId}`.slice(0, 80),
      input: JSON.stringify({ migration_uuid: uuid }),
    }),
  );
  await c.var.db.$primary
    .update(networkMigrations)
    .set({ execution_arn: execution.executionArn, updated_at: new Date() })
    .where(eq(networkMigrations.uuid, uuid));
}

/** Whether the run's last execution still runs; one the endpoint no longer knows has ended. */
async function executionRunning(c: Context<AppEnv>, arn: string | null): Promise<boolean> {
  if (!arn) return false;
  try {
    const execution = await c.var.sfn.send(new DescribeExecutionCommand({ executionArn: arn }));
    return execution.status === 'RUNNING';
  } catch (error) {
    if ((error as Error).name === 'ExecutionDoesNotExist') return false;
    throw new ServiceUnavailable(`The migration's execution could not be read: ${(error as Error).message}`);
  }
}

async function stopExecution(c: Context<AppEnv>, arn: string | null): Promise<void> {
  if (!(await executionRunning(c, arn)) || !arn) return;
  await c.var.sfn.send(
    new StopExecutionCommand({
      executionArn: arn,
      error: 'RolledBack',
      cause: 'An admin rolled the migration back',
    }),
  );
}

async function requireResumable(c: Context<AppEnv>, run: NetworkMigrationRow): Promise<void> {
  if (!(RESUMABLE_STATUSES as readonly string[]).includes(run.status)) {
    throw new Conflict(`Network migration ${run.uuid} is ${run.status}: there is nothing to resume`);
  }
  if (await executionRunning(c, run.execution_arn)) {
    throw new Conflict(
      `Network migration ${run.uuid} is still running; resume it once its execution has stopped`,
    );
  }
}

export const networkMigrationsExtension = defineExtension({
  alias: 'os-network-migrations',
  name: 'NetworkMigrations',
  description: 'Migrate a nova-network deployment to the networking service, keeping every MAC and IP.',
  version: 1,
  core: false,
  history: [
    { version: 1, change: 'start (or dry-run), list, show, roll back and resume network migrations' },
  ],
  routes: [
    route({
      method: 'post',
      path: '/v3/os-network-migrations',
      summary: 'Start a migration to the networking service, or a dry run of it (admin)',
      body: CreateBody,
      responses: { 202: 'network_migration: the run, planning' },
      handler: async (c, { body }) => {
        authorize(c.var.caller, POLICY);
        const db = c.var.db.$primary;
        if ((await networkApiMode(db, c.var.config)) === 'neutron') {
          throw new Conflict(
            'This deployment already runs the networking service: there is nothing to migrate',
          );
        }
        const uuid = crypto.randomUUID();
        const now = new Date();
        try {
          await db.insert(networkMigrations).values({
            uuid,
            status: 'planning' satisfies NetworkMigrationStatus,
            dry_run: body.network_migration.dry_run,
            physical_network: body.network_migration.physical_network,
            user_id: c.var.caller.userId,
            project_id: c.var.caller.projectId,
            unfinished: 1,
            progress: {},
            report: {},
            created_at: now,
          });
        } catch (error) {
          if (!isDuplicateKey(error)) throw error;
          const [open] = await db
            .select({ uuid: networkMigrations.uuid, status: networkMigrations.status })
            .from(networkMigrations)
            .where(eq(networkMigrations.unfinished, 1));
          throw new Conflict(
            `Network migration ${open?.uuid ?? ''} is ${open?.status ?? 'unfinished'}: finish, resume or roll it back first`,
          );
        }
        try {
          await startExecution(c, uuid);
        } catch (error) {
          await transitionNetworkMigration(db, uuid, 'refused', {
            error: `The ${WORKFLOW} workflow could not be started: ${(error as Error).message}`.slice(
              0,
              2048,
            ),
          });
          throw new ServiceUnavailable(
            `The ${WORKFLOW} workflow could not be started: ${(error as Error).message}`,
          );
        }
        return c.json({ network_migration: migrationView(await loadNetworkMigration(db, uuid), true) }, 202);
      },
    }),
    route({
      method: 'get',
      path: '/v3/os-network-migrations',
      summary: 'List network migrations, newest first (admin)',
      responses: { 200: 'network_migrations' },
      handler: async (c) => {
        authorize(c.var.caller, POLICY);
        const rows = await c.var.db
          .select()
          .from(networkMigrations)
          .orderBy(desc(networkMigrations.created_at), desc(networkMigrations.id));
        return c.json({ network_migrations: rows.map((row) => migrationView(row, false)) });
      },
    }),
    route({
      method: 'get',
      path: '/v3/os-network-migrations/:migration_id',
      summary: 'Show a network migration: status, step, progress and report, also while it runs (admin)',
      responses: { 200: 'network_migration' },
      handler: async (c) => {
        authorize(c.var.caller, POLICY);
        const run = await loadNetworkMigration(c.var.db, c.req.param('migration_id') ?? '');
        return c.json({ network_migration: migrationView(run, true) });
      },
    }),
    route({
      method: 'post',
      path: '/v3/os-network-migrations/:migration_id/action',
      summary: 'Network migration action: rollback (before the cut-over) or resume (admin)',
      body: ActionBody,
      responses: { 202: 'network_migration: the run, rolling back or running again' },
      handler: async (c, { body }) => {
        authorize(c.var.caller, POLICY);
        const db = c.var.db.$primary;
        const run = await loadNetworkMigration(db, c.req.param('migration_id') ?? '');
        if ('rollback' in body) {
          if (!networkMigrationTransitionAllowed('rollback_started', run.status)) {
            throw new Conflict(
              run.status === 'cutting_over' || run.status === 'completed'
                ? `Network migration ${run.uuid} has cut over: the deployment runs the networking service and there is no rollback`
                : `Network migration ${run.uuid} is ${run.status}: there is nothing to roll back`,
            );
          }
          // The transition decides the race with a cut-over; the run's steps find it and write nothing more.
          await transitionNetworkMigration(db, run.uuid, 'rollback_started', {
            error: null,
            step: 'rollback',
          });
          await stopExecution(c, run.execution_arn);
        } else {
          await requireResumable(c, run);
          if (run.status === 'failed')
            await transitionNetworkMigration(db, run.uuid, 'resumed', { error: null });
        }
        try {
          await startExecution(c, run.uuid);
        } catch (error) {
          // The run stays where it is (resumable): a later resume starts it.
          throw new ServiceUnavailable(
            `The ${WORKFLOW} workflow could not be started: ${(error as Error).message}`,
          );
        }
        return c.json(
          { network_migration: migrationView(await loadNetworkMigration(db, run.uuid), true) },
          202,
        );
      },
    }),
  ],
});
