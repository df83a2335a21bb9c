import * as v from 'valibot';
import { finishAction, recordEvent } from '../compute/instance-actions.ts';
import { failInstance } from '../compute/instance-faults.ts';
import { transitionInstance } from '../compute/instance-states.ts';
import {
  activateInstancePorts,
  allocateInstanceNetworks,
  RequestedNetworks,
  releaseBootNetworks,
} from '../network/instance-networks.ts';
import type { NetworkApiMode } from '../network/mode.ts';
import { releaseClaims, scheduleAndClaim } from '../scheduler/claims.ts';
import { bootDestination, requestSpecFor } from '../scheduler/spec-from-instance.ts';
import { StateConflict } from '../shared/errors.ts';
import type { ConductorContext } from './context.ts';
import { loadHostService, loadLiveInstance, type PreparedCommand, prepareCommand } from './host-commands.ts';
import { CaughtError, describeCaughtError } from './step-errors.ts';

const InstanceRef = v.object({ instance_uuid: v.pipe(v.string(), v.uuid()) });

export interface Placement {
  host: string;
  node: string;
}

/** boot.schedule: decide and claim a host (functions/scheduler/claims.ts). */
export async function schedule(ctx: ConductorContext, input: unknown): Promise<Placement> {
  const { instance_uuid } = v.parse(InstanceRef, input);
  const instance = await loadLiveInstance(ctx.db, instance_uuid);
  // Until the server is placed, availability_zone holds the zone its request named (servers.ts writes
  // it there); placing it keeps that in requested_availability_zone, for its moves.
  const requestedZone = instance.requested_availability_zone ?? instance.availability_zone;
  const spec = {
    ...(await requestSpecFor(ctx.db, instance)),
    availability_zone: requestedZone,
    requested_destination: bootDestination(instance),
  };
  const placement = await scheduleAndClaim(ctx.db, spec, {
    now: new Date(),
    serviceDownTimeSeconds: ctx.config.SERVICE_DOWN_TIME_SECONDS,
  });
  const chosen = placement.host;
  try {
    await transitionInstance(ctx.db, instance_uuid, 'claimed', {
      host: chosen.host,
      node: chosen.hypervisor_hostname,
      // From here on availability_zone is the zone the server is in.
      availability_zone: chosen.availability_zone,
      requested_availability_zone: requestedZone,
      scheduler_policy: placement.policy.name,
    });
    await recordEvent(ctx.db, instance_uuid, {
      event: 'conductor_schedule_and_claim',
      result: 'Success',
      host: chosen.host,
    });
    return { host: chosen.host, node: chosen.hypervisor_hostname };
  } catch (error) {
    // A delete that raced the claim must not leak it.
    await releaseClaims(ctx.db, instance_uuid);
    throw error;
  }
}

const AllocateInput = v.object({
  ...InstanceRef.entries,
  requested_networks: RequestedNetworks,
  placement: v.object({ host: v.string(), node: v.string() }),
});

export interface NetworkPlan {
  /** The network API the boot allocated from: the deployment's when the boot reached this step. */
  network_api: NetworkApiMode;
  /** The spawn command, carrying the networks just allocated. */
  command: PreparedCommand;
}

/**
 * boot.allocate_networks: gives the server the networks its request named (or those its project can
 * use) on the chosen host, writes its cache, and prepares the spawn command that plugs them. Run again,
 * it allocates nothing twice (instance-networks.ts).
 */
export async function allocateNetworks(ctx: ConductorContext, input: unknown): Promise<NetworkPlan> {
  const { instance_uuid, requested_networks, placement } = v.parse(AllocateInput, input);
  const instance = await loadLiveInstance(ctx.db, instance_uuid);
  const service = await loadHostService(ctx.db, placement.host);
  const allocated = await allocateInstanceNetworks(
    ctx.db,
    ctx.config,
    instance,
    requested_networks,
    placement.host,
  );
  await recordEvent(ctx.db, instance_uuid, {
    event: `conductor_allocate_networks_${allocated.network_api}`,
    result: 'Success',
    host: placement.host,
  });
  return {
    network_api: allocated.network_api,
    command: await prepareCommand(ctx.db, 'spawn', instance, placement.host, service),
  };
}

const FinishInput = v.object({
  ...InstanceRef.entries,
  placement: v.object({ host: v.string(), node: v.string() }),
  spawned: v.object({ power_state: v.optional(v.number(), 1) }),
});

/** boot.finish: the agent spawned the guest. */
export async function finish(ctx: ConductorContext, input: unknown): Promise<void> {
  const { instance_uuid, placement, spawned } = v.parse(FinishInput, input);
  await transitionInstance(ctx.db, instance_uuid, 'spawned', {
    power_state: spawned.power_state,
    launched_at: new Date(),
    progress: 100,
  });
  await recordEvent(ctx.db, instance_uuid, {
    event: 'compute_spawn',
    result: 'Success',
    host: placement.host,
  });
  // The host plugged the server's ports with the guest.
  await activateInstancePorts(ctx.db, instance_uuid);
  await finishAction(ctx.db, instance_uuid);
}

const FailInput = v.object({
  ...InstanceRef.entries,
  requested_networks: RequestedNetworks,
  error: CaughtError,
});

/**
 * boot.fail: release what was claimed and what the boot allocated (the ports it made are deleted,
 * those the request named unbound), and put the instance in ERROR with a fault saying why.
 */
export async function fail(ctx: ConductorContext, input: unknown): Promise<void> {
  const { instance_uuid, requested_networks, error } = v.parse(FailInput, input);
  const message = describeCaughtError(error);
  await releaseClaims(ctx.db, instance_uuid);
  await releaseBootNetworks(ctx.db, instance_uuid, requested_networks);
  try {
    await failInstance(
      ctx.db,
      instance_uuid,
      'build_failed',
      { code: 500, message, details: `${error.Error}: ${error.Cause}` },
      { power_state: 0 },
    );
  } catch (conflict) {
    // A delete already took the instance over; its own workflow decides the outcome.
    if (conflict instanceof StateConflict) return;
    throw conflict;
  }
  await recordEvent(ctx.db, instance_uuid, { event: 'conductor_build', result: 'Error', traceback: message });
  await finishAction(ctx.db, instance_uuid, 'Error');
}
