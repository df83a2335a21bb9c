import type { Context } from 'hono';
import * as v from 'valibot';
import { BadRequest, NotFound } from '../../shared/errors.ts';
import type { AppEnv } from '../context.ts';
import { parseOrBadRequest } from '../middleware/validate.ts';
import { Description } from '../nova/server-create-options.ts';
import { SORT_KEY_NAMES } from '../nova/server-filters.ts';
import { serversExtension } from '../nova/servers.ts';
import { route } from '../route.ts';
import { defineFace, translatedRoute, v3Route } from './face.ts';
import { atLeast, requireMicroversion } from './microversion.ts';
import { ADMIN_V21_ACTIONS } from './os-admin-actions.ts';
import { EVACUATE_V21_ACTIONS } from './os-evacuate.ts';
import { FLOATING_IP_V21_ACTIONS } from './os-floating-ips.ts';
import { MAX_LIMIT, nextPageLinks, pageLimit } from './paging.ts';
import { strictQuery } from './query.ts';
import type { V21Action } from './server-action-kit.ts';
import { SERVER_CORE_V21_ACTIONS } from './server-core-actions.ts';
import { createServer } from './server-create.ts';
import { AccessIp, DiskConfig, hostnameSchema, NameOrNull, ServerName, since } from './server-fields.ts';
import { LOCK_REASON_V21_ACTIONS } from './server-lock-reason.ts';
import { SERVER_TAG_ROUTES } from './server-tags.ts';
import { SERVER_TOPOLOGY_ROUTE } from './server-topology.ts';
import { serverViews, type V3Server } from './server-view.ts';
import { callV3 } from './v3-call.ts';

// The servers collection under v2.1's names (clients-and-microversions.md §4), served by the v3
// servers extension's handlers: create (server-create.ts), list, show, update, delete and the actions.
const SERVERS = '/v3/servers';
const V3_LIST = v3Route(serversExtension, 'get', SERVERS);
const V3_DETAIL = v3Route(serversExtension, 'get', `${SERVERS}/detail`);
const V3_SHOW = v3Route(serversExtension, 'get', `${SERVERS}/:server_id`);
const V3_UPDATE = v3Route(serversExtension, 'put', `${SERVERS}/:server_id`);

const TAGS = '/v2.1/servers/{server_id}/tags';
const VIEW_ROUTES = ['/v2.1/servers/detail', '/v2.1/servers/{server_id}', '/v2.1/servers/{server_id}/action'];
const LIST_ROUTES = ['/v2.1/servers', '/v2.1/servers/detail'];

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
 * are known filters this cloud has no data for (kernel_id, root_device_name...); from 2.75 others are
 * a 400.
 */
const NOVA_LIST_PARAMETERS = [
  'user_id project_id tenant_id launch_index image_ref image kernel_id ramdisk_id hostname key_name',
  'power_state vm_state task_state host node flavor reservation_id launched_at terminated_at',
  'availability_zone name display_name description display_description locked_by uuid',
  'root_device_name config_drive access_ip_v4 access_ip_v6 auto_disk_config progress sort_key',
  'sort_dir all_tenants soft_deleted deleted status changes-since ip ip6 created_at limit marker',
  'tags tags-any not-tags not-tags-any changes-before locked',
]
  .join(' ')
  .split(' ');

const TAG_FILTERS = ['tags', 'tags-any', 'not-tags', 'not-tags-any'];

/** The filters a member may use at 2.`minor` (Nova's search options for non-admins); admins use any. */
function memberFilters(minor: number): Set<string> {
  return new Set([
    ...['reservation_id', 'name', 'status', 'image', 'flavor', 'ip', 'changes-since', 'all_tenants'],
    ...['limit', 'marker', 'sort_key', 'sort_dir'],
    ...(minor >= 5 ? ['ip6'] : []),
    ...(minor >= 26 ? TAG_FILTERS : []),
    ...(minor >= 66 ? ['changes-before'] : []),
    ...(minor >= 73 ? ['locked'] : []),
    ...(minor >= 83
      ? ['availability_zone', 'config_drive', 'key_name', 'created_at', 'launched_at', 'terminated_at']
      : []),
    ...(minor >= 83 ? ['power_state', 'task_state', 'vm_state', 'progress', 'user_id'] : []),
    ...(minor >= 90 ? ['hostname'] : []),
  ]);
}

