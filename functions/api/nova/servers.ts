import { StartExecutionCommand, StopExecutionCommand } from '@aws-sdk/client-sfn';
import { and, desc, eq, inArray, type SQL } from 'drizzle-orm';
import type { Context } from 'hono';
import * as v from 'valibot';
import { eqIfGiven } from '../../../schema/conditions.ts';
import type { PrimaryDb } from '../../../schema/db.ts';
import { computeNodes, instanceFaults, instances } from '../../../schema/tables/index.ts';
import { flavorSnapshot } from '../../compute/flavor-snapshot.ts';
import { startAction } from '../../compute/instance-actions.ts';
import { failInstance } from '../../compute/instance-faults.ts';
import { transitionInstance } from '../../compute/instance-states.ts';
import { checkMetadataQuota } from '../../compute/quotas.ts';
import { loadNetworkInfos } from '../../network/instance-cache.ts';
import { hintProblems, loadActivePolicies } from '../../scheduler/policies.ts';
import { stateMachineArn } from '../../shared/aws.ts';
import { randomPassword } from '../../shared/encoding.ts';
import { BadRequest, Conflict, NotFound, OverQuota, ServiceUnavailable } from '../../shared/errors.ts';
import type { AppEnv, Caller } from '../context.ts';
import { resourceLinks } from '../links.ts';
import { requestedVersion } from '../middleware/extension-versions.ts';
import { authorize } from '../policy.ts';
import { route } from '../route.ts';
import { defineExtension, type Extension } from './extension.ts';
import { findVisibleFlavor } from './flavors.ts';
import { MULTIPLE_CREATE_ALIAS } from './os-multiple-create.ts';
import { SCHEDULER_HINTS_ALIAS } from './os-scheduler-hints.ts';
import { serverActionRoute } from './server-actions.ts';
import {
  CREATE_OPTION_FIELDS,
  checkImage,
  checkKeyName,
  Description,
  defaultHostname,
  Fqdn,
  insertWithinQuota,
  requestedCounts,
  Tags,
  TrustedCertificates,
  takesLaterAttributes,
} from './server-create-options.ts';
import {
  afterMarker,
  LIST_FILTER_FIELDS,
  listFilterConditions,
  orderBy,
  sortTerms,
  VERSION_3_LIST_FIELDS,
} from './server-filters.ts';
import { requireUnlocked } from './server-lock.ts';
import { checkRequestedNetworks, Networks, usesLaterNetworkForms } from './server-networks.ts';
import { serverDetail } from './server-view.ts';

// image_ref is a uuid or an href whose last path segment is one (Havana v3).
const ImageRef = v.pipe(
  v.string(),
  v.transform((ref) => ref.split('/').pop() ?? ''),
  v.uuid('image_ref must be an image uuid or an href ending in one'),
);

const CreateServer = v.object({
  server: v.object({
    name: v.pipe(v.string(), v.trim(), v.minLength(1, 'name must not be empty'), v.maxLength(255)),
    image_ref: ImageRef,
    flavor_ref: v.pipe(
      v.string(),
      v.transform((ref) => ref.split('/').pop() ?? ''),
      v.minLength(1, 'flavor_ref must name a flavor'),
    ),
    availability_zone: v.optional(v.pipe(v.string(), v.minLength(1), v.maxLength(255))),
    'os-availability-zone:availability_zone': v.optional(
      v.pipe(v.string(), v.minLength(1), v.maxLength(255)),
    ),
    // How many items is the project's metadata_items quota's to decide (413), not the schema's.
    metadata: v.optional(
      v.record(v.pipe(v.string(), v.minLength(1), v.maxLength(255)), v.pipe(v.string(), v.maxLength(255))),
      {},
    ),
    ...CREATE_OPTION_FIELDS,
    // What the server is plugged into; checked against the network API below (server-networks.ts).
    networks: v.optional(Networks),
    // Checked against the active scheduling policies below (functions/scheduler/policies.ts).
    'os-scheduler-hints:scheduler_hints': v.optional(
      v.record(v.pipe(v.string(), v.minLength(1), v.maxLength(255)), v.unknown()),
      {},
    ),
    // Version 3: what Nova's later microversions let a create say (a pinned older version ignores it).
    description: v.optional(Description),
    hostname: v.optional(Fqdn),
    tags: v.optional(Tags),
    trusted_image_certificates: v.optional(TrustedCertificates),
    host: v.optional(Fqdn),
    hypervisor_hostname: v.optional(Fqdn),
  }),
});

