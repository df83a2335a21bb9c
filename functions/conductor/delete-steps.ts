import * as v from 'valibot';
import { finishAction, recordEvent } from '../compute/instance-actions.ts';
import { failInstance } from '../compute/instance-faults.ts';
import { transitionInstance } from '../compute/instance-states.ts';
import { instanceQuotaDeltas, releaseQuota } from '../compute/quotas.ts';
import { isServiceUp } from '../compute/service-liveness.ts';
import { deallocateInstanceNetworks } from '../network/instance-networks.ts';
import { releaseClaims } from '../scheduler/claims.ts';
import type { ConductorContext } from './context.ts';
import { loadHostService, loadLiveInstance, type PreparedCommand, prepareCommand } from './host-commands.ts';
import { CaughtError, describeCaughtError } from './step-errors.ts';

const InstanceRef = v.object({ instance_uuid: v.pipe(v.string(), v.uuid()) });

export interface DeletePlan {
  /** null: nothing runs on a reachable host (never scheduled, or the host is down): delete locally. */
  command: PreparedCommand | null;
}

/** delete.prepare: decide whether the host must destroy the guest first. */
export async function prepare(ctx: ConductorContext, input: unknown): Promise<DeletePlan> {
  const { instance_uuid } = v.parse(InstanceRef, input);
  const instance = await loadLiveInstance(ctx.db, instance_uuid);
  if (!instance.host) return { command: null };
  const service = await loadHostService(ctx.db, instance.host);
  if (!isServiceUp(service, new Date(), ctx.config.SERVICE_DOWN_TIME_SECONDS)) return { command: null };
  return { command: await prepareCommand(ctx.db, 'terminate', instance, instance.host, service) };
}

/**
 * delete.finish: release the claims and the networks (the ports the server made are deleted, the
 * user's unbound and kept), then soft-delete (deleted = id frees the natural keys).
 */
export async function finish(ctx: ConductorContext, input: unknown): Promise<void> {
  const { instance_uuid } = v.parse(InstanceRef, input);
  const instance = await loadLiveInstance(ctx.db, instance_uuid);
  await releaseClaims(ctx.db, instance_uuid);
  await deallocateInstanceNetworks(ctx.db, instance_uuid);
  await recordEvent(ctx.db, instance_uuid, {
    event: 'compute_terminate_instance',
    result: 'Success',
    host: instance.host,
  });
  await finishAction(ctx.db, instance_uuid);
  const now = new Date();
  await transitionInstance(ctx.db, instance_uuid, 'deleted', {
    deleted: instance.id,
    deleted_at: now,
    terminated_at: now,
    power_state: 0,
  });
  // After the transition, which a retried step cannot repeat: the quota is given back exactly once.
  await releaseQuota(ctx.db, instance.project_id, instanceQuotaDeltas(instance.flavor));
}

const FailInput = v.object({ ...InstanceRef.entries, error: CaughtError });

/** delete.fail: the host could not destroy the guest; keep the claim (the guest may still run). */
export async function fail(ctx: ConductorContext, input: unknown): Promise<void> {
  const { instance_uuid, error } = v.parse(FailInput, input);
  const message = describeCaughtError(error);
  await failInstance(ctx.db, instance_uuid, 'delete_failed', {
    code: 500,
    message,
    details: `${error.Error}: ${error.Cause}`,
  });
  await recordEvent(ctx.db, instance_uuid, {
    event: 'compute_terminate_instance',
    result: 'Error',
    traceback: message,
  });
  await finishAction(ctx.db, instance_uuid, 'Error');
}
