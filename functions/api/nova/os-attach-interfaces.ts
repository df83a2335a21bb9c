import { StartExecutionCommand } from '@aws-sdk/client-sfn';
import { and, eq } from 'drizzle-orm';
import type { Context } from 'hono';
import * as v from 'valibot';
import { agentRunsCommand } from '../../../schema/objects/compute-command.ts';
import { type instances, services } from '../../../schema/tables/index.ts';
import {
  bindUserPort,
  computeOwner,
  loadVifTags,
  NETWORK_AMBIGUOUS,
  releaseInstancePort,
  saveVifTag,
  usableNetworkIds,
} from '../../network/instance-networks.ts';
import { canonicalIp } from '../../network/ip-math.ts';
import { networkApiMode } from '../../network/mode.ts';
import { instancePortRows } from '../../network/neutron-network-info.ts';
import { createPort, loadPort, loadPorts, type PortView } from '../../network/ports.ts';
import { stateMachineArn } from '../../shared/aws.ts';
import { BadRequest, Conflict, NotFound, NotImplemented, ServiceUnavailable } from '../../shared/errors.ts';
import type { AppEnv } from '../context.ts';
import { authorize } from '../policy.ts';
import { route } from '../route.ts';
import { defineExtension, type Extension } from './extension.ts';
import { loadServerForAction } from './server-action-kit.ts';
import { requireUnlocked } from './server-lock.ts';

// A server's interfaces (Havana v3 os-attach-interfaces; v2.1 os-interface): its ports, and attach or
// detach one while it runs. The port is made or bound here, so that what cannot be had (a network or
// port that does not exist, an address in use, a port another server owns) is refused at once; the
// server-interface workflow then has the host plug or unplug it and settles the cache.

type InstanceRow = typeof instances.$inferSelect;

export const ATTACH_INTERFACES_ALIAS = 'os-attach-interfaces';

/** Nova's attach and detach need a server at rest on a host: running, paused, suspended or stopped. */
const ATTACHABLE_VM_STATES = ['active', 'paused', 'suspended', 'stopped'];

export const InterfaceAttachment = v.strictObject({
  net_id: v.optional(v.pipe(v.string(), v.uuid('net_id must be a network uuid'))),
  port_id: v.optional(v.pipe(v.string(), v.uuid('port_id must be a port uuid'))),
  fixed_ips: v.optional(
    v.pipe(
      v.array(v.strictObject({ ip_address: v.pipe(v.string(), v.maxLength(64)) })),
      v.maxLength(1, 'at most one fixed IP can be requested'),
    ),
  ),
});
export type InterfaceAttachment = v.InferOutput<typeof InterfaceAttachment>;

/** Havana's view of an attachment. */
export function attachmentView(port: PortView) {
  return {
    port_state: port.status,
    fixed_ips: port.fixed_ips.map(({ subnet_id, ip_address }) => ({ subnet_id, ip_address })),
    port_id: port.id,
    net_id: port.network_id,
    mac_addr: port.mac_address,
  };
}

/** Interfaces are the networking service's ports: a deployment still on nova-network has none to attach. */
async function requireNeutron(c: Context<AppEnv>): Promise<void> {
  if ((await networkApiMode(c.var.db.$primary, c.var.config)) !== 'neutron') {
    throw new NotImplemented('Network driver does not support this function.');
  }
}

async function serverPorts(c: Context<AppEnv>, instance: InstanceRow): Promise<PortView[]> {
  const ids = (await instancePortRows(c.var.db.$primary, instance.uuid)).map((port) => port.uuid);
  return loadPorts(c.var.db.$primary, { uuids: ids });
}

async function serverPort(c: Context<AppEnv>, instance: InstanceRow, portId: string): Promise<PortView> {
  const port = (await serverPorts(c, instance)).find((candidate) => candidate.id === portId);
  if (!port) throw new NotFound(`Port ${portId} is not attached to server ${instance.uuid}.`);
  return port;
}

function requireAttachable(instance: InstanceRow, operation: string): string {
  if (!ATTACHABLE_VM_STATES.includes(instance.vm_state) || instance.task_state !== null || !instance.host) {
    throw new Conflict(
      `Cannot '${operation}' instance ${instance.uuid} while it is in vm_state ${instance.vm_state}, task_state ${instance.task_state}`,
    );
  }
  return instance.host;
}