const UpdateServer = v.object({
  server: v.object({
    name: v.optional(
      v.pipe(v.string(), v.trim(), v.minLength(1, 'name must not be empty'), v.maxLength(255)),
    ),
    // Version 3.
    description: v.optional(Description),
    hostname: v.optional(Fqdn),
    pinned_availability_zone: v.optional(v.nullable(v.pipe(v.string(), v.minLength(1), v.maxLength(255)))),
  }),
});

const ListQuery = v.object({
  limit: v.optional(v.pipe(v.string(), v.toNumber(), v.integer(), v.minValue(1), v.maxValue(1000))),
  marker: v.optional(v.pipe(v.string(), v.uuid('marker must be a server id'))),
  all_tenants: v.optional(v.picklist(['0', '1', 'true', 'false', 'True', 'False'])),
  ...LIST_FILTER_FIELDS,
});

const DEFAULT_PAGE_SIZE = 1000;

/** Members only ever see their own project: another project's server is simply not found. */
function projectScope(caller: Caller, allTenants: boolean): SQL | undefined {
  return caller.isAdmin && allTenants ? undefined : eq(instances.project_id, caller.projectId);
}

async function findInstance(db: Pick<PrimaryDb, 'select'>, caller: Caller, uuid: string) {
  const [instance] = await db
    .select()
    .from(instances)
    .where(and(eq(instances.uuid, uuid), eq(instances.deleted, 0), projectScope(caller, caller.isAdmin)));
  return instance;
}

async function latestFaults(db: Pick<PrimaryDb, 'select'>, uuids: string[]) {
  if (uuids.length === 0) return new Map<string, typeof instanceFaults.$inferSelect>();
  const rows = await db
    .select()
    .from(instanceFaults)
    .where(and(inArray(instanceFaults.instance_uuid, uuids), eq(instanceFaults.deleted, 0)))
    .orderBy(desc(instanceFaults.created_at), desc(instanceFaults.id));
  const latest = new Map<string, typeof instanceFaults.$inferSelect>();
  for (const row of rows) if (!latest.has(row.instance_uuid)) latest.set(row.instance_uuid, row);
  return latest;
}

async function listInstances(c: Context<AppEnv>, requested: v.InferOutput<typeof ListQuery>) {
  authorize(c.var.caller, 'compute:get_all');
  const query = { ...requested };
  const later = takesLaterAttributes(c);
  if (!later) for (const field of VERSION_3_LIST_FIELDS) delete query[field];
  const allTenants = query.all_tenants !== undefined && ['1', 'true', 'True'].includes(query.all_tenants);
  if (allTenants) authorize(c.var.caller, 'compute:get_all_tenants');
  const scope = projectScope(c.var.caller, allTenants);
  const order = sortTerms(c.var.caller, query);
  let after: SQL | undefined;
  if (query.marker) {
    const [marker] = await c.var.db
      .select()
      .from(instances)
      .where(and(eq(instances.uuid, query.marker), scope));
    if (!marker) throw new BadRequest(`marker [${query.marker}] not found`);
    after = afterMarker(order, marker);
  }
  return c.var.db
    .select()
    .from(instances)
    .where(and(listFilterConditions(c.var.caller, query, later), scope, after))
    .orderBy(...orderBy(order))
    .limit(query.limit ?? DEFAULT_PAGE_SIZE);
}

