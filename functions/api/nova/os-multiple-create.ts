import { defineExtension } from './extension.ts';

export const MULTIPLE_CREATE_ALIAS = 'os-multiple-create';

/**
 * Havana's os-multiple-create: `os-multiple-create:min_count`, `max_count` and
 * `return_reservation_id` on server create (schema in server-create-options.ts, honoured by
 * servers.ts while this extension is enabled).
 */
export const multipleCreateExtension = defineExtension({
  alias: MULTIPLE_CREATE_ALIAS,
  name: 'MultipleCreate',
  description: 'Allow multiple create in the Create Server v3 API.',
  version: 1,
  core: false,
  history: [
    {
      version: 1,
      change: 'min_count, max_count (as many as the quota allows between them), return_reservation_id',
    },
  ],
  routes: [],
});
