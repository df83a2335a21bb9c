import {
  CATCH_ALL,
  conductorStep,
  hostCommand,
  type StateMachineDefinition,
  type WorkflowRefs,
} from './asl.ts';

// Delete: terminate on the host when there is a live one, then release claims and soft-delete.
// An instance that never reached a host, or whose host is down, is deleted locally.
export function deleteServer(refs: WorkflowRefs): StateMachineDefinition {
  return {
    Comment: 'Delete a server: terminate it on its host, release its claims, soft-delete the row.',
    StartAt: 'Prepare',
    TimeoutSeconds: 1800,
    States: {
      Prepare: conductorStep(
        refs,
        'delete.prepare',
        { 'instance_uuid.$': '$.instance_uuid' },
        {
          ResultPath: '$.plan',
          Catch: [{ ErrorEquals: CATCH_ALL, ResultPath: '$.error', Next: 'DeleteFailed' }],
          Next: 'OnAHost',
        },
      ),
      // Written as `IsNull: true` on purpose: aws-local-stepfunctions 3.0.0 never matches `IsNull: false`.
      OnAHost: {
        Type: 'Choice',
        Choices: [{ Variable: '$.plan.command', IsNull: true, Next: 'Finish' }],
        Default: 'Terminate',
      },
      Terminate: hostCommand(
        '$.plan.command',
        { timeoutSeconds: 600, heartbeatSeconds: 60 },
        {
          ResultPath: null,
          Catch: [{ ErrorEquals: CATCH_ALL, ResultPath: '$.error', Next: 'DeleteFailed' }],
          Next: 'Finish',
        },
      ),
      Finish: conductorStep(
        refs,
        'delete.finish',
        { 'instance_uuid.$': '$.instance_uuid' },
        {
          ResultPath: null,
          Catch: [{ ErrorEquals: CATCH_ALL, ResultPath: '$.error', Next: 'DeleteFailed' }],
          End: true,
        },
      ),
      DeleteFailed: conductorStep(
        refs,
        'delete.fail',
        { 'instance_uuid.$': '$.instance_uuid', 'error.$': '$.error' },
        { ResultPath: null, Next: 'Failed' },
      ),
      Failed: { Type: 'Fail', Error: 'DeleteFailed', Cause: 'The server went to ERROR; its fault says why.' },
    },
  };
}