async function createServer(c: Context<AppEnv>, { server }: v.InferOutput<typeof CreateServer>) {
  const caller = c.var.caller;
  authorize(caller, 'compute:create');
  const db = c.var.db.$primary;
  // The flavors a caller may boot are the ones GET /v3/flavors shows it: a private flavor its project
  // has no access to does not exist for it.
  const flavor = await findVisibleFlavor(db, caller, server.flavor_ref).catch((error: unknown) => {
    if (error instanceof NotFound) {
      throw new BadRequest(`Invalid flavor_ref provided: flavor ${server.flavor_ref} could not be found`);
    }
    throw error;
  });
  if (flavor.disabled) throw new BadRequest(`Flavor ${server.flavor_ref} is disabled`);
  const availabilityZone =
    server['os-availability-zone:availability_zone'] ?? server.availability_zone ?? null;
  if (availabilityZone !== null) {
    const [zone] = await db
      .select({ id: computeNodes.id })
      .from(computeNodes)
      .where(and(eq(computeNodes.availability_zone, availabilityZone), eq(computeNodes.deleted, 0)))
      .limit(1);
    if (!zone) throw new BadRequest(`The requested availability zone '${availabilityZone}' is not available`);
  }

  // A disabled extension's create attributes are ignored, as Havana ignored an unloaded extension's.
  const enabled = (alias: string) => c.var.extensions.some((extension) => extension.alias === alias);
  const hints = enabled(SCHEDULER_HINTS_ALIAS) ? server['os-scheduler-hints:scheduler_hints'] : {};
  if (Object.keys(hints).length > 0) {
    const problems = hintProblems(await loadActivePolicies(db), hints);
    if (problems.length > 0) throw new BadRequest(problems.join('; '));
  }

  await checkImage(db, caller, server.image_ref, flavor);
  if (server.key_name !== undefined) await checkKeyName(db, caller, server.key_name);
  const multipleCreate = enabled(MULTIPLE_CREATE_ALIAS);
  const counts = multipleCreate ? requestedCounts(server) : { min: 1, max: 1 };
  const later: Partial<typeof server> = takesLaterAttributes(c) ? server : {};
  if (later.hostname !== undefined && counts.max > 1) {
    throw new BadRequest('Unable to allocate a single hostname to multiple instances');
  }
  if (later.host !== undefined || later.hypervisor_hostname !== undefined) {
    await checkRequestedDestination(db, caller, later.host, later.hypervisor_hostname);
  }
  if (usesLaterNetworkForms(server.networks) && requestedVersion(c, serversExtension) < 4) {
    throw new BadRequest(
      'networks may be "auto", "none" or carry tags from version 4 of the servers extension',
    );
  }
  const requestedNetworks = await checkRequestedNetworks(
    db,
    c.var.config,
    caller,
    server.networks,
    counts.max,
  );
  const snapshot = flavorSnapshot(flavor);
  const reservationId = `r-${crypto.randomUUID().slice(0, 8)}`;
  const now = new Date();
  let rows: Awaited<ReturnType<typeof insertWithinQuota>>;
  try {
    await checkMetadataQuota(db, caller.projectId, Object.keys(server.metadata).length);
    rows = await insertWithinQuota(
      db,
      caller,
      snapshot,
      counts,
      (index, count) => {
        const uuid = crypto.randomUUID();
        // Several servers from one request are told apart by their position (Havana: name-N), and so
        // are the hostnames made from their name (Nova).
        const suffix = count > 1 ? `-${index + 1}` : '';
        return {
          uuid,
          project_id: caller.projectId,
          user_id: caller.userId,
          display_name: `${server.name}${suffix}`,
          description: later.description ?? null,
          hostname: later.hostname ?? defaultHostname(server.name, uuid, suffix),
          image_ref: server.image_ref,
          flavor: snapshot,
          vm_state: 'building',
          task_state: 'scheduling',
          availability_zone: availabilityZone,
          // The zone stays the server's for its moves (boot.schedule keeps it); a view shows it pinned
          // from the start.
          requested_availability_zone: availabilityZone,
          trusted_image_certificates: later.trusted_image_certificates ?? null,
          requested_host: later.host ?? null,
          requested_node: later.hypervisor_hostname ?? null,
          metadata: server.metadata,
          key_name: server.key_name ?? null,
          user_data: server['os-user-data:user_data'] ?? null,
          scheduler_hints: hints,
          reservation_id: reservationId,
          created_at: now,
          updated_at: now,
        };
      },
      later.tags,
    );
  } catch (error) {
    // Havana's quota refusal tells clients a retry may succeed once something is deleted.
    if (error instanceof OverQuota) c.header('Retry-After', '0');
    throw error;
  }
  let notStarted: Error | undefined;
  for (const { uuid } of rows) {
    await startAction(db, {
      action: 'create',
      instance_uuid: uuid,
      request_id: c.var.requestId,
      project_id: caller.projectId,
      user_id: caller.userId,
    });
    try {
      const execution = await c.var.sfn.send(
        new StartExecutionCommand({
          stateMachineArn: stateMachineArn(c.var.config, 'boot-server'),
          name: `boot-${uuid}`,
          input: JSON.stringify({ instance_uuid: uuid, requested_networks: requestedNetworks }),
        }),
      );
      await db
        .update(instances)
        .set({ execution_arn: execution.executionArn })
        .where(eq(instances.uuid, uuid));
    } catch (error) {
      // The row exists but no workflow will ever act on it: say so on the server itself. It keeps
      // its quota until deleted, like any server in ERROR.
      await failInstance(db, uuid, 'build_failed', {
        code: 503,
        message: 'The boot workflow could not be started',
      });
      notStarted = error as Error;
    }
  }
  if (notStarted) {
    throw new ServiceUnavailable(`The boot workflow could not be started: ${notStarted.message}`);
  }
  if (multipleCreate && server['os-multiple-create:return_reservation_id']) {
    return c.json({ servers_reservation: { reservation_id: reservationId } }, 202);
  }
  const uuid = rows[0]?.uuid ?? '';
  const links = resourceLinks(c, 'servers', uuid);
  c.header('Location', links[0]?.href ?? '');
  // The fake and real drivers alike get the password through the (future) guest agent; the API only
  // reports it. Version 1 used Havana's `admin_pass`, version 2 Icehouse's `admin_password`.
  const password = randomPassword();
  const passwordKey = requestedVersion(c, serversExtension) >= 2 ? 'admin_password' : 'admin_pass';
  return c.json({ server: { id: uuid, links, [passwordKey]: password } }, 202);
}

