import {
  CATCH_ALL,
  conductorStep,
  hostCommand,
  type StateMachineDefinition,
  type WorkflowRefs,
} from './asl.ts';

// Boot: schedule + claim, spawn on the chosen host, mark ACTIVE. Any failure releases the claim and
// leaves the instance in ERROR with a fault (boot.fail), and the execution ends FAILED.
export function bootServer(refs: WorkflowRefs): StateMachineDefinition {
  return {
    Comment: 'Boot a server: select a host, claim it, spawn on its agent.',
    StartAt: 'ScheduleAndClaim',
    TimeoutSeconds: 1800,
    States: {
      ScheduleAndClaim: conductorStep(
        refs,
        'boot.schedule',
        { 'instance_uuid.$': '$.instance_uuid' },
        {
          ResultPath: '$.placement',
          Catch: [{ ErrorEquals: CATCH_ALL, ResultPath: '$.error', Next: 'BuildFailed' }],
          Next: 'Spawn',
        },
      ),
      Spawn: hostCommand(
        '$.placement.command',
        { timeoutSeconds: 900, heartbeatSeconds: 60 },
        {
          ResultPath: '$.spawned',
          Catch: [{ ErrorEquals: CATCH_ALL, ResultPath: '$.error', Next: 'BuildFailed' }],
          Next: 'MarkActive',
        },
      ),
      MarkActive: conductorStep(
        refs,
        'boot.finish',
        { 'instance_uuid.$': '$.instance_uuid', 'placement.$': '$.placement', 'spawned.$': '$.spawned' },
        {
          ResultPath: null,
          Catch: [{ ErrorEquals: CATCH_ALL, ResultPath: '$.error', Next: 'BuildFailed' }],
          End: true,
        },
      ),
      BuildFailed: conductorStep(
        refs,
        'boot.fail',
        { 'instance_uuid.$': '$.instance_uuid', 'error.$': '$.error' },
        { ResultPath: null, Next: 'Failed' },
      ),
      Failed: { Type: 'Fail', Error: 'BuildFailed', Cause: 'The server went to ERROR; its fault says why.' },
    },
  };
}
