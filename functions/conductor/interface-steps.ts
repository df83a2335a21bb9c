import * as v from 'valibot';
import { recordEvent } from '../compute/instance-actions.ts';
import { activateInstancePorts, releaseInstancePort } from '../network/instance-networks.ts';
import { refreshInstanceNetworkCache } from '../network/neutron-network-info.ts';
import type { ConductorContext } from './context.ts';
import { loadHostService, loadLiveInstance, type PreparedCommand, prepareCommand } from './host-commands.ts';
import { CaughtError, describeCaughtError } from './step-errors.ts';

// The steps of workflows/server-interface.ts: an interface attached to or detached from a running
// server. The API has already made or bound the port (attach) or checked it is the server's (detach);
// the host plugs or unplugs it, and the cache follows.

const InterfaceRef = v.object({
  instance_uuid: v.pipe(v.string(), v.uuid()),
  port_id: v.pipe(v.string(), v.uuid()),
  operation: v.picklist(['attach', 'detach']),
  /** Attach: the user passed this port in (it is unbound, not deleted, when the attach fails). */
  user_port: v.optional(v.boolean(), false),
});

export interface InterfacePlan {
  command: PreparedCommand;
}

/**
 * interface.prepare: the cache takes the attached port in first, so that the command carries it (the
 * agent plugs the VIF the instance's network info names); a detach's command names the port to unplug.
 */
export async function prepare(ctx: ConductorContext, input: unknown): Promise<InterfacePlan> {
  const { instance_uuid, port_id, operation, user_port } = v.parse(InterfaceRef, input);
  const instance = await loadLiveInstance(ctx.db, instance_uuid);
  if (!instance.host) throw new Error(`Instance ${instance_uuid} is on no host`);
  if (operation === 'attach') {
    await refreshInstanceNetworkCache(ctx.db, instance_uuid, { preserved: user_port ? [port_id] : [] });
  }
  const service = await loadHostService(ctx.db, instance.host);
  const name = operation === 'attach' ? 'attach_interface' : 'detach_interface';
  return { command: await prepareCommand(ctx.db, name, instance, instance.host, service, { port_id }) };
}

/**
 * interface.finish: an attached port is ACTIVE; a detached one is deleted if the server made it, or
 * unbound and kept if it was the user's. Either way the cache is rewritten.
 */
export async function finish(ctx: ConductorContext, input: unknown): Promise<void> {
  const { instance_uuid, port_id, operation } = v.parse(InterfaceRef, input);
  if (operation === 'attach') await activateInstancePorts(ctx.db, instance_uuid);
  else await releaseInstancePort(ctx.db, instance_uuid, port_id);
  await refreshInstanceNetworkCache(ctx.db, instance_uuid);
  await recordEvent(ctx.db, instance_uuid, {
    event: `compute_${operation}_interface`,
    result: 'Success',
  });
}

const FailInput = v.object({ ...InterfaceRef.entries, error: CaughtError });

/**
 * interface.fail: an attach the host could not carry out is undone (the port it made deleted, the
 * user's unbound); a failed detach leaves the port attached. The server itself stays as it was.
 */
export async function fail(ctx: ConductorContext, input: unknown): Promise<void> {
  const { instance_uuid, port_id, operation, user_port, error } = v.parse(FailInput, input);
  if (operation === 'attach') await releaseInstancePort(ctx.db, instance_uuid, port_id, user_port);
  await refreshInstanceNetworkCache(ctx.db, instance_uuid);
  await recordEvent(ctx.db, instance_uuid, {
    event: `compute_${operation}_interface`,
    result: 'Error',
    traceback: describeCaughtError(error),
  });
}
