import type { Context } from 'hono';
import * as v from 'valibot';
import { BadRequest, NotFound } from '../../shared/errors.ts';
import type { AppEnv } from '../context.ts';
import { parseOrBadRequest } from '../middleware/validate.ts';
import { serversExtension } from '../nova/servers.ts';
import { route } from '../route.ts';
import { defineFace, translatedRoute, v3Route } from './face.ts';
import { atLeast, requireMicroversion } from './microversion.ts';
import { ADMIN_V21_ACTIONS } from './os-admin-actions.ts';
import { EVACUATE_V21_ACTIONS } from './os-evacuate.ts';
import type { V21Action } from './server-action-kit.ts';
import { SERVER_CORE_V21_ACTIONS } from './server-core-actions.ts';
import { createServer } from './server-create.ts';
import { AccessIp, DiskConfig, ServerName } from './server-fields.ts';
import { callV3 } from './server-v3-call.ts';
import { serverViews, type V3Server } from './server-view.ts';

// The servers collection under v2.1's names (clients-and-microversions.md §4), served by the v3
// servers extension's handlers: create (server-create.ts), list, show, update, delete and the actions.
const SERVERS = '/v3/servers';
const V3_LIST = v3Route(serversExtension, 'get', SERVERS);
const V3_DETAIL = v3Route(serversExtension, 'get', `${SERVERS}/detail`);
const V3_SHOW = v3Route(serversExtension, 'get', `${SERVERS}/:server_id`);
const V3_UPDATE = v3Route(serversExtension, 'put', `${SERVERS}/:server_id`);

/** The page size when a list names none: v3's, and Nova's max_limit. */
const MAX_PAGE = 1000;

/** Every status Nova knows; from 2.38 filtering on any other is a 400. */
const NOVA_STATUSES = new Set(
  [
    'ACTIVE BUILD DELETED ERROR HARD_REBOOT MIGRATING PASSWORD PAUSED REBOOT REBUILD RESCUE RESIZE',
    'REVERT_RESIZE SHELVED SHELVED_OFFLOADED SHUTOFF SOFT_DELETED SUSPENDED UNKNOWN VERIFY_RESIZE',
  ]
    .join(' ')
    .split(' '),
);

/**
 * The list parameters Nova knows (its query schema up to 2.73). Before 2.75 others are ignored, as
 * are known filters this cloud has no data for (tags, description); from 2.75 others are a 400.
 */
const NOVA_LIST_PARAMETERS = new Set(
  [
    'user_id project_id tenant_id launch_index image_ref image kernel_id ramdisk_id hostname key_name',
    'power_state vm_state task_state host node flavor reservation_id launched_at terminated_at',
    'availability_zone name display_name description display_description locked_by uuid',
    'root_device_name config_drive access_ip_v4 access_ip_v6 auto_disk_config progress sort_key',
    'sort_dir all_tenants soft_deleted deleted status changes-since ip ip6 created_at limit marker',
    'tags tags-any not-tags not-tags-any changes-before locked',
  ]
    .join(' ')
    .split(' '),
);

/** v2.1's list query in v3's names (v3 ignores, as Nova before 2.75 does, what it does not know). */
function v3ListQuery(c: Context<AppEnv>): Record<string, string> {
  const raw = c.req.query();
  if (atLeast(c, 75)) {
    const unknown = Object.keys(raw).filter((key) => !NOVA_LIST_PARAMETERS.has(key));
    if (unknown.length > 0) throw new BadRequest(`Invalid input for query parameters ${unknown.join(', ')}.`);
  }
  // The v3 list has no upper bound on changes: refused rather than ignored, since ignoring it would
  // list servers changed after the bound as if they matched.
  if (atLeast(c, 66) && raw['changes-before'] !== undefined) {
    throw new BadRequest('changes-before is not supported by this server list');
  }
  const { project_id: projectId, deleted, ip6: _ip6, ...query } = raw;
  if (projectId !== undefined) query.tenant_id ??= projectId;
  if (query.all_tenants === '') query.all_tenants = '1';
  if (query.limit !== undefined && /^\d+$/.test(query.limit) && Number(query.limit) > MAX_PAGE) {
    query.limit = String(MAX_PAGE);
  }
  if (query.status !== undefined && atLeast(c, 38) && !NOVA_STATUSES.has(query.status.toUpperCase())) {
    throw new BadRequest(`Invalid status value: ${query.status}`);
  }
  // An admin's deleted=true lists deleted servers, which v3 lists only among the changes since a time.
  if (c.var.caller.isAdmin && deleted !== undefined && ['true', '1', 'yes'].includes(deleted.toLowerCase())) {
    query.status = 'DELETED';
    query['changes-since'] ??= new Date(0).toISOString();
  }
  return query;
}

