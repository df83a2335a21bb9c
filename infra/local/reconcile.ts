import {
  DescribeExecutionCommand,
  ExecutionDoesNotExist,
  type SFNClient,
  StartExecutionCommand,
} from '@aws-sdk/client-sfn';
import { and, eq, inArray } from 'drizzle-orm';
import type { ConductorContext } from '../../functions/conductor/context.ts';
import { runStep } from '../../functions/conductor/steps.ts';
import { instances } from '../../schema/tables/index.ts';

// The local Step Functions stand-in keeps executions in memory, so a restart of `npm start` loses the
// ones in flight (AWS would not). Servers those executions were acting on are brought to a defined
// state: an interrupted boot fails through the boot workflow's own failure step (claims released,
// ERROR with a fault), an interrupted delete is started again (deleting is idempotent).
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
