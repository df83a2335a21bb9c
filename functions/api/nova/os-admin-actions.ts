import { eq } from 'drizzle-orm';
import type { Context } from 'hono';
import * as v from 'valibot';
import { instances } from '../../../schema/tables/index.ts';
import { transitionInstance } from '../../compute/instance-states.ts';
import { BadRequest } from '../../shared/errors.ts';
import type { AppEnv } from '../context.ts';
import { requestedVersion } from '../middleware/extension-versions.ts';
import { authorize } from '../policy.ts';
import { defineExtension, type Extension } from './extension.ts';
import {
  defineAction,
  NoBody,
  requestHostAction,
  requireState,
  type ServerAction,
} from './server-action-kit.ts';
import { requireComputeHost, requireMigrationWorkflow, startMigration } from './server-moves.ts';

// Havana's os-admin-actions: pause/suspend and their inverses, locks, cold and live migration, and
// reset_state. The actions are dispatched by POST /v3/servers/{id}/action (server-actions.ts).
const ALIAS = 'os-admin-actions';
const VERSION = 3;

/** A field added by `version`: a client pinned to an older version of the extension cannot send it. */
function requireVersion(c: Context<AppEnv>, field: string, version: number): void {
  if (requestedVersion(c, { alias: ALIAS, version: VERSION }) < version) {
    throw new BadRequest(`${field} is accepted from ${ALIAS} version ${version} on`);
  }
}

const HostName = v.pipe(v.string(), v.minLength(1, 'host must name a compute host'), v.maxLength(255));

function hostAction(
  name: 'pause' | 'unpause' | 'suspend' | 'resume',
  policy: `compute_extension:admin_actions:${'pause' | 'unpause' | 'suspend' | 'resume'}`,
) {
  return defineAction({
    name,
    extension: ALIAS,
    body: NoBody,
    policy,
    run: async (c, instance) => {
      await requestHostAction(c, instance, name, `${name}_requested`);
      return c.body(null, 202);
    },
  });
}

const lock = defineAction({
  name: 'lock',
  extension: ALIAS,
  body: NoBody,
  policy: 'compute_extension:admin_actions:lock',
  ignoresLock: true,
  run: async (c, instance) => {
    // An admin's lock binds the owner; the owner's own lock only guards against slips.
    await c.var.db.$primary
      .update(instances)
      .set({ locked_by: c.var.caller.isAdmin ? 'admin' : 'owner', updated_at: new Date() })
      .where(eq(instances.uuid, instance.uuid));
    return c.body(null, 202);
  },
});

const unlock = defineAction({
  name: 'unlock',
  extension: ALIAS,
  body: NoBody,
  policy: 'compute_extension:admin_actions:unlock',
  ignoresLock: true,
  run: async (c, instance) => {
    if (instance.locked_by === 'admin')
      authorize(c.var.caller, 'compute_extension:admin_actions:unlock_override');
    await c.var.db.$primary
      .update(instances)
      // The reason a v2.1 lock gave (2.73) goes with the lock.
      .set({ locked_by: null, locked_reason: null, updated_at: new Date() })
      .where(eq(instances.uuid, instance.uuid));
    return c.body(null, 202);
  },
});

const migrate = defineAction({
  name: 'migrate',
  extension: ALIAS,
  // A host named here is a request to the scheduler: its policy must accept it like any candidate.
  body: v.nullable(v.strictObject({ host: v.optional(v.nullable(HostName)) })),
  policy: 'compute_extension:admin_actions:migrate',
  run: async (c, instance, body) => {
    requireState(instance, 'migrate_requested');
    requireMigrationWorkflow(c);
    if (!instance.host) throw new BadRequest(`Instance ${instance.uuid} is on no host`);
    const host = body?.host ?? null;
    if (host !== null) {
      requireVersion(c, 'migrate.host', 3);
      if (host === instance.host) throw new BadRequest('Cannot migrate to the host where the server exists.');
      await requireComputeHost(c, host);
    }
    await startMigration(c, instance, {
      event: 'migrate_requested',
      action: 'migrate',
      migration_type: 'migration',
      dest_compute: host,
      options: { force_host: false },
    });
    return c.body(null, 202);
  },
});