/**
 * Whether the list asks for servers by address. No server has an address (there is no networking
 * service yet), so such a list is empty. Before 2.5 a member's ip6 filter is dropped, as Nova does.
 */
function filtersByAddress(c: Context<AppEnv>): boolean {
  return (
    c.req.query('ip') !== undefined ||
    (c.req.query('ip6') !== undefined && (c.var.caller.isAdmin || atLeast(c, 5)))
  );
}

/** `servers_links` with the next page's href when this page is full. */
function pageLinks(c: Context<AppEnv>, servers: Array<{ id: string }>) {
  const requested = Number(c.req.query('limit'));
  const limit = Number.isInteger(requested) && requested > 0 ? Math.min(requested, MAX_PAGE) : MAX_PAGE;
  const last = servers.at(-1);
  if (!last || servers.length < limit) return {};
  const next = new URL(c.req.url);
  next.searchParams.set('marker', last.id);
  return { servers_links: [{ rel: 'next', href: next.toString() }] };
}

async function listServers<T extends { id: string }>(c: Context<AppEnv>, detail: boolean): Promise<T[]> {
  const { body } = await callV3<{ servers: T[] }>(c, detail ? V3_DETAIL : V3_LIST, { query: v3ListQuery(c) });
  return filtersByAddress(c) ? [] : body.servers;
}

async function singleView(c: Context<AppEnv>, server: V3Server, primary: boolean) {
  const [view] = await serverViews(c, [server], {
    db: primary ? c.var.db.$primary : c.var.db,
    single: true,
  });
  if (!view) throw new NotFound(`Instance ${server.id} could not be found.`);
  return view;
}

const UpdateServer = v.strictObject({
  server: v.strictObject({
    name: v.optional(ServerName),
    accessIPv4: v.optional(AccessIp),
    accessIPv6: v.optional(AccessIp),
    'OS-DCF:diskConfig': v.optional(DiskConfig),
  }),
});

const V21_ACTIONS: ReadonlyMap<string, V21Action> = new Map(
  [...SERVER_CORE_V21_ACTIONS, ...ADMIN_V21_ACTIONS, ...EVACUATE_V21_ACTIONS].map((action) => [
    action.name,
    action,
  ]),
);

const ActionEnvelope = v.pipe(
  v.record(v.string(), v.unknown(), 'Malformed request body: expected an object naming one action'),
  v.check(
    (body) => Object.keys(body).length === 1,
    'Malformed request body: expected exactly one action, e.g. {"reboot": {"type": "SOFT"}}',
  ),
);

