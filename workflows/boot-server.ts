import {
  CATCH_ALL,
  conductorStep,
  hostCommand,
  type StateMachineDefinition,
  type WorkflowRefs,
} from './asl.ts';

// Boot: schedule + claim, allocate the server's networks on the chosen host, spawn there (the agent
// plugs the networks), mark ACTIVE. Any failure releases the claim and the networks and leaves the
// instance in ERROR with a fault (boot.fail), and the execution ends FAILED. The input carries what
// the request asked of the network (`requested_networks`, functions/network/instance-networks.ts).
export function bootServer(refs: WorkflowRefs): StateMachineDefinition {
  return {
    Comment: 'Boot a server: select a host, claim it, allocate its networks, spawn on its agent.',
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
          Next: 'AllocateNetworks',
        },
      ),
      AllocateNetworks: conductorStep(
        refs,
        'boot.allocate_networks',
        {
          'instance_uuid.$': '$.instance_uuid',
          'requested_networks.$': '$.requested_networks',
          'placement.$': '$.placement',
        },
        {
          ResultPath: '$.networks',
          Catch: [{ ErrorEquals: CATCH_ALL, ResultPath: '$.error', Next: 'BuildFailed' }],
          Next: 'Spawn',
        },
      ),
      Spawn: hostCommand(
        '$.networks.command',
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
        {
          'instance_uuid.$': '$.instance_uuid',
          'requested_networks.$': '$.requested_networks',
          'error.$': '$.error',
        },
        { ResultPath: null, Next: 'Failed' },
      ),
      Failed: { Type: 'Fail', Error: 'BuildFailed', Cause: 'The server went to ERROR; its fault says why.' },
    },
  };
}