const migrateLive = defineAction({
  name: 'migrate_live',
  extension: ALIAS,
  body: v.object({
    // null or absent: the scheduler chooses (Icehouse's live-migrate through select_destinations).
    host: v.optional(v.nullable(HostName)),
    block_migration: v.boolean(),
    disk_over_commit: v.boolean(),
    // Whether a named host is forced (up with room is enough; what version 2 and earlier always did)
    // or must also pass the scheduler's policy. Forcing needs a named host.
    force: v.optional(v.boolean()),
    // When a named host is checked: `request` (default) refuses a host that is the server's own, down
    // or disabled before accepting the request; `workflow` checks only that it exists, and leaves the
    // rest to the workflow, where a failed check ends the migration in error (Nova's compute 2.34).
    host_checks: v.optional(
      v.picklist(['request', 'workflow'], "host_checks must be 'request' or 'workflow'"),
    ),
  }),
  policy: 'compute_extension:admin_actions:migrate_live',
  run: async (c, instance, body) => {
    requireState(instance, 'live_migrate_requested');
    requireMigrationWorkflow(c);
    if (!instance.host) throw new BadRequest(`Instance ${instance.uuid} is on no host`);
    const host = body.host ?? null;
    if (host === null && requestedVersion(c, { alias: ALIAS, version: VERSION }) < 2) {
      throw new BadRequest('migrate_live.host: host must name a compute host');
    }
    if (body.force !== undefined) requireVersion(c, 'migrate_live.force', 3);
    if (body.host_checks !== undefined) requireVersion(c, 'migrate_live.host_checks', 3);
    if (body.force && host === null) throw new BadRequest("Can't force to a non-provided destination");
    if (host !== null) {
      if (body.host_checks === 'workflow') await requireComputeHost(c, host);
      else {
        if (host === instance.host) {
          throw new BadRequest(`Unable to migrate instance ${instance.uuid} to current host (${host}).`);
        }
        await requireComputeHost(c, host, 'up');
      }
    }
    await startMigration(c, instance, {
      event: 'live_migrate_requested',
      action: 'live-migration',
      migration_type: 'live-migration',
      dest_compute: host,
      options: {
        block_migration: body.block_migration,
        disk_over_commit: body.disk_over_commit,
        force_host: body.force ?? true,
      },
    });
    return c.body(null, 202);
  },
});

const resetState = defineAction({
  name: 'reset_state',
  extension: ALIAS,
  body: v.object({ state: v.picklist(['active', 'error'], "state must be 'active' or 'error'") }),
  policy: 'compute_extension:admin_actions:reset_state',
  run: async (c, instance, body) => {
    await transitionInstance(
      c.var.db.$primary,
      instance.uuid,
      body.state === 'active' ? 'reset_to_active' : 'reset_to_error',
    );
    return c.body(null, 202);
  },
});

export const ADMIN_ACTIONS: ServerAction[] = [
  hostAction('pause', 'compute_extension:admin_actions:pause'),
  hostAction('unpause', 'compute_extension:admin_actions:unpause'),
  hostAction('suspend', 'compute_extension:admin_actions:suspend'),
  hostAction('resume', 'compute_extension:admin_actions:resume'),
  lock,
  unlock,
  migrate,
  migrateLive,
  resetState,
];

export const adminActionsExtension: Extension = defineExtension({
  alias: ALIAS,
  name: 'AdminActions',
  description: 'Enable admin-only server actions: pause, suspend, lock, migrate, migrate_live, reset_state.',
  version: VERSION,
  core: false,
  history: [
    {
      version: 1,
      change:
        'Havana v3 actions (pause, unpause, suspend, resume, lock, unlock, migrate, migrate_live, reset_state)',
    },
    { version: 2, change: 'migrate_live: host may be null or absent, and then the scheduler chooses' },
    {
      version: 3,
      change:
        "migrate may name a host, which the scheduler's policy must accept; migrate_live takes force (false: the named host must pass the scheduler's policy too) and host_checks ('workflow': only the named host's existence is checked before the request is accepted)",
    },
  ],
  routes: [],
});