/** The filters that do not exist before a microversion, for anyone. */
function filterExists(name: string, minor: number): boolean {
  if (TAG_FILTERS.includes(name)) return minor >= 26;
  if (name === 'changes-before') return minor >= 66;
  if (name === 'locked') return minor >= 73;
  return true;
}

/** Sort keys Nova accepts and ignores (`locked` sorts from 2.73); from 2.75 they are a 400. */
const IGNORED_SORT_KEYS = [
  'architecture cell_name cleaned default_ephemeral_device default_swap_device deleted deleted_at',
  'disable_terminate ephemeral_gb ephemeral_key_uuid id key_data launched_on locked memory_mb os_type',
  'reservation_id root_gb shutdown_terminate user_data vcpus vm_mode',
]
  .join(' ')
  .split(' ');

/**
 * Nova's sort keys without a column here: every server has the same access IPs, disk config, config
 * drive, kernel, ramdisk and root device name, and the flavor and launch index are not kept as columns.
 * Sorting by them keeps the order the other keys give.
 */
const UNSORTED_KEYS = [
  'access_ip_v4 access_ip_v6 auto_disk_config config_drive instance_type_id kernel_id launch_index',
  'ramdisk_id root_device_name',
]
  .join(' ')
  .split(' ');

/**
 * The list's order in v3's comma lists: the keys Nova ignores go with their direction (as Nova pops
 * them), each remaining key gets its direction (its own, the first one, or desc), and the keys with
 * nothing to sort by here are left out.
 */
function sortParameters(c: Context<AppEnv>): { sort_key?: string; sort_dir?: string } {
  const ignored = IGNORED_SORT_KEYS.filter((key) => key !== 'locked' || !atLeast(c, 73));
  const known = new Set([...SORT_KEY_NAMES, ...UNSORTED_KEYS, ...(atLeast(c, 75) ? [] : ignored)]);
  const keys = c.req.queries('sort_key') ?? [];
  const dirs = c.req.queries('sort_dir') ?? [];
  const unknown = keys.filter((key) => !known.has(key));
  if (unknown.length > 0)
    throw new BadRequest(`Invalid input for query parameters sort_key: ${unknown.join(', ')}`);
  for (let index = keys.length - 1; index >= 0; index--) {
    if (!ignored.includes(keys[index] ?? '')) continue;
    keys.splice(index, 1);
    if (dirs.length > index) dirs.splice(index, 1);
  }
  if (dirs.length > keys.length) throw new BadRequest('Sort direction size exceeds sort key size');
  const terms = keys
    .map((key, index) => ({ key, dir: dirs[index] ?? dirs[0] ?? 'desc' }))
    .filter(({ key }) => !UNSORTED_KEYS.includes(key));
  if (terms.length === 0) return {};
  return {
    sort_key: terms.map((term) => term.key).join(','),
    sort_dir: terms.map((term) => term.dir).join(','),
  };
}

