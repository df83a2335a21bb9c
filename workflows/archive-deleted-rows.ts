import { conductorStep, type StateMachineDefinition, type WorkflowRefs } from './asl.ts';

// Archive soft-deleted rows into the shadow tables, then purge shadow rows past the retention. Each
// conductor step does one bounded slice and returns the whole run state (functions/conductor/
// archive-steps.ts); the Choices loop until a phase reports it is finished (nothing left, or the
// run's budget spent). Started by a daily schedule (infra/workflows.ts) or by an operator.
export function archiveDeletedRows(refs: WorkflowRefs): StateMachineDefinition {
  return {
    Comment: 'Move soft-deleted rows into shadow tables in bounded slices, then purge old shadow rows.',
    StartAt: 'Plan',
    TimeoutSeconds: 6 * 3600,
    States: {
      Plan: conductorStep(
        refs,
        'archive.plan',
        { 'request.$': '$' },
        { ResultPath: '$.run', Next: 'Archive' },
      ),
      Archive: conductorStep(
        refs,
        'archive.run',
        { 'run.$': '$.run' },
        { ResultPath: '$.run', Next: 'ArchivedAll' },
      ),
      ArchivedAll: {
        Type: 'Choice',
        Choices: [{ Variable: '$.run.archive_finished', BooleanEquals: true, Next: 'PurgeWanted' }],
        Default: 'Archive',
      },
      PurgeWanted: {
        Type: 'Choice',
        Choices: [{ Variable: '$.run.purge_before', IsNull: true, Next: 'Done' }],
        Default: 'Purge',
      },
      Purge: conductorStep(
        refs,
        'archive.purge',
        { 'run.$': '$.run' },
        { ResultPath: '$.run', Next: 'PurgedAll' },
      ),
      PurgedAll: {
        Type: 'Choice',
        Choices: [{ Variable: '$.run.purge_finished', BooleanEquals: true, Next: 'Done' }],
        Default: 'Purge',
      },
      Done: { Type: 'Succeed' },
    },
  };
}
