import { defineExtension } from './extension.ts';

/** Havana's os-server-usage: when a server was launched and terminated. */
export const serverUsageExtension = defineExtension({
  alias: 'os-server-usage',
  name: 'ServerUsage',
  description: 'Adds launched_at and terminated_at to servers.',
  version: 1,
  core: false,
  history: [{ version: 1, change: 'launched_at, terminated_at (null until they happen)' }],
  routes: [],
  serverAttributes: (_c, instance) => ({
    'os-server-usage:launched_at': instance.launched_at?.toISOString() ?? null,
    'os-server-usage:terminated_at': instance.terminated_at?.toISOString() ?? null,
  }),
});
