import {
  CATCH_ALL,
  conductorStep,
  hostCommand,
  type StateMachineDefinition,
  type WorkflowRefs,
} from './asl.ts';

// A server action carried out on the instance's host (reboot, start, stop, pause, unpause, suspend,
// resume, rebuild): the API already moved the instance into the action's task state; the agent does
// the work, then the instance reaches the action's final state. Any failure leaves it in ERROR with a
// fault (server-action.fail) and the execution ends FAILED.
export function serverAction(refs: WorkflowRefs): StateMachineDefinition {
  const onError = [{ ErrorEquals: CATCH_ALL, ResultPath: '$.error', Next: 'ActionFailed' }];
  const instanceAndAction = { 'instance_uuid.$': '$.instance_uuid', 'action.$': '$.action' };
  return {
    Comment: 'Run a server action on the instance host and record the state it leaves the server in.',
    StartAt: 'Prepare',
    TimeoutSeconds: 1800,
    States: {
      Prepare: conductorStep(refs, 'server-action.prepare', instanceAndAction, {
        ResultPath: '$.plan',
        Catch: onError,
        Next: 'RunOnHost',
      }),
      RunOnHost: hostCommand(
        '$.plan.command',
        { timeoutSeconds: 900, heartbeatSeconds: 60 },
        { ResultPath: '$.result', Catch: onError, Next: 'Finish' },
      ),
      Finish: conductorStep(
        refs,
        'server-action.finish',
        { ...instanceAndAction, 'result.$': '$.result' },
        { ResultPath: null, Catch: onError, End: true },
      ),
      ActionFailed: conductorStep(
        refs,
        'server-action.fail',
        { ...instanceAndAction, 'error.$': '$.error' },
        { ResultPath: null, Next: 'Failed' },
      ),
      Failed: {
        Type: 'Fail',
        Error: 'ServerActionFailed',
        Cause: 'The server went to ERROR; its fault says why.',
      },
    },
  };
}
