import {
  CATCH_ALL,
  conductorStep,
  hostCommand,
  type MoveTiming,
  type State,
  type StateMachineDefinition,
  type WorkflowRefs,
} from './asl.ts';

// Every move of a server — cold migrate, resize, live migrate, evacuate — and the confirm or revert
// that ends a resize, as paths through one set of shared states. Each conductor step
// (functions/conductor/migration-steps.ts) records the move's progress in its migrations row, moves the
// instance through its state table and prepares the next host command, or `null` when this kind of move
// has nothing for that host to do; hosts only ever act on a command this workflow sends them.
//
//   cold / resize: Schedule → prep_resize (dest) → migrate_disk_and_power_off (source) → finish_resize
//                  (dest) → Settle (VERIFY_RESIZE) → [wait the confirm window → AutoConfirm] → Confirm
//   live:          Schedule → pre_live_migration (dest) → live_migration (source) →
//                  post_live_migration_at_destination (dest) → Settle → terminate (source) → Complete
//   evacuate:      Schedule → spawn (dest; the source is down) → [power_off (dest), compute 2.95] →
//                  Settle → Complete
//   confirm:       Confirm → terminate (source) → Complete
//   revert:        Revert → terminate (dest) → RevertOnSource → finish_revert_resize (source) → Complete
//
// Any failure goes to Rollback, which reads where the move got to from the migrations row and puts the
// claims and the instance in a defined state (its table is in migration-rollback.ts), optionally has the
// destination clean up, then EndRollback ends the migration in `error` (or `cancelled`) and the
// execution fails.

const MIGRATION = { 'migration_id.$': '$.migration_id', 'options.$': '$.options' };
const TO_ROLLBACK = [{ ErrorEquals: CATCH_ALL, ResultPath: '$.error', Next: 'Rollback' }];
/** Production's bounds; the local test stack passes shorter ones (infra/local/stack.ts `moveTiming`). */
export const DEFAULT_MOVE_TIMING: MoveTiming = {
  commandTimeoutSeconds: 900,
  sourceTimeoutSeconds: 3600,
  heartbeatSeconds: 60,
};

