import {
  CATCH_ALL,
  type ChoiceRule,
  conductorStep,
  hostCommand,
  type State,
  type StateMachineDefinition,
  type WorkflowRefs,
} from './asl.ts';
import { DEFAULT_MOVE_TIMING } from './migrate-server.ts';

// The migration of a nova-network deployment to the networking service (functions/conductor/
// network-migration-steps.ts, functions/network/migration/). An admin starts it; every step reads and
// writes the run's row and the tables, so an execution started again for the same run (a resume)
// carries on from what exists: Begin routes it by the run's status.
//
//   Plan ─dry run─> done            Plan ─conflicts─> refused
//   Plan → Freeze → CreateNetworks → CreatePorts ⟲ → CreateRouters → CreateFloatingIps ⟲
//        → NextPlugs → Replug (Map: plug_vifs on each instance's host) ⟲ → Verify
//        ─differences─> failed      Verify → CutOver → RewriteCaches ⟲ → Complete
//   rollback: Rollback ⟲ → RolledBack
//
// Any failed step goes to Fail, which records where the run stopped (a migrating run becomes failed;
// the legacy API stays frozen until it is resumed or rolled back).

/** Hosts re-plugging at once: each plug is one short command, and a round is bounded by the slowest. */
export const PLUGS_AT_ONCE = 10;

const RUN = { 'migration_uuid.$': '$.migration_uuid' };
const TARGET = { ...RUN, 'instance_uuid.$': '$.instance_uuid', 'host.$': '$.host' };
const TO_FAIL = [{ ErrorEquals: CATCH_ALL, ResultPath: '$.error', Next: 'Fail' }];

/** Loops back to `again` while the last batch said there is more, else goes on to `then`. */
function whileMore(resultPath: string, again: string, then: string): State {
  const more: ChoiceRule = { Variable: `${resultPath}.more`, BooleanEquals: true, Next: again };
  return { Type: 'Choice', Choices: [more], Default: then };
}

