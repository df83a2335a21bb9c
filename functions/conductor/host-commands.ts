import { and, eq } from 'drizzle-orm';
import type { PrimaryDb } from '../../schema/db.ts';
import { makeCompatible, type ObjectPrimitive, versionToSend } from '../../schema/objects/base.ts';
import { agentRunsCommand, type ComputeCommandName } from '../../schema/objects/compute-command.ts';
import { type InstanceFields, InstanceObject } from '../../schema/objects/instance.ts';
import type { NetworkInfo } from '../../schema/objects/network-info.ts';
import { instances, services } from '../../schema/tables/index.ts';
import { loadNetworkInfo } from '../network/instance-cache.ts';
import { Conflict, NotFound } from '../shared/errors.ts';

/** A command ready for the workflow's hostCommand task (workflows/asl.ts), minus the token AWS adds. */
export interface PreparedCommand {
  command_id: string;
  name: ComputeCommandName;
  host: string;
  instance_uuid: string;
  queue_url: string;
  instance: ObjectPrimitive<Record<string, unknown>>;
  /** What the command needs beyond the instance (e.g. `power_on` for finish_resize); `{}` when nothing. */
  params: Record<string, unknown>;
}

export interface HostService {
  queue_url: string | null;
  supported_objects: Record<string, string>;
  supported_commands: string[] | null;
  disabled: boolean;
  forced_down: boolean;
  last_seen_at: Date | null;
}

export async function loadHostService(db: PrimaryDb, host: string): Promise<HostService> {
  const [service] = await db
    .select({
      queue_url: services.queue_url,
      supported_objects: services.supported_objects,
      supported_commands: services.supported_commands,
      disabled: services.disabled,
      forced_down: services.forced_down,
      last_seen_at: services.last_seen_at,
    })
    .from(services)
    .where(and(eq(services.host, host), eq(services.binary, 'nova-compute'), eq(services.deleted, 0)));
  if (!service) throw new NotFound(`Compute service on host ${host} not found`);
  return service;
}

export function instanceData(
  instance: typeof instances.$inferSelect,
  networkInfo: NetworkInfo,
): InstanceFields {
  return {
    uuid: instance.uuid,
    name: instance.display_name,
    project_id: instance.project_id,
    image_ref: instance.image_ref,
    memory_mb: instance.flavor.memory_mb,
    vcpus: instance.flavor.vcpus,
    root_gb: instance.flavor.root_gb,
    host: instance.host,
    node: instance.node,
    availability_zone: instance.availability_zone,
    metadata: instance.metadata,
    flavor: {
      flavorid: instance.flavor.flavorid,
      name: instance.flavor.name,
      memory_mb: instance.flavor.memory_mb,
      vcpus: instance.flavor.vcpus,
      root_gb: instance.flavor.root_gb,
      ephemeral_gb: instance.flavor.ephemeral_gb,
      swap: instance.flavor.swap,
    },
    network_info: networkInfo,
  };
}

/**
 * Builds the command, with the instance backported to the object version the host's agent understands.
 * Every command carries the server's network info as its cache holds it now, so whatever a host does
 * to the guest, it does with the interfaces the API shows.
 */
export async function prepareCommand(
  db: PrimaryDb,
  name: PreparedCommand['name'],
  instance: typeof instances.$inferSelect,
  host: string,
  service: HostService,
  params: Record<string, unknown> = {},
): Promise<PreparedCommand> {
  if (!service.queue_url)
    throw new NotFound(`Compute host ${host} has no command queue: its agent never registered`);
  if (!agentRunsCommand(service.supported_commands, name)) {
    throw new Conflict(`The agent of compute host ${host} does not run ${name}: upgrade it`);
  }
  const targetVersion = versionToSend(InstanceObject, service.supported_objects[InstanceObject.name]);
  const networkInfo = await loadNetworkInfo(db, instance.uuid);
  return {
    command_id: crypto.randomUUID(),
    name,
    host,
    instance_uuid: instance.uuid,
    queue_url: service.queue_url,
    instance: makeCompatible(InstanceObject, instanceData(instance, networkInfo), targetVersion),
    params,
  };
}

export async function loadLiveInstance(db: PrimaryDb, uuid: string): Promise<typeof instances.$inferSelect> {
  const [instance] = await db
    .select()
    .from(instances)
    .where(and(eq(instances.uuid, uuid), eq(instances.deleted, 0)));
  if (!instance) throw new NotFound(`Instance ${uuid} could not be found.`);
  return instance;
}
