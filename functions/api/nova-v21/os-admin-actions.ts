import * as v from 'valibot';
import { defineFace } from './face.ts';
import { atLeast } from './microversion.ts';
import { NullBody, type V21Action, v3Action } from './server-action-kit.ts';
import { HostName, NovaBoolean } from './server-fields.ts';

// os-admin-actions' actions under their v2.1 names (clients-and-microversions.md §4.3), dispatched by
// the servers face's POST /v2.1/servers/{id}/action.

function sameName(name: 'pause' | 'unpause' | 'suspend' | 'resume' | 'lock' | 'unlock'): V21Action {
  return v3Action({ name, body: () => NullBody, v3Name: name });
}

const migrate = v3Action({ name: 'migrate', body: () => NullBody, v3Name: 'migrate' });

// Before 2.25 all three keys are required (host may be null: the scheduler chooses); from 2.25
// block_migration may be "auto" and disk_over_commit is gone.
const migrateLive = v3Action({
  name: 'os-migrateLive',
  body: (c) =>
    atLeast(c, 25)
      ? v.strictObject({
          host: v.nullable(HostName),
          block_migration: v.union([v.literal('auto'), NovaBoolean], 'must be a boolean or "auto"'),
        })
      : v.strictObject({
          host: v.nullable(HostName),
          block_migration: NovaBoolean,
          disk_over_commit: NovaBoolean,
        }),
  v3Name: 'migrate_live',
  v3Value: (_c, value) => ({
    host: value.host,
    // "auto" asks Nova to copy the disks unless both hosts share storage; no two hosts here do.
    block_migration: value.block_migration === 'auto' ? true : value.block_migration,
    disk_over_commit: 'disk_over_commit' in value ? value.disk_over_commit : false,
  }),
});

const resetState = v3Action({
  name: 'os-resetState',
  body: () => v.strictObject({ state: v.picklist(['active', 'error'], "state must be 'active' or 'error'") }),
  v3Name: 'reset_state',
  v3Value: (_c, value) => ({ state: value.state }),
});

export const ADMIN_V21_ACTIONS: V21Action[] = [
  sameName('pause'),
  sameName('unpause'),
  sameName('suspend'),
  sameName('resume'),
  sameName('lock'),
  sameName('unlock'),
  migrate,
  migrateLive,
  resetState,
];

export const adminActionsFace = defineFace({
  alias: 'os-admin-actions',
  routes: [],
  microversions: [
    {
      minor: 25,
      change:
        'os-migrateLive: block_migration may be "auto" (a block migration: no two hosts share storage); disk_over_commit is refused',
      routes: ['/v2.1/servers/{server_id}/action'],
    },
  ],
});
