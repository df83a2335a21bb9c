import { StartExecutionCommand } from '@aws-sdk/client-sfn';
import { and, eq } from 'drizzle-orm';
import type { Context } from 'hono';
import * as v from 'valibot';
import type { PrimaryDb } from '../../../schema/db.ts';
import { instances } from '../../../schema/tables/index.ts';
import type { HostAction } from '../../compute/host-actions.ts';
import { finishAction, startAction } from '../../compute/instance-actions.ts';
import {
  type InstanceEvent,
  stateConflict,
  transitionAllowed,
  transitionInstance,
} from '../../compute/instance-states.ts';
import { stateMachineArn } from '../../shared/aws.ts';
import { NotFound, ServiceUnavailable } from '../../shared/errors.ts';
import type { AppEnv } from '../context.ts';
import type { PolicyAction } from '../policy.ts';

// What every server action module (servers core, os-admin-actions, os-evacuate) builds its actions
// from; the dispatcher (server-actions.ts) validates the body, checks policy and locks, then runs one.
// The actions that move a server start the move with server-moves.ts.
export type InstanceRow = typeof instances.$inferSelect;

export interface ServerAction {
  /** The key of the action body, e.g. `reboot` in `{"reboot": {"type": "HARD"}}`. */
  name: string;
  /** Alias of the extension that provides it: disabling the extension removes the action. */
  extension: string;
  body: v.GenericSchema;
  policy: PolicyAction;
  /** lock/unlock decide for themselves; every other action is refused to the owner of a locked server. */
  ignoresLock?: true;
  run(c: Context<AppEnv>, instance: InstanceRow, body: unknown): Promise<Response>;
}

export function defineAction<TBody extends v.GenericSchema>(action: {
  name: string;
  extension: string;
  body: TBody;
  policy: PolicyAction;
  ignoresLock?: true;
  run(c: Context<AppEnv>, instance: InstanceRow, body: v.InferOutput<TBody>): Promise<Response>;
}): ServerAction {
  return action as ServerAction;
}

/** Actions without parameters take `null` (Havana's samples) or an empty object. */
export const NoBody = v.nullable(v.strictObject({}));

/** The server's row from the primary (the action decides writes), scoped to the caller's project. */
export async function loadServerForAction(c: Context<AppEnv>, uuid: string): Promise<InstanceRow> {
  const caller = c.var.caller;
  const [instance] = await c.var.db.$primary
    .select()
    .from(instances)
    .where(
      and(
        eq(instances.uuid, uuid),
        eq(instances.deleted, 0),
        caller.isAdmin ? undefined : eq(instances.project_id, caller.projectId),
      ),
    );
  if (!instance) throw new NotFound(`Instance ${uuid} could not be found.`);
  return instance;
}

/** The instance action row a request starts (os-instance-actions); moves record theirs too. */
export function recordRequest(c: Context<AppEnv>, db: PrimaryDb, action: string, uuid: string) {
  return startAction(db, {
    action,
    instance_uuid: uuid,
    request_id: c.var.requestId,
    project_id: c.var.caller.projectId,
    user_id: c.var.caller.userId,
  });
}

/** What a request may change on the instance with its task state (a rebuild's image, name, key...). */
export type RequestedColumns = Partial<
  Pick<
    InstanceRow,
    | 'image_ref'
    | 'display_name'
    | 'metadata'
    | 'description'
    | 'hostname'
    | 'key_name'
    | 'user_data'
    | 'trusted_image_certificates'
  >
>;

/**
 * Moves the instance into the action's task state and starts the server-action workflow, which has
 * the host do the work (workflows/server-action.ts). `extra` columns change in the same write.
 */
export async function requestHostAction(
  c: Context<AppEnv>,
  instance: InstanceRow,
  action: HostAction,
  requestEvent: InstanceEvent,
  extra: RequestedColumns = {},
): Promise<void> {
  const db = c.var.db.$primary;
  await transitionInstance(db, instance.uuid, requestEvent, extra);
  await recordRequest(c, db, action, instance.uuid);
  try {
    const execution = await c.var.sfn.send(
      new StartExecutionCommand({
        stateMachineArn: stateMachineArn(c.var.config, 'server-action'),
        name: `${action}-${instance.uuid}-${Date.now()}`,
        input: JSON.stringify({ instance_uuid: instance.uuid, action }),
      }),
    );
    await db
      .update(instances)
      .set({ execution_arn: execution.executionArn })
      .where(eq(instances.uuid, instance.uuid));
  } catch (error) {
    // Nothing will act on the task state: give the server back as it was.
    await transitionInstance(db, instance.uuid, 'server_action_abandoned');
    await finishAction(db, instance.uuid, 'Error');
    throw new ServiceUnavailable(`The ${action} workflow could not be started: ${(error as Error).message}`);
  }
}

/** Refuses the event with the same 409 transitionInstance gives, before anything is written. */
export function requireState(instance: InstanceRow, event: InstanceEvent): void {
  if (!transitionAllowed(event, instance.vm_state, instance.task_state)) {
    throw stateConflict(event, instance.uuid, instance.vm_state, instance.task_state);
  }
}