export const serversFace = defineFace({
  alias: 'servers',
  routes: [
    route({
      method: 'post',
      path: '/v2.1/servers',
      summary: 'Create (boot) a server',
      // Validated by the request's microversion in server-create.ts.
      body: v.unknown(),
      responses: {
        202: 'server: id, links, OS-DCF:diskConfig, security_groups, adminPass; or reservation_id',
      },
      handler: (c, { body }) => createServer(c, body),
    }),
    route({
      method: 'get',
      path: '/v2.1/servers',
      summary: 'List servers',
      responses: { 200: 'servers: [{id, name, links}], servers_links when the page is full' },
      handler: async (c) => {
        const servers = await listServers<{ id: string }>(c, false);
        return c.json({ servers, ...pageLinks(c, servers) });
      },
    }),
    route({
      method: 'get',
      path: '/v2.1/servers/detail',
      summary: 'List servers with details',
      responses: { 200: 'servers with the v2.1 server view, servers_links when the page is full' },
      handler: async (c) => {
        const servers = await listServers<V3Server>(c, true);
        return c.json({
          servers: await serverViews(c, servers, { db: c.var.db, single: false }),
          ...pageLinks(c, servers),
        });
      },
    }),
    route({
      method: 'get',
      path: '/v2.1/servers/:server_id',
      summary: 'Show a server',
      responses: { 200: 'server' },
      handler: async (c) => {
        const { body } = await callV3<{ server: V3Server }>(c, V3_SHOW);
        return c.json({ server: await singleView(c, body.server, false) });
      },
    }),
    route({
      method: 'put',
      path: '/v2.1/servers/:server_id',
      summary: 'Update a server (name)',
      body: UpdateServer,
      responses: { 200: 'server' },
      handler: async (c, { body }) => {
        const { body: updated } = await callV3<{ server: V3Server }>(c, V3_UPDATE, {
          body: { server: { name: body.server.name } },
        });
        return c.json({ server: await singleView(c, updated.server, true) });
      },
    }),
    translatedRoute({
      method: 'delete',
      path: '/v2.1/servers/:server_id',
      summary: 'Delete a server',
      target: v3Route(serversExtension, 'delete', `${SERVERS}/:server_id`),
      responses: { 204: 'deletion started' },
    }),
    route({
      method: 'post',
      path: '/v2.1/servers/:server_id/action',
      summary:
        'Run a server action (os-start, os-stop, reboot, resize, migrate, os-migrateLive, evacuate, ...)',
      body: ActionEnvelope,
      responses: {
        200: 'evacuate: adminPass (before 2.14)',
        202: 'action accepted (rebuild: the server)',
        204: 'confirmResize done',
      },
      handler: async (c, { body }) => {
        const [name = ''] = Object.keys(body);
        const action = V21_ACTIONS.get(name);
        if (!action) throw new BadRequest(`There is no such action: ${name}`);
        if (action.since) requireMicroversion(c, action.since);
        const value = parseOrBadRequest(v.object({ [name]: action.body(c) }), body)[name];
        return action.run(c, value);
      },
    }),
  ],
  microversions: [
    {
      minor: 3,
      change:
        'OS-EXT-SRV-ATTR: reservation_id, launch_index, hostname, kernel_id and ramdisk_id (""), root_device_name (null), user_data; volumes_attached stays [] (no volumes)',
      routes: ['/v2.1/servers/detail', '/v2.1/servers/{server_id}'],
    },
    {
      minor: 5,
      change: "a member's ip6 filter is honoured (no server has an address yet, so it matches none)",
      routes: ['/v2.1/servers', '/v2.1/servers/detail'],
    },
    {
      minor: 9,
      change: 'locked in show, list detail, update and rebuild',
      routes: ['/v2.1/servers/detail', '/v2.1/servers/{server_id}', '/v2.1/servers/{server_id}/action'],
    },
    {
      minor: 16,
      change:
        'host_status (UP, DOWN, MAINTENANCE, UNKNOWN, "") for callers allowed to see hosts, from the compute service',
      routes: ['/v2.1/servers/detail', '/v2.1/servers/{server_id}', '/v2.1/servers/{server_id}/action'],
    },
    {
      minor: 17,
      change:
        'trigger_crash_dump: checked like Nova (lock, state), then 400 as for a hypervisor without NMI support (the fake driver has none)',
      routes: ['/v2.1/servers/{server_id}/action'],
    },
    {
      minor: 32,
      change:
        'networks items may carry a tag (a list naming networks is still refused: no networking service)',
      routes: ['/v2.1/servers'],
    },
    {
      minor: 37,
      change:
        'networks is required: [], "auto" or "none" (nothing to allocate); item uuids must be uuids; no tag',
      routes: ['/v2.1/servers'],
    },
    {
      minor: 38,
      change: 'a status filter Nova does not know is a 400',
      routes: ['/v2.1/servers', '/v2.1/servers/detail'],
    },
    {
      minor: 42,
      change: 'networks items may carry a tag again',
      routes: ['/v2.1/servers'],
    },
    {
      minor: 47,
      change:
        "the server's flavor embedded (vcpus, ram, disk, ephemeral, swap, original_name; extra_specs for callers allowed to read them)",
      routes: ['/v2.1/servers/detail', '/v2.1/servers/{server_id}', '/v2.1/servers/{server_id}/action'],
    },
    {
      minor: 71,
      change: 'server_groups ([]: there are no server groups) in show, update and rebuild',
      routes: ['/v2.1/servers/{server_id}', '/v2.1/servers/{server_id}/action'],
    },
    {
      minor: 75,
      change:
        'a list parameter Nova does not know is a 400 (bodies were strict from 2.1; update and rebuild always answer the full view)',
      routes: ['/v2.1/servers', '/v2.1/servers/detail'],
    },
  ],
});
