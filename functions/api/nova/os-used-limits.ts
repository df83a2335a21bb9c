import { defineExtension } from './extension.ts';

export const USED_LIMITS_ALIAS = 'os-used-limits';

/** Adds no route: while it is enabled, GET /v3/limits also reports the project's usage (limits.ts). */
export const usedLimitsExtension = defineExtension({
  alias: USED_LIMITS_ALIAS,
  name: 'UsedLimits',
  description: 'Provide data on limited resources that are being used.',
  version: 1,
  core: false,
  history: [{ version: 1, change: 'totalCoresUsed, totalInstancesUsed, totalRAMUsed in GET /v3/limits' }],
  routes: [],
});