/** The host's agent must run the command, or the request is refused before anything is made. */
async function requireHostRuns(c: Context<AppEnv>, host: string, command: string): Promise<void> {
  const [service] = await c.var.db.$primary
    .select({ supported_commands: services.supported_commands })
    .from(services)
    .where(and(eq(services.host, host), eq(services.binary, 'nova-compute'), eq(services.deleted, 0)));
  if (!service) throw new Conflict(`Compute host ${host} has no compute service`);
  if (!agentRunsCommand(service.supported_commands, command)) {
    throw new Conflict(`The agent of compute host ${host} does not run ${command}: upgrade it`);
  }
}

async function startInterfaceWorkflow(
  c: Context<AppEnv>,
  input: { instance_uuid: string; port_id: string; operation: 'attach' | 'detach'; user_port: boolean },
): Promise<void> {
  await c.var.sfn.send(
    new StartExecutionCommand({
      stateMachineArn: stateMachineArn(c.var.config, 'server-interface'),
      name: `${input.operation}-${input.port_id}-${Date.now()}`,
      input: JSON.stringify(input),
    }),
  );
}

/** The network an attach without net_id or port_id gets: the one the project can use, if only one. */
async function defaultNetwork(c: Context<AppEnv>, projectId: string): Promise<string> {
  const usable = await usableNetworkIds(c.var.db.$primary, projectId);
  const [only] = usable;
  if (!only) throw new BadRequest('No network is available to attach an interface to.');
  if (usable.length > 1) {
    throw new Conflict(NETWORK_AMBIGUOUS);
  }
  return only;
}

/**
 * Makes (or binds) the port and has the host plug it; answers the port as it is now (DOWN until
 * plugged). `tag` is what the v2.1 face's request gave the interface (compute 2.49).
 */
export async function attachInterface(
  c: Context<AppEnv>,
  serverId: string,
  request: InterfaceAttachment,
  tag?: string,
): Promise<PortView> {
  authorize(c.var.caller, 'compute_extension:attach_interfaces');
  await requireNeutron(c);
  const db = c.var.db.$primary;
  const instance = await loadServerForAction(c, serverId);
  requireUnlocked(c.var.caller, instance);
  const host = requireAttachable(instance, 'attach_interface');
  if (request.net_id && request.port_id) {
    throw new BadRequest('Must not input both network_id and port_id');
  }
  if (request.port_id && request.fixed_ips) throw new BadRequest('fixed_ips can be given only with net_id');
  const fixedIps = (request.fixed_ips ?? []).map(({ ip_address }) => {
    const address = canonicalIp(ip_address);
    if (!address) throw new BadRequest(`Invalid fixed IP address (${ip_address})`);
    return { ip_address: address };
  });
  await requireHostRuns(c, host, 'attach_interface');
  let portId: string;
  if (request.port_id) {
    const [port] = await loadPorts(db, { uuids: [request.port_id] });
    // A server takes only its own project's ports (bindUserPort holds to it too).
    if (!port || port.project_id !== instance.project_id) {
      throw new NotFound(`Port ${request.port_id} could not be found.`);
    }
    await bindUserPort(db, port.id, instance, host);
    portId = port.id;
  } else {
    const networkId = request.net_id ?? (await defaultNetwork(c, instance.project_id));
    const created = await createPort(db, {
      network_uuid: networkId,
      project_id: instance.project_id,
      device_id: instance.uuid,
      device_owner: computeOwner(instance.availability_zone),
      binding_host_id: host,
      ...(fixedIps.length > 0 ? { fixed_ips: fixedIps } : {}),
    });
    portId = created.id;
  }
  const userPort = request.port_id !== undefined;
  if (tag !== undefined) await saveVifTag(db, instance.uuid, portId, tag);
  try {
    await startInterfaceWorkflow(c, {
      instance_uuid: instance.uuid,
      port_id: portId,
      operation: 'attach',
      user_port: userPort,
    });
  } catch (error) {
    // Nothing will plug the port: it goes, or goes back to the user, at once.
    await releaseInstancePort(db, instance.uuid, portId, userPort);
    throw new ServiceUnavailable(`The attach workflow could not be started: ${(error as Error).message}`);
  }
  return loadPort(db, portId);
}

