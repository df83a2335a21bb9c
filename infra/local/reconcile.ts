import {
  DescribeExecutionCommand,
  ExecutionDoesNotExist,
  type SFNClient,
  StartExecutionCommand,
} from '@aws-sdk/client-sfn';
import { and, eq, inArray } from 'drizzle-orm';
import { IN_PROGRESS_MIGRATION_STATUSES } from '../../functions/compute/migration-states.ts';
import type { ConductorContext } from '../../functions/conductor/context.ts';
import { endRollback, rollback } from '../../functions/conductor/migration-rollback.ts';
import { runStep } from '../../functions/conductor/steps.ts';
import { instances, migrations } from '../../schema/tables/index.ts';

// The local Step Functions stand-in keeps executions in memory, so a restart of `npm start` loses the
// ones in flight (AWS would not). Servers those executions were acting on are brought to a defined
// state: an interrupted boot fails through the boot workflow's own failure step (claims released,
// ERROR with a fault), an interrupted delete is started again (deleting is idempotent), and an
// interrupted move is rolled back by the migrate-server workflow's own rollback steps. A resize waiting
// in VERIFY_RESIZE keeps waiting for confirm or revert; only its auto-confirm timer is lost.
export async function reconcileInterruptedWork(
  conductor: ConductorContext,
  sfn: SFNClient,
  stateMachineArns: Record<string, string>,
): Promise<number> {
  const db = conductor.db;
  const inFlight = await db
    .select({
      uuid: instances.uuid,
      task_state: instances.task_state,
      execution_arn: instances.execution_arn,
    })
    .from(instances)
    .where(
      and(eq(instances.deleted, 0), inArray(instances.task_state, ['scheduling', 'spawning', 'deleting'])),
    );
  let reconciled = 0;
  for (const instance of inFlight) {
    if (instance.execution_arn && (await executionExists(sfn, instance.execution_arn))) continue;
    if (instance.task_state === 'deleting') {
      await sfn.send(
        new StartExecutionCommand({
          stateMachineArn: stateMachineArns['delete-server'],
          name: `delete-${instance.uuid}-${Date.now()}`,
          input: JSON.stringify({ instance_uuid: instance.uuid }),
        }),
      );
    } else {
      await runStep(conductor, {
        step: 'boot.fail',
        instance_uuid: instance.uuid,
        error: { Error: 'States.Aborted', Cause: 'The boot workflow was lost when the local stack stopped' },
      });
    }
    reconciled++;
  }
  return reconciled + (await reconcileInterruptedMoves(conductor, sfn));
}

async function reconcileInterruptedMoves(conductor: ConductorContext, sfn: SFNClient): Promise<number> {
  const moving = await conductor.db
    .select({ id: migrations.id, execution_arn: instances.execution_arn, deleted: instances.deleted })
    .from(migrations)
    .innerJoin(instances, eq(instances.uuid, migrations.instance_uuid))
    .where(
      and(
        eq(migrations.deleted, 0),
        inArray(migrations.status, [
          ...IN_PROGRESS_MIGRATION_STATUSES.filter((status) => status !== 'finished'),
        ]),
      ),
    );
  let reconciled = 0;
  for (const move of moving) {
    if (move.execution_arn && (await executionExists(sfn, move.execution_arn))) continue;
    const error = {
      Error: 'States.Aborted',
      Cause: 'The migrate-server workflow was lost when the local stack stopped',
    };
    // The workflow's own rollback steps, but no execution is left to send the destination its cleanup
    // command: a planned cleanup is recorded as not done, so the migration's error_message says so.
    // A server deleted during its rollback's cleanup has nothing left to place; only its migration ends.
    const plan = move.deleted
      ? { command: null }
      : await rollback(conductor, { migration_id: move.id, error });
    await endRollback(conductor, {
      migration_id: move.id,
      error,
      plan: plan.command
        ? { cleanup_error: { Error: 'States.Aborted', Cause: 'no workflow was left to send it' } }
        : {},
    });
    reconciled++;
  }
  return reconciled;
}

async function executionExists(sfn: SFNClient, executionArn: string): Promise<boolean> {
  try {
    await sfn.send(new DescribeExecutionCommand({ executionArn }));
    return true;
  } catch (error) {
    if (error instanceof ExecutionDoesNotExist) return false;
    throw error;
  }
}
