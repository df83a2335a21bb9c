import {
  CATCH_ALL,
  conductorStep,
  hostCommand,
  type StateMachineDefinition,
  type WorkflowRefs,
} from './asl.ts';

// An interface attached to or detached from a server (os-attach-interfaces, os-interface): the API made
// or bound the port (attach) or checked it is the server's (detach); the server's host plugs or unplugs
// it, then the port and the server's network cache are settled (functions/conductor/interface-steps.ts).
// A failure undoes an attach and leaves a detach's port attached; the server's own state never changes.
export function serverInterface(refs: WorkflowRefs): StateMachineDefinition {
  const onError = [{ ErrorEquals: CATCH_ALL, ResultPath: '$.error', Next: 'InterfaceFailed' }];
  const request = {
    'instance_uuid.$': '$.instance_uuid',
    'port_id.$': '$.port_id',
    'operation.$': '$.operation',
    'user_port.$': '$.user_port',
  };
  return {
    Comment: "Attach an interface to a server or detach one: the server's host plugs or unplugs it.",
    StartAt: 'Prepare',
    TimeoutSeconds: 1800,
    States: {
      Prepare: conductorStep(refs, 'interface.prepare', request, {
        ResultPath: '$.plan',
        Catch: onError,
        Next: 'RunOnHost',
      }),
      RunOnHost: hostCommand(
        '$.plan.command',
        { timeoutSeconds: 600, heartbeatSeconds: 60 },
        { ResultPath: '$.result', Catch: onError, Next: 'Finish' },
      ),
      Finish: conductorStep(refs, 'interface.finish', request, {
        ResultPath: null,
        Catch: onError,
        End: true,
      }),
      InterfaceFailed: conductorStep(
        refs,
        'interface.fail',
        { ...request, 'error.$': '$.error' },
        { ResultPath: null, Next: 'Failed' },
      ),
      Failed: {
        Type: 'Fail',
        Error: 'InterfaceFailed',
        Cause: 'The host could not plug or unplug the interface; an attach was undone.',
      },
    },
  };
}
