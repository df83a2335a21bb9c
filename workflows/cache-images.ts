import {
  CATCH_ALL,
  conductorStep,
  hostCommand,
  type StateMachineDefinition,
  type WorkflowRefs,
} from './asl.ts';

// Pre-cache images on every host of an aggregate (compute 2.81, Nova's conductor cache_images): the
// API checked the images and answered 202; the plan addresses a cache_images command to each host
// that is up and whose agent runs it, and records the others as skipped. Hosts work a few at a time,
// each answering per image; one host failing or going silent is recorded for that host and stops no
// other. The execution's output is the per-host report, which the conductor also logs host by host.

// Every host downloads the images from the image service at once: a few hosts at a time bound that
// load (Nova's [image_cache]precache_concurrency does the same) while an aggregate of dozens of hosts
// still finishes in a handful of rounds.
const HOSTS_AT_ONCE = 4;

export function cacheImages(refs: WorkflowRefs): StateMachineDefinition {
  const aggregate = { 'aggregate_id.$': '$.aggregate_id' };
  const onHostError = [{ ErrorEquals: CATCH_ALL, ResultPath: '$.error', Next: 'HostFailed' }];
  return {
    Comment: "Have each host of an aggregate download images into its cache, and report each host's outcome.",
    StartAt: 'Plan',
    // Hosts answer within an hour each, HOSTS_AT_ONCE at a time; a day covers aggregates of ~100 hosts.
    TimeoutSeconds: 24 * 3600,
    States: {
      Plan: conductorStep(
        refs,
        'cache-images.plan',
        { ...aggregate, 'image_ids.$': '$.image_ids' },
        { ResultPath: '$.plan', Next: 'CacheOnHosts' },
      ),
      CacheOnHosts: {
        Type: 'Map',
        ItemsPath: '$.plan.commands',
        ItemSelector: { ...aggregate, 'command.$': '$$.Map.Item.Value' },
        MaxConcurrency: HOSTS_AT_ONCE,
        ItemProcessor: {
          ProcessorConfig: { Mode: 'INLINE' },
          StartAt: 'CacheOnHost',
          States: {
            CacheOnHost: hostCommand(
              '$.command',
              // Downloading a few images can take long; the agent heartbeats all the while.
              { timeoutSeconds: 3600, heartbeatSeconds: 60 },
              { ResultPath: '$.result', Catch: onHostError, Next: 'HostCached' },
            ),
            HostCached: conductorStep(
              refs,
              'cache-images.host_cached',
              { ...aggregate, 'host.$': '$.command.host', 'result.$': '$.result' },
              { Catch: onHostError, End: true },
            ),
            HostFailed: conductorStep(
              refs,
              'cache-images.host_failed',
              { ...aggregate, 'host.$': '$.command.host', 'error.$': '$.error' },
              { End: true },
            ),
          },
        },
        ResultPath: '$.hosts',
        Next: 'Report',
      },
      Report: conductorStep(
        refs,
        'cache-images.report',
        {
          ...aggregate,
          'image_ids.$': '$.image_ids',
          'skipped.$': '$.plan.skipped',
          'hosts.$': '$.hosts',
        },
        { End: true },
      ),
    },
  };
}
