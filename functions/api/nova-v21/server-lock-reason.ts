import { and, eq, isNotNull, isNull } from 'drizzle-orm';
import type { Context } from 'hono';
import * as v from 'valibot';
import { instances } from '../../../schema/tables/index.ts';
import type { AppEnv } from '../context.ts';
import { loadServerForAction } from '../nova/server-action-kit.ts';
import { atLeast } from './microversion.ts';
import { ADMIN_V21_ACTIONS } from './os-admin-actions.ts';
import { defineV21Action, type V21Action } from './server-action-kit.ts';

// Why a server is locked (compute 2.73): `{"lock": {"locked_reason": "..."}}` keeps the reason beside
// the lock, the views show it while the server is locked, and unlocking forgets it. The lock itself
// is os-admin-actions' (its policy, who may lift it): these actions run that one, then keep the reason.

function adminAction(name: 'lock' | 'unlock'): V21Action {
  const action = ADMIN_V21_ACTIONS.find((candidate) => candidate.name === name);
  if (!action) throw new Error(`os-admin-actions has no v2.1 action ${name}`);
  return action;
}

const lock = adminAction('lock');
const unlock = adminAction('unlock');

const LockBody = v.nullable(
  v.strictObject({
    locked_reason: v.optional(v.pipe(v.string(), v.minLength(1, 'must not be empty'), v.maxLength(255))),
  }),
);

function serverId(c: Context<AppEnv>): string {
  return c.req.param('server_id') ?? '';
}

export const LOCK_REASON_V21_ACTIONS: V21Action[] = [
  defineV21Action({
    name: 'lock',
    body: (c) => (atLeast(c, 73) ? LockBody : lock.body(c)),
    run: async (c, value: v.InferOutput<typeof LockBody>) => {
      const before = await loadServerForAction(c, serverId(c));
      const answer = await lock.run(c, null);
      const reason = value?.locked_reason;
      // As in Nova, an owner locking a server that is locked already changes nothing, its reason neither.
      if (reason && (c.var.caller.isAdmin || before.locked_by === null)) {
        await c.var.db.$primary
          .update(instances)
          .set({ locked_reason: reason })
          .where(and(eq(instances.uuid, before.uuid), isNotNull(instances.locked_by)));
      }
      return answer;
    },
  }),
  defineV21Action({
    name: 'unlock',
    body: (c) => unlock.body(c),
    run: async (c, value) => {
      const answer = await unlock.run(c, value);
      await c.var.db.$primary
        .update(instances)
        .set({ locked_reason: null })
        .where(and(eq(instances.uuid, serverId(c)), isNull(instances.locked_by)));
      return answer;
    },
  }),
];