export function networkMigration(refs: WorkflowRefs): StateMachineDefinition {
  const timing = refs.moveTiming ?? DEFAULT_MOVE_TIMING;
  const step = (
    name: string,
    next: string,
    resultPath: string | null,
    parameters: Record<string, unknown> = RUN,
  ) =>
    conductorStep(refs, `network-migration.${name}`, parameters, {
      ResultPath: resultPath,
      Catch: TO_FAIL,
      Next: next,
    });
  const onPlugError = [{ ErrorEquals: CATCH_ALL, ResultPath: '$.error', Next: 'PlugFailed' }];
  return {
    Comment:
      'Migrate a nova-network deployment to the networking service, keeping every MAC and IP; or roll it back.',
    StartAt: 'Begin',
    // 200 servers take minutes; a day leaves room for thousands, a round of PLUGS_AT_ONCE at a time.
    TimeoutSeconds: 24 * 3600,
    States: {
      Begin: step('begin', 'Where?', '$.begin'),
      'Where?': {
        Type: 'Choice',
        Choices: [
          { Variable: '$.begin.next', StringEquals: 'create', Next: 'CreateNetworks' },
          { Variable: '$.begin.next', StringEquals: 'cut_over', Next: 'CutOver' },
          { Variable: '$.begin.next', StringEquals: 'rollback', Next: 'Rollback' },
        ],
        Default: 'Plan',
      },
      Plan: step('plan', 'Planned?', '$.plan'),
      'Planned?': {
        Type: 'Choice',
        Choices: [
          { Variable: '$.plan.outcome', StringEquals: 'dry_run', Next: 'DryRunReported' },
          { Variable: '$.plan.outcome', StringEquals: 'refused', Next: 'Refused' },
        ],
        Default: 'Freeze',
      },
      DryRunReported: { Type: 'Succeed', Comment: 'The report is the result; nothing else was written.' },
      Refused: {
        Type: 'Fail',
        Error: 'NetworkMigrationRefused',
        Cause: 'The plan found conflicts (the migration report lists them); nothing was changed.',
      },
      Freeze: step('freeze', 'CreateNetworks', null),
      CreateNetworks: step('networks', 'CreatePorts', null),
      CreatePorts: step('ports', 'MorePorts?', '$.batch'),
      'MorePorts?': whileMore('$.batch', 'CreatePorts', 'CreateRouters'),
      CreateRouters: step('routers', 'CreateFloatingIps', null),
      CreateFloatingIps: step('floating_ips', 'MoreFloatingIps?', '$.batch'),
      'MoreFloatingIps?': whileMore('$.batch', 'CreateFloatingIps', 'NextPlugs'),
      NextPlugs: step('next_plugs', 'PlugsLeft?', '$.plugs'),
      'PlugsLeft?': {
        Type: 'Choice',
        Choices: [{ Variable: '$.plugs.count', NumericGreaterThan: 0, Next: 'Replug' }],
        Default: 'Verify',
      },
      // One round: each instance's host re-plugs it with its new network info. A host that fails or
      // stays silent is recorded for that instance (verify counts it) and stops no other.
      Replug: {
        Type: 'Map',
        ItemsPath: '$.plugs.instances',
        ItemSelector: {
          ...RUN,
          'instance_uuid.$': '$$.Map.Item.Value.instance_uuid',
          'host.$': '$$.Map.Item.Value.host',
        },
        MaxConcurrency: PLUGS_AT_ONCE,
        ItemProcessor: {
          ProcessorConfig: { Mode: 'INLINE' },
          StartAt: 'PreparePlug',
          States: {
            PreparePlug: conductorStep(refs, 'network-migration.prepare_plug', TARGET, {
              ResultPath: '$.command',
              Catch: onPlugError,
              Next: 'PlugOnHost',
            }),
            PlugOnHost: hostCommand(
              '$.command',
              { timeoutSeconds: timing.commandTimeoutSeconds, heartbeatSeconds: timing.heartbeatSeconds },
              { ResultPath: '$.result', Catch: onPlugError, Next: 'Plugged' },
            ),
            Plugged: conductorStep(
              refs,
              'network-migration.plugged',
              { ...TARGET, 'result.$': '$.result' },
              { ResultPath: null, End: true },
            ),
            PlugFailed: conductorStep(
              refs,
              'network-migration.plug_failed',
              { ...TARGET, 'error.$': '$.error' },
              { ResultPath: null, End: true },
            ),
          },
        },
        ResultPath: null,
        Catch: TO_FAIL,
        Next: 'NextPlugs',
      },
      Verify: step('verify', 'Verified?', '$.verify'),
      'Verified?': {
        Type: 'Choice',
        Choices: [{ Variable: '$.verify.verified', BooleanEquals: true, Next: 'CutOver' }],
        Default: 'Differences',
      },
      Differences: {
        Type: 'Fail',
        Error: 'NetworkMigrationNotVerified',
        Cause:
          'Verify found differences (the migration report lists them); the deployment stays on nova-network.',
      },
      CutOver: step('cut_over', 'RewriteCaches', '$.caches'),
      RewriteCaches: step('rewrite_caches', 'MoreCaches?', '$.caches', { ...RUN, 'caches.$': '$.caches' }),
      'MoreCaches?': whileMore('$.caches', 'RewriteCaches', 'Complete'),
      Complete: conductorStep(refs, 'network-migration.complete', RUN, {
        ResultPath: null,
        Catch: TO_FAIL,
        End: true,
      }),
      Rollback: step('rollback', 'MoreToDelete?', '$.batch'),
      'MoreToDelete?': whileMore('$.batch', 'Rollback', 'RolledBack'),
      RolledBack: conductorStep(refs, 'network-migration.rolled_back', RUN, {
        ResultPath: null,
        Catch: TO_FAIL,
        End: true,
      }),
      Fail: conductorStep(
        refs,
        'network-migration.fail',
        { ...RUN, 'error.$': '$.error' },
        { ResultPath: null, Next: 'Failed' },
      ),
      Failed: {
        Type: 'Fail',
        Error: 'NetworkMigrationFailed',
        Cause: 'A step failed; the migration row says where it stopped and why. Resume it, or roll it back.',
      },
    },
  };
}
