import * as v from 'valibot';
import { HOST_ACTION_NAMES, HOST_ACTIONS } from '../compute/host-actions.ts';
import { finishAction, recordEvent } from '../compute/instance-actions.ts';
import { failInstance } from '../compute/instance-faults.ts';
import { transitionInstance } from '../compute/instance-states.ts';
import { isServiceUp } from '../compute/service-liveness.ts';
import { ServiceUnavailable, StateConflict } from '../shared/errors.ts';
import type { ConductorContext } from './context.ts';
import { loadHostService, loadLiveInstance, type PreparedCommand, prepareCommand } from './host-commands.ts';
import { CaughtError, describeCaughtError } from './step-errors.ts';

const ActionRef = v.object({
  instance_uuid: v.pipe(v.string(), v.uuid()),
  action: v.picklist(HOST_ACTION_NAMES),
});

export interface ServerActionPlan {
  command: PreparedCommand;
}

/** server-action.prepare: address the command to the instance's host, which must be up. */
export async function prepare(ctx: ConductorContext, input: unknown): Promise<ServerActionPlan> {
  const { instance_uuid, action } = v.parse(ActionRef, input);
  const instance = await loadLiveInstance(ctx.db, instance_uuid);
  if (!instance.host) throw new ServiceUnavailable(`Instance ${instance_uuid} is on no host`);
  const service = await loadHostService(ctx.db, instance.host);
  if (!isServiceUp(service, new Date(), ctx.config.SERVICE_DOWN_TIME_SECONDS)) {
    throw new ServiceUnavailable(`Compute host ${instance.host} is down`);
  }
  return {
    command: await prepareCommand(ctx.db, HOST_ACTIONS[action].command, instance, instance.host, service),
  };
}

const FinishInput = v.object({
  ...ActionRef.entries,
  result: v.object({ power_state: v.optional(v.number()) }),
});

/** server-action.finish: the agent did it; the instance reaches the action's final state. */
export async function finish(ctx: ConductorContext, input: unknown): Promise<void> {
  const { instance_uuid, action, result } = v.parse(FinishInput, input);
  const instance = await loadLiveInstance(ctx.db, instance_uuid);
  await transitionInstance(
    ctx.db,
    instance_uuid,
    HOST_ACTIONS[action].done,
    result.power_state === undefined ? {} : { power_state: result.power_state },
  );
  await recordEvent(ctx.db, instance_uuid, {
    event: `compute_${action}`,
    result: 'Success',
    host: instance.host,
  });
  await finishAction(ctx.db, instance_uuid);
}

const FailInput = v.object({ ...ActionRef.entries, error: CaughtError });

/** server-action.fail: the host failed (or never answered); the instance goes to ERROR with a fault. */
export async function fail(ctx: ConductorContext, input: unknown): Promise<void> {
  const { instance_uuid, action, error } = v.parse(FailInput, input);
  const message = describeCaughtError(error);
  try {
    await failInstance(ctx.db, instance_uuid, 'server_action_failed', {
      code: 500,
      message,
      details: `${error.Error}: ${error.Cause}`,
    });
  } catch (conflict) {
    // A delete (or an admin's reset_state) took the instance over; that decides its state now.
    if (conflict instanceof StateConflict) return;
    throw conflict;
  }
  await recordEvent(ctx.db, instance_uuid, {
    event: `compute_${action}`,
    result: 'Error',
    traceback: message,
  });
  await finishAction(ctx.db, instance_uuid, 'Error');
}