/**
 * A create may name the compute host and node to boot on: only callers who see where servers run,
 * and only a host (and node) that exists (Nova's requested destination, 2.74).
 */
async function checkRequestedDestination(
  db: Pick<PrimaryDb, 'select'>,
  caller: Caller,
  host: string | undefined,
  node: string | undefined,
): Promise<void> {
  authorize(caller, 'compute:extended_server_attributes');
  const [found] = await db
    .select({ id: computeNodes.id })
    .from(computeNodes)
    .where(
      and(
        eqIfGiven(computeNodes.host, host),
        eqIfGiven(computeNodes.hypervisor_hostname, node),
        eq(computeNodes.deleted, 0),
      ),
    )
    .limit(1);
  if (!found) throw new BadRequest(`Compute host ${host ?? node} could not be found.`);
}

/**
 * The zone a server is pinned to once an update asks for `requested` (Nova's 2.104): null unpins; a
 * server may be pinned only to the zone it is in, and a pinned one only re-pinned to its own zone.
 */
function pinnedZone(instance: typeof instances.$inferSelect, requested: string | null): string | null {
  const pinned = instance.requested_availability_zone;
  if (requested === null || requested === pinned) return requested;
  if (pinned !== null) {
    throw new Conflict(
      'Cannot change pinned availability zone directly. Unpin first by setting pinned_availability_zone to null.',
    );
  }
  const current = instance.availability_zone;
  if (requested !== current) {
    throw new Conflict(
      `Server can only be pinned to its current availability zone '${current}', but '${requested}' was requested.`,
    );
  }
  return requested;
}

async function deleteServer(c: Context<AppEnv>, uuid: string) {
  authorize(c.var.caller, 'compute:delete');
  const db = c.var.db.$primary;
  const instance = await findInstance(db, c.var.caller, uuid);
  if (!instance) throw new NotFound(`Instance ${uuid} could not be found.`);
  requireUnlocked(c.var.caller, instance);
  await transitionInstance(db, uuid, 'delete_requested');
  await startAction(db, {
    action: 'delete',
    instance_uuid: uuid,
    request_id: c.var.requestId,
    project_id: c.var.caller.projectId,
    user_id: c.var.caller.userId,
  });
  if (instance.execution_arn && instance.vm_state === 'building') {
    // The boot would race the delete; its own failure path releases anything it claimed.
    await c.var.sfn
      .send(
        new StopExecutionCommand({
          executionArn: instance.execution_arn,
          error: 'Deleted',
          cause: 'server deleted',
        }),
      )
      .catch(() => undefined);
  }
  const execution = await c.var.sfn.send(
    new StartExecutionCommand({
      stateMachineArn: stateMachineArn(c.var.config, 'delete-server'),
      name: `delete-${uuid}-${Date.now()}`,
      input: JSON.stringify({ instance_uuid: uuid }),
    }),
  );
  await db.update(instances).set({ execution_arn: execution.executionArn }).where(eq(instances.uuid, uuid));
  return c.body(null, 204);
}