/** v2.1's list query in v3's names (v3 ignores, as Nova before 2.75 does, what it does not know). */
function v3ListQuery(c: Context<AppEnv>): Record<string, string> {
  const raw = c.req.query();
  const minor = c.var.microversion;
  const allowed = c.var.caller.isAdmin ? undefined : memberFilters(minor);
  const { deleted, sort_key: _key, sort_dir: _dir, ...given } = raw;
  const query: Record<string, string> = Object.fromEntries(
    Object.entries(given).filter(([name]) => filterExists(name, minor) && (!allowed || allowed.has(name))),
  );
  // Nova's aliases, under v3's names.
  if (query.display_name !== undefined) query.name ??= query.display_name;
  if (query.display_description !== undefined) query.description ??= query.display_description;
  if (query.project_id !== undefined) query.tenant_id ??= query.project_id;
  Object.assign(query, sortParameters(c));
  if (query.all_tenants === '') query.all_tenants = '1';
  if (query.limit !== undefined && /^\d+$/.test(query.limit) && Number(query.limit) > MAX_LIMIT) {
    query.limit = String(MAX_LIMIT);
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

/** `servers_links` when this page is full; v3 has refused any limit but a whole number from 1. */
function pageLinks(c: Context<AppEnv>, servers: Array<{ id: string }>) {
  const limit = c.req.query('limit');
  return nextPageLinks(c, 'servers_links', {
    limit: pageLimit(limit === undefined ? undefined : Number(limit)),
    items: servers,
    markerOf: (server) => server.id,
  });
}

async function listServers<T extends { id: string }>(c: Context<AppEnv>, detail: boolean): Promise<T[]> {
  const { body } = await callV3<{ servers: T[] }>(c, detail ? V3_DETAIL : V3_LIST, { query: v3ListQuery(c) });
  return body.servers;
}

async function singleView(c: Context<AppEnv>, server: V3Server, primary: boolean) {
  const [view] = await serverViews(c, [server], {
    db: primary ? c.var.db.$primary : c.var.db,
    single: true,
  });
  if (!view) throw new NotFound(`Instance ${server.id} could not be found.`);
  return view;
}

function updateSchema(minor: number) {
  return v.strictObject({
    server: v.strictObject({
      name: v.optional(ServerName),
      accessIPv4: v.optional(AccessIp),
      accessIPv6: v.optional(AccessIp),
      'OS-DCF:diskConfig': v.optional(DiskConfig),
      description: since(19, minor, Description),
      hostname: since(90, minor, hostnameSchema(minor)),
      pinned_availability_zone: since(104, minor, NameOrNull),
    }),
  });
}

// The lock actions that keep a reason (2.73) stand in for os-admin-actions' own, which they run.
const V21_ACTIONS: ReadonlyMap<string, V21Action> = new Map(
  [
    ...SERVER_CORE_V21_ACTIONS,
    ...ADMIN_V21_ACTIONS,
    ...EVACUATE_V21_ACTIONS,
    ...LOCK_REASON_V21_ACTIONS,
    ...FLOATING_IP_V21_ACTIONS,
  ].map((action) => [action.name, action]),
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
    strictQuery(
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
      75,
      NOVA_LIST_PARAMETERS,
    ),
    strictQuery(
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
      75,
      NOVA_LIST_PARAMETERS,
    ),
    strictQuery(
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
      102,
    ),
    route({
      method: 'put',
      path: '/v2.1/servers/:server_id',
      summary: 'Update a server (name, description, hostname, pinned availability zone)',
      // Validated by the request's microversion.
      body: v.unknown(),
      responses: { 200: 'server' },
      handler: async (c, { body }) => {
        const { server } = parseOrBadRequest(updateSchema(c.var.microversion), body);
        const { body: updated } = await callV3<{ server: V3Server }>(c, V3_UPDATE, {
          body: {
            server: {
              name: server.name,
              description: server.description,
              hostname: server.hostname,
              pinned_availability_zone: server.pinned_availability_zone,
            },
          },
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
    ...SERVER_TAG_ROUTES.map((tagRoute) =>
      tagRoute.method === 'get' ? strictQuery(tagRoute, 102) : tagRoute,
    ),
    strictQuery(SERVER_TOPOLOGY_ROUTE, 102),
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
      change: "a member's ip6 filter is honoured (before it, a member's ip6 is dropped, as Nova drops it)",
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
      minor: 19,
      change:
        'description on create, update (PUT) and rebuild: up to 255 printable characters, null for none; shown in show, detail, update and rebuild (a server made before 2.19 is described by its name, as in Nova)',
      routes: ['/v2.1/servers', ...VIEW_ROUTES],
    },
    {
      minor: 26,
      change:
        'server tags: GET/PUT/DELETE /servers/{id}/tags and /servers/{id}/tags/{tag} (at most 50, each 1 to 60 characters without "," or "/"; changed only in ACTIVE, PAUSED, SUSPENDED or SHUTOFF); tags in show and detail; the tags, tags-any, not-tags and not-tags-any list filters',
      routes: [...LIST_ROUTES, '/v2.1/servers/{server_id}', TAGS, `${TAGS}/{tag}`],
    },
    {
      minor: 32,
      change: 'networks items may carry a tag, kept for the interface (os-interface shows it from 2.70)',
      routes: ['/v2.1/servers'],
    },
    {
      minor: 37,
      change:
        'networks is required: a list, "auto" (a port on every network the project can use) or "none" (no network); item uuids must be uuids; no tag',
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
      minor: 52,
      change: 'tags at create',
      routes: ['/v2.1/servers'],
    },
    {
      minor: 54,
      change: 'rebuild takes key_name (null removes the key pair)',
      routes: ['/v2.1/servers/{server_id}/action'],
    },
    {
      minor: 57,
      change:
        'personality is refused on create and rebuild; rebuild takes user_data (null clears it) and answers it',
      routes: ['/v2.1/servers', '/v2.1/servers/{server_id}/action'],
    },
    {
      minor: 63,
      change:
        'trusted_image_certificates (1 to 50 distinct certificate ids, or null) on create and rebuild, shown in show, detail, update and rebuild; nothing here verifies image signatures, so they are kept and shown',
      routes: ['/v2.1/servers', ...VIEW_ROUTES],
    },
    {
      minor: 66,
      change:
        'changes-before bounds the list (with changes-since, which must not be later), deleted servers included',
      routes: LIST_ROUTES,
    },
    {
      minor: 71,
      change: 'server_groups ([]: there are no server groups) in show, update and rebuild',
      routes: ['/v2.1/servers/{server_id}', '/v2.1/servers/{server_id}/action'],
    },
    {
      minor: 73,
      change:
        'lock takes a locked_reason, shown as locked_reason while the server is locked (unlock forgets it); the locked list filter and sort key',
      routes: [...VIEW_ROUTES, ...LIST_ROUTES],
    },
    {
      minor: 74,
      change:
        'create takes host and/or hypervisor_hostname (admin only; an unknown one is a 400): the boot is placed only there, every other scheduler filter still applies (a named host that cannot take it: ERROR, NoValidHost); later moves are not bound by it',
      routes: ['/v2.1/servers'],
    },
    {
      minor: 75,
      change:
        'a list parameter Nova does not know is a 400 (bodies were strict from 2.1; update and rebuild always answer the full view)',
      routes: ['/v2.1/servers', '/v2.1/servers/detail'],
    },
    {
      minor: 78,
      change:
        'GET /servers/{id}/topology: {"nodes": [], "pagesize_kb": null}, as Nova answers for a server without a NUMA topology (no hypervisor here gives one)',
      routes: ['/v2.1/servers/{server_id}/topology'],
    },
    {
      minor: 83,
      change:
        'members filter their own servers by availability_zone, config_drive, key_name, created_at, launched_at, terminated_at, power_state, task_state, vm_state, progress and user_id',
      routes: LIST_ROUTES,
    },
    {
      minor: 90,
      change:
        'hostname (a DNS label) on create, update and rebuild; stored, and made from the name at create when none is given; OS-EXT-SRV-ATTR:hostname shown to everyone, and the hostname list filter for members',
      routes: ['/v2.1/servers', ...VIEW_ROUTES, ...LIST_ROUTES],
    },
    {
      minor: 94,
      change: 'hostname may be a FQDN (up to 255 letters, digits, "-", "." and "_")',
      routes: ['/v2.1/servers', '/v2.1/servers/{server_id}', '/v2.1/servers/{server_id}/action'],
    },
    {
      minor: 96,
      change:
        'pinned_availability_zone (the zone the create named, null if none) in show, detail, update and rebuild',
      routes: VIEW_ROUTES,
    },
    {
      minor: 98,
      change:
        "image.properties in show, detail, update and rebuild: the image's properties as the catalogue holds them",
      routes: VIEW_ROUTES,
    },
    {
      minor: 100,
      change:
        'scheduler_hints (each a list of strings, as Nova keeps them) in show, detail, update and rebuild',
      routes: VIEW_ROUTES,
    },
    {
      minor: 102,
      change: 'unknown query parameters are a 400 on every GET',
      routes: ['/v2.1/servers/{server_id}', TAGS, `${TAGS}/{tag}`, '/v2.1/servers/{server_id}/topology'],
    },
    {
      minor: 104,
      change:
        'PUT pinned_availability_zone: null unpins, the zone the server is in pins it, any other change is a 409',
      routes: ['/v2.1/servers/{server_id}'],
    },
  ],
});