/** Has the host unplug the port; the workflow then deletes it (made by attach or boot) or unbinds it. */
export async function detachInterface(c: Context<AppEnv>, serverId: string, portId: string): Promise<void> {
  authorize(c.var.caller, 'compute_extension:attach_interfaces');
  await requireNeutron(c);
  const instance = await loadServerForAction(c, serverId);
  requireUnlocked(c.var.caller, instance);
  const host = requireAttachable(instance, 'detach_interface');
  await serverPort(c, instance, portId);
  await requireHostRuns(c, host, 'detach_interface');
  await startInterfaceWorkflow(c, {
    instance_uuid: instance.uuid,
    port_id: portId,
    operation: 'detach',
    user_port: false,
  });
}

/** The server's interfaces, for the list and show routes of both faces, with their tags by port id. */
export async function listInterfaces(
  c: Context<AppEnv>,
  serverId: string,
): Promise<{ ports: PortView[]; tags: Map<string, string> }> {
  authorize(c.var.caller, 'compute_extension:attach_interfaces');
  await requireNeutron(c);
  const instance = await loadServerForAction(c, serverId);
  const [ports, tags] = await Promise.all([
    serverPorts(c, instance),
    loadVifTags(c.var.db.$primary, instance.uuid),
  ]);
  return { ports, tags };
}

export async function showInterface(
  c: Context<AppEnv>,
  serverId: string,
  portId: string,
): Promise<{ port: PortView; tag: string | null }> {
  authorize(c.var.caller, 'compute_extension:attach_interfaces');
  await requireNeutron(c);
  const instance = await loadServerForAction(c, serverId);
  const port = await serverPort(c, instance, portId);
  return { port, tag: (await loadVifTags(c.var.db.$primary, instance.uuid)).get(portId) ?? null };
}

const SERVER_INTERFACES = '/v3/servers/:server_id/os-attach-interfaces';

export const attachInterfacesExtension: Extension = defineExtension({
  alias: ATTACH_INTERFACES_ALIAS,
  name: 'AttachInterfaces',
  description: 'Attach and detach the interfaces (ports) of a running server.',
  version: 1,
  core: false,
  history: [{ version: 1, change: 'Havana v3 os-attach-interfaces' }],
  routes: [
    route({
      method: 'get',
      path: SERVER_INTERFACES,
      summary: "List a server's interfaces",
      responses: { 200: 'interface_attachments: port_state, fixed_ips, port_id, net_id, mac_addr' },
      handler: async (c) => {
        const { ports } = await listInterfaces(c, c.req.param('server_id') ?? '');
        return c.json({ interface_attachments: ports.map(attachmentView) });
      },
    }),
    route({
      method: 'post',
      path: SERVER_INTERFACES,
      summary: 'Attach an interface (a new port on a network, or an existing port) to a server',
      body: v.strictObject({ interface_attachment: InterfaceAttachment }),
      responses: { 200: 'interface_attachment (port_state DOWN until the host plugged it)' },
      handler: async (c, { body }) => {
        const port = await attachInterface(c, c.req.param('server_id') ?? '', body.interface_attachment);
        return c.json({ interface_attachment: attachmentView(port) });
      },
    }),
    route({
      method: 'get',
      path: `${SERVER_INTERFACES}/:port_id`,
      summary: 'Show one interface of a server',
      responses: { 200: 'interface_attachment' },
      handler: async (c) => {
        const { port } = await showInterface(c, c.req.param('server_id') ?? '', c.req.param('port_id') ?? '');
        return c.json({ interface_attachment: attachmentView(port) });
      },
    }),
    route({
      method: 'delete',
      path: `${SERVER_INTERFACES}/:port_id`,
      summary: 'Detach an interface from a server',
      responses: { 202: 'detach started' },
      handler: async (c) => {
        await detachInterface(c, c.req.param('server_id') ?? '', c.req.param('port_id') ?? '');
        return c.body(null, 202);
      },
    }),
  ],
});
