import { and, desc, eq } from 'drizzle-orm';
import type { Context } from 'hono';
import * as v from 'valibot';
import { migrations } from '../../../schema/tables/index.ts';
import { BadRequest } from '../../shared/errors.ts';
import type { AppEnv } from '../context.ts';
import { defineFace } from './face.ts';
import { atLeast } from './microversion.ts';
import { NullBody, type V21Action, v3Action } from './server-action-kit.ts';
import { HostName, NovaBoolean } from './server-fields.ts';
import { answerWith } from './v3-call.ts';

// os-admin-actions' actions under their v2.1 names (clients-and-microversions.md §4.3), dispatched by
// the servers face's POST /v2.1/servers/{id}/action.

function sameName(name: 'pause' | 'unpause' | 'suspend' | 'resume' | 'lock' | 'unlock'): V21Action {
  return v3Action({ name, body: () => NullBody, v3Name: name });
}

// From 2.56 a cold migration may name its host: it must exist and not be the server's own (400), and
// the scheduler's policy must accept it (else the migration ends in error and the server stays).
const migrate = v3Action({
  name: 'migrate',
  body: (c) =>
    atLeast(c, 56) ? v.nullable(v.strictObject({ host: v.optional(v.nullable(HostName)) })) : NullBody,
  v3Name: 'migrate',
  v3Value: (_c, value) => (value === null ? null : { host: value.host ?? null }),
});

const BlockMigration = v.union([v.literal('auto'), NovaBoolean], 'must be a boolean or "auto"');

/** os-migrateLive's body: `force` exists from 2.30 to 2.67; before 2.25 disk_over_commit is required. */
function migrateLiveBody(c: Context<AppEnv>) {
  const host = v.nullable(HostName);
  if (!atLeast(c, 25)) {
    return v.strictObject({ host, block_migration: NovaBoolean, disk_over_commit: NovaBoolean });
  }
  if (atLeast(c, 30) && !atLeast(c, 68)) {
    return v.strictObject({ host, block_migration: BlockMigration, force: v.optional(NovaBoolean) });
  }
  return v.strictObject({ host, block_migration: BlockMigration });
}

/**
 * How long a request below 2.34 waits for the pre-checks. Nova's call waits as long as its conductor
 * works on them (up to long_rpc_timeout); the Schedule step takes a second or two, so a minute only
 * bounds how long a request can hang on a workflow that is stuck.
 */
const PRE_CHECK_WAIT_MS = 60_000;
const PRE_CHECK_POLL_MS = 200;

/**
 * Before 2.34 Nova ran a live migration's pre-checks (a destination found or the named one up, with
 * room and a hypervisor that can take the guest) before answering, and a failed one was a 400, the
 * migration in error and the server as it was. Here the workflow's Schedule step runs them: the
 * answer waits until it has recorded the destination or the move has failed. Checks still running when
 * the wait ends go on; their outcome shows on the migration.
 */
async function awaitPreChecks(c: Context<AppEnv>): Promise<void> {
  const deadline = Date.now() + PRE_CHECK_WAIT_MS;
  for (;;) {
    // The newest move of the server is this request's: no other can start while it has a task state.
    const [migration] = await c.var.db.$primary
      .select({ status: migrations.status, dest_node: migrations.dest_node, error: migrations.error_message })
      .from(migrations)
      .where(and(eq(migrations.instance_uuid, c.req.param('server_id') ?? ''), eq(migrations.deleted, 0)))
      .orderBy(desc(migrations.id))
      .limit(1);
    if (migration?.status === 'error')
      throw new BadRequest(migration.error ?? 'Live migration pre-checks failed');
    if (migration?.status !== 'pre-migrating' || migration.dest_node !== null || Date.now() >= deadline)
      return;
    await new Promise((resolve) => setTimeout(resolve, PRE_CHECK_POLL_MS));
  }
}

// Before 2.25 all three keys are required (host may be null: the scheduler chooses); from 2.25
// block_migration may be "auto" and disk_over_commit is gone. A named host is forced before 2.30, as
// Nova forced it; from 2.30 only when `force` says so, and from 2.68 never: the scheduler's policy
// must accept it. From 2.34 only its existence is checked before the answer; the rest is the workflow's.
const migrateLive = v3Action({
  name: 'os-migrateLive',
  body: migrateLiveBody,
  v3Name: 'migrate_live',
  v3Value: (c, value) => ({
    host: value.host,
    // "auto" asks Nova to copy the disks unless both hosts share storage; no two hosts here do.
    block_migration: value.block_migration === 'auto' ? true : value.block_migration,
    disk_over_commit: 'disk_over_commit' in value ? value.disk_over_commit : false,
    ...(atLeast(c, 30) ? { force: ('force' in value && value.force) || false } : {}),
    ...(atLeast(c, 34) ? { host_checks: 'workflow' } : {}),
  }),
  respond: async (c, answer) => {
    if (!atLeast(c, 34)) await awaitPreChecks(c);
    return answerWith(c, answer.status, answer.body);
  },
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
    {
      minor: 30,
      change:
        "os-migrateLive: force (default false); a named host is forced (up with room is enough) only when asked, else the scheduler's policy must accept it; forcing needs a host",
      routes: ['/v2.1/servers/{server_id}/action'],
    },
    {
      minor: 34,
      change:
        "os-migrateLive: only an unknown host is refused (400); every other pre-check (the server's own host, a host down, no valid host, an incompatible hypervisor) runs in the workflow and ends the migration in error with the server ACTIVE. Below 2.34 the answer waits for those checks and a failed one is a 400",
      routes: ['/v2.1/servers/{server_id}/action'],
    },
    {
      minor: 56,
      change:
        "migrate: host may name the destination; an unknown host or the server's own is a 400, and the scheduler's policy must accept it",
      routes: ['/v2.1/servers/{server_id}/action'],
    },
    {
      minor: 68,
      change:
        "os-migrateLive: force is refused (400); a named host must pass the scheduler's policy (os-admin-actions part)",
      routes: ['/v2.1/servers/{server_id}/action'],
    },
  ],
});