export const serversExtension: Extension = defineExtension({
  alias: 'servers',
  name: 'Servers',
  description: 'Servers.',
  version: 4,
  core: true,
  history: [
    { version: 1, change: 'Havana v3: create answers admin_pass' },
    { version: 2, change: 'create answers admin_password (the Icehouse name) instead of admin_pass' },
    {
      version: 3,
      change:
        "Nova's later server attributes, written here and shown by the /v2.1 face: create takes description, hostname, tags, trusted_image_certificates and (admins) the host and hypervisor_hostname to boot on; update description, hostname and pinned_availability_zone; rebuild description, hostname, key_name, user_data and trusted_image_certificates; the list filters by tags, tags-any, not-tags, not-tags-any, changes-before, locked, hostname, key_name, config_drive, created_at, launched_at, terminated_at, power_state and progress, lets members filter their own servers by vm_state, task_state, availability_zone and user_id, and sorts by sort_key/sort_dir",
    },
    {
      version: 4,
      change:
        'create takes networks as "auto" (every network the project can use, as no networks does) or "none" (no network), and network items may carry a tag (Nova 2.32/2.37/2.42); the server view\'s addresses come from the instance network cache',
    },
  ],
  routes: [
    route({
      method: 'post',
      path: '/v3/servers',
      summary: 'Create (boot) a server',
      body: CreateServer,
      responses: { 202: 'server: id, links, admin_password (admin_pass in version 1)' },
      handler: (c, { body }) => createServer(c, body),
    }),
    route({
      method: 'get',
      path: '/v3/servers',
      summary: 'List servers',
      query: ListQuery,
      responses: { 200: 'servers: id, name, links' },
      handler: async (c, { query }) => {
        const rows = await listInstances(c, query);
        return c.json({
          servers: rows.map((row) => ({
            id: row.uuid,
            name: row.display_name,
            links: resourceLinks(c, 'servers', row.uuid),
          })),
        });
      },
    }),
    route({
      method: 'get',
      path: '/v3/servers/detail',
      summary: 'List servers with details',
      query: ListQuery,
      responses: { 200: 'servers with the full server view' },
      handler: async (c, { query }) => {
        const rows = await listInstances(c, query);
        const [faults, networks] = await Promise.all([
          latestFaults(
            c.var.db,
            rows.filter((row) => row.vm_state === 'error').map((row) => row.uuid),
          ),
          loadNetworkInfos(
            c.var.db,
            rows.map((row) => row.uuid),
          ),
        ]);
        return c.json({
          servers: await Promise.all(
            rows.map((row) => serverDetail(c, row, faults.get(row.uuid), networks.get(row.uuid) ?? [])),
          ),
        });
      },
    }),
    route({
      method: 'get',
      path: '/v3/servers/:server_id',
      summary: 'Show a server',
      responses: { 200: 'server' },
      handler: async (c) => {
        authorize(c.var.caller, 'compute:get');
        const uuid = c.req.param('server_id') ?? '';
        const instance = await findInstance(c.var.db, c.var.caller, uuid);
        if (!instance) throw new NotFound(`Instance ${uuid} could not be found.`);
        const faults = instance.vm_state === 'error' ? await latestFaults(c.var.db, [uuid]) : new Map();
        return c.json({ server: await serverDetail(c, instance, faults.get(uuid)) });
      },
    }),
    route({
      method: 'put',
      path: '/v3/servers/:server_id',
      summary: 'Update a server (name)',
      body: UpdateServer,
      responses: { 200: 'server' },
      handler: async (c, { body }) => {
        authorize(c.var.caller, 'compute:update');
        const uuid = c.req.param('server_id') ?? '';
        const db = c.var.db.$primary;
        const instance = await findInstance(db, c.var.caller, uuid);
        if (!instance) throw new NotFound(`Instance ${uuid} could not be found.`);
        const { name, description, hostname, pinned_availability_zone: pin } = body.server;
        const later = takesLaterAttributes(c);
        const changes = {
          ...(name === undefined ? {} : { display_name: name }),
          ...(later && description !== undefined ? { description } : {}),
          ...(later && hostname !== undefined ? { hostname } : {}),
          ...(later && pin !== undefined ? { requested_availability_zone: pinnedZone(instance, pin) } : {}),
        };
        if (Object.keys(changes).length > 0) {
          await db
            .update(instances)
            .set({ ...changes, updated_at: new Date() })
            .where(and(eq(instances.uuid, uuid), eq(instances.deleted, 0)));
        }
        const updated = await findInstance(db, c.var.caller, uuid);
        if (!updated) throw new NotFound(`Instance ${uuid} could not be found.`);
        const faults = updated.vm_state === 'error' ? await latestFaults(db, [uuid]) : new Map();
        return c.json({ server: await serverDetail(c, updated, faults.get(uuid)) });
      },
    }),
    serverActionRoute,
    route({
      method: 'delete',
      path: '/v3/servers/:server_id',
      summary: 'Delete a server',
      responses: { 204: 'deletion started' },
      handler: (c) => deleteServer(c, c.req.param('server_id') ?? ''),
    }),
  ],
});
