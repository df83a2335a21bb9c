import { defineExtension } from './extension.ts';

/** Havana's os-flavor-rxtx: a flavor's network bandwidth factor (unprefixed, as in Havana). */
export const flavorRxtxExtension = defineExtension({
  alias: 'os-flavor-rxtx',
  name: 'FlavorRxtx',
  description: 'Support to show the rxtx status of a flavor.',
  version: 1,
  core: false,
  history: [
    { version: 1, change: 'rxtx_factor (float) in flavor views; flavor-manage accepts it on create' },
  ],
  routes: [],
  flavorAttributes: (flavor) => ({ rxtx_factor: flavor.rxtx_factor }),
});