export function migrateServer(refs: WorkflowRefs): StateMachineDefinition {
  const timing = refs.moveTiming ?? DEFAULT_MOVE_TIMING;
  const commandTiming = {
    timeoutSeconds: timing.commandTimeoutSeconds,
    heartbeatSeconds: timing.heartbeatSeconds,
  };
  /** Runs the host command the last conductor step planned, or skips to `next` when it planned none. */
  const onHostIfPlanned = (name: string, next: string, bound = commandTiming): Record<string, State> => ({
    [`${name}?`]: {
      Type: 'Choice',
      // Written as `IsNull: true` on purpose: aws-local-stepfunctions 3.0.0 never matches `IsNull: false`.
      Choices: [{ Variable: '$.plan.command', IsNull: true, Next: next }],
      Default: name,
    },
    [name]: hostCommand('$.plan.command', bound, {
      ResultPath: '$.result',
      Catch: TO_ROLLBACK,
      Next: next,
    }),
  });
  /** A conductor step of the move: reads the migration and the last host result, plans what comes next. */
  const moveStep = (step: string, next: string): State =>
    conductorStep(
      refs,
      step,
      { ...MIGRATION, 'result.$': '$.result' },
      { ResultPath: '$.plan', Catch: TO_ROLLBACK, Next: next },
    );
  return {
    Comment: 'Move a server (cold migrate, resize, live migrate, evacuate), or confirm or revert a resize.',
    StartAt: 'Begin',
    // A resize may wait its confirm window (RESIZE_CONFIRM_WINDOW_SECONDS) inside the execution.
    TimeoutSeconds: 30 * 24 * 3600,
    States: {
      // Every move step reads the last host result; a path that has had no host command yet reads {}.
      Begin: { Type: 'Pass', Parameters: {}, ResultPath: '$.result', Next: 'Operation' },
      Operation: {
        Type: 'Choice',
        Choices: [
          { Variable: '$.operation', StringEquals: 'confirm_resize', Next: 'Confirm' },
          { Variable: '$.operation', StringEquals: 'revert_resize', Next: 'Revert' },
        ],
        Default: 'Schedule',
      },
      // Select and claim the destination; plan the destination's preparation.
      Schedule: conductorStep(refs, 'migration.schedule', MIGRATION, {
        ResultPath: '$.plan',
        Catch: TO_ROLLBACK,
        Next: 'PrepareDestination?',
      }),
      ...onHostIfPlanned('PrepareDestination', 'StartOnSource'),
      StartOnSource: moveStep('migration.start_source', 'ActOnSource?'),
      ...onHostIfPlanned('ActOnSource', 'FinishOnDestination', {
        timeoutSeconds: timing.sourceTimeoutSeconds,
        heartbeatSeconds: timing.heartbeatSeconds,
      }),
      FinishOnDestination: moveStep('migration.finish_destination', 'CompleteOnDestination?'),
      ...onHostIfPlanned('CompleteOnDestination', 'StopOnDestination?'),
      // An evacuated server asked to end stopped: its guest is powered off before the move settles.
      'StopOnDestination?': {
        Type: 'Choice',
        Choices: [{ Variable: '$.plan.stop_command', IsNull: true, Next: 'Settle' }],
        Default: 'StopOnDestination',
      },
      StopOnDestination: hostCommand('$.plan.stop_command', commandTiming, {
        ResultPath: '$.result',
        Catch: TO_ROLLBACK,
        Next: 'Settle',
      }),
      // The guest runs on the destination: VERIFY_RESIZE for a resize, else plan the source's cleanup.
      Settle: moveStep('migration.settle', 'AwaitsConfirmation'),
      AwaitsConfirmation: {
        Type: 'Choice',
        Choices: [
          { Variable: '$.plan.confirm_window_seconds', NumericGreaterThan: 0, Next: 'ConfirmWindow' },
        ],
        Default: 'CleanupSource?',
      },
      ConfirmWindow: { Type: 'Wait', SecondsPath: '$.plan.confirm_window_seconds', Next: 'AutoConfirm' },
      // Confirms only if nobody confirmed or reverted meanwhile; otherwise this execution is done.
      AutoConfirm: moveStep('migration.auto_confirm', 'AutoConfirmed'),
      AutoConfirmed: {
        Type: 'Choice',
        Choices: [{ Variable: '$.plan.confirming', BooleanEquals: true, Next: 'CleanupSource?' }],
        Default: 'DecidedMeanwhile',
      },
      DecidedMeanwhile: { Type: 'Succeed', Comment: 'Confirmed or reverted through the API meanwhile.' },
      Confirm: moveStep('migration.confirm', 'CleanupSource?'),
      ...onHostIfPlanned('CleanupSource', 'Complete'),
      Revert: moveStep('migration.revert', 'CleanupDestination?'),
      ...onHostIfPlanned('CleanupDestination', 'RevertOnSource'),
      RevertOnSource: moveStep('migration.revert_on_source', 'FinishRevert?'),
      ...onHostIfPlanned('FinishRevert', 'Complete'),
      // Release the claim on the side the guest left, and end the migration (confirmed, reverted, done).
      Complete: conductorStep(
        refs,
        'migration.complete',
        { ...MIGRATION, 'result.$': '$.result' },
        {
          ResultPath: null,
          Catch: TO_ROLLBACK,
          End: true,
        },
      ),
      Rollback: conductorStep(
        refs,
        'migration.rollback',
        { 'migration_id.$': '$.migration_id', 'error.$': '$.error' },
        { ResultPath: '$.plan', Next: 'RollbackCleanup?' },
      ),
      'RollbackCleanup?': {
        Type: 'Choice',
        Choices: [{ Variable: '$.plan.command', IsNull: true, Next: 'EndRollback' }],
        Default: 'RollbackCleanup',
      },
      // Best effort: a host that failed the move may fail its cleanup too; the rollback stands anyway,
      // and the migration's error_message says what was left behind.
      RollbackCleanup: hostCommand('$.plan.command', commandTiming, {
        ResultPath: null,
        Catch: [{ ErrorEquals: CATCH_ALL, ResultPath: '$.plan.cleanup_error', Next: 'EndRollback' }],
        Next: 'EndRollback',
      }),
      // Only now, with the destination clean, does the migration read `cancelled` or `error`.
      EndRollback: conductorStep(
        refs,
        'migration.end_rollback',
        { 'migration_id.$': '$.migration_id', 'error.$': '$.error', 'plan.$': '$.plan' },
        { ResultPath: null, Next: 'RolledBack' },
      ),
      RolledBack: {
        Type: 'Fail',
        Error: 'MigrationFailed',
        Cause:
          'The move was rolled back; the migration is in error (or cancelled) and the server fault says why.',
      },
    },
  };
}
