import { and, eq, inArray } from 'drizzle-orm';
import type { Context } from 'hono';
import * as v from 'valibot';
import { computeNodes, services } from '../../../schema/tables/index.ts';
import { isServiceUp } from '../../compute/service-liveness.ts';
import { BadRequest, NotFound, NotImplemented } from '../../shared/errors.ts';
import type { AppEnv } from '../context.ts';
import { parseOrBadRequest } from '../middleware/validate.ts';
import {
  hypervisorDetail,
  hypervisorsExtension,
  liveNodes,
  type NodeRow,
  type NodeSelection,
  serversOnNodes,
  workloads,
} from '../nova/os-hypervisors.ts';
import type { ServiceRow } from '../nova/os-services.ts';
import { authorize } from '../policy.ts';
import { route } from '../route.ts';
import { defineFace, translatedRoute, v3Route } from './face.ts';
import { atLeast, removedAt } from './microversion.ts';
import { adminPageLimit, nextPageLinks, PAGING } from './paging.ts';
import { queryOf } from './query.ts';
import { type RowRef, rowNamed, rowRef } from './row-ref.ts';

// os-hypervisors (clients-and-microversions.md §4.1): v3's compute nodes under v2.1's names, each with
// the state and status of its compute service. 2.28 makes cpu_info an object, 2.33 pages the lists,
// 2.53 names nodes and services by uuid and folds /search and /servers into query parameters, 2.75
// always answers `servers` when they were asked for, 2.88 drops the resource figures (and statistics
// and uptime) and names the uptime instead.

/** A node with the compute service it belongs to. */
interface Hypervisor {
  node: NodeRow;
  service: ServiceRow;
}

// No virt driver here reports how long its host has been up.
const NO_UPTIME = 'The virt driver of this hypervisor does not report its uptime.';

/** The nodes with their live services; a node whose service was deleted is left out, as Nova does. */
async function withServices(c: Context<AppEnv>, nodes: NodeRow[]): Promise<Hypervisor[]> {
  const rows =
    nodes.length === 0
      ? []
      : await c.var.db
          .select()
          .from(services)
          .where(
            and(
              inArray(
                services.id,
                nodes.map((node) => node.service_id),
              ),
              eq(services.deleted, 0),
            ),
          );
  const byId = new Map(rows.map((row) => [row.id, row]));
  return nodes.flatMap((node) => {
    const service = byId.get(node.service_id);
    return service ? [{ node, service }] : [];
  });
}

interface ViewOptions {
  detail: boolean;
  workload?: number;
  /** The node's servers when they were asked for; undefined when they were not. */
  servers?: Array<{ id: string; name: string }>;
}

function hypervisorView(c: Context<AppEnv>, { node, service }: Hypervisor, options: ViewOptions) {
  const byUuid = atLeast(c, 53);
  const view: Record<string, unknown> = {
    id: byUuid ? node.uuid : node.id,
    hypervisor_hostname: node.hypervisor_hostname,
    state: isServiceUp(service, new Date(), c.var.config.SERVICE_DOWN_TIME_SECONDS) ? 'up' : 'down',
    status: service.disabled ? 'disabled' : 'enabled',
  };
  if (options.detail) {
    Object.assign(view, {
      hypervisor_type: node.hypervisor_type,
      hypervisor_version: node.hypervisor_version,
      // Hosts do not report the address they are reached at.
      host_ip: null,
      service: {
        id: byUuid ? service.uuid : service.id,
        host: node.host,
        disabled_reason: service.disabled_reason,
      },
    });
    if (atLeast(c, 88)) {
      view.uptime = null;
    } else {
      const {
        id: _id,
        hypervisor_hostname: _name,
        hypervisor_type: _type,
        hypervisor_version: _version,
        service: _service,
        ...figures
      } = hypervisorDetail(node, options.workload ?? 0);
      // No host describes its CPU: an empty description, as JSON text before 2.28 and an object after.
      Object.assign(view, figures, { cpu_info: atLeast(c, 28) ? {} : '{}' });
    }
  }
  const servers = options.servers?.map(({ id, name }) => ({ name, uuid: id }));
  if (servers && (servers.length > 0 || atLeast(c, 75))) view.servers = servers;
  return view;
}

/** The views of `hypervisors`, with the figures each needs for this microversion. */
async function hypervisorViews(
  c: Context<AppEnv>,
  hypervisors: Hypervisor[],
  options: { detail: boolean; withServers: boolean },
) {
  const nodes = hypervisors.map(({ node }) => node);
  const [busy, servers] = await Promise.all([
    options.detail && !atLeast(c, 88) ? workloads(c) : undefined,
    options.withServers ? serversOnNodes(c, nodes) : undefined,
  ]);
  return hypervisors.map((hypervisor) =>
    hypervisorView(c, hypervisor, {
      detail: options.detail,
      workload: busy?.get(hypervisor.node.host) ?? 0,
      servers: servers ? (servers.get(hypervisor.node.id) ?? []) : undefined,
    }),
  );
}

const Bool = v.picklist(
  ['true', 'True', 'TRUE', 'false', 'False', 'FALSE', '1', '0', 'yes', 'no', 'on', 'off'],
  'with_servers must be a boolean',
);
const truthy = (text: string | undefined) => ['true', '1', 'yes', 'on'].includes(text?.toLowerCase() ?? '');

function listQuery(c: Context<AppEnv>) {
  if (atLeast(c, 53)) {
    return queryOf(
      {
        ...PAGING,
        hypervisor_hostname_pattern: v.optional(v.pipe(v.string(), v.minLength(1), v.maxLength(255))),
        with_servers: v.optional(Bool),
      },
      true,
    );
  }
  return queryOf(atLeast(c, 33) ? PAGING : {}, false);
}

async function nodesMatching(c: Context<AppEnv>, pattern: string): Promise<Hypervisor[]> {
  const found = await withServices(c, await liveNodes(c, { hostnameContains: pattern }));
  if (found.length === 0) throw new NotFound(`No hypervisor matching '${pattern}' could be found.`);
  return found;
}

/** The node a paging marker names: its id before 2.53, its uuid from then on. */
async function markerNode(c: Context<AppEnv>, marker: string): Promise<number> {
  const ref: RowRef | undefined = atLeast(c, 53)
    ? { uuid: marker }
    : /^\d+$/.test(marker)
      ? { id: Number(marker) }
      : undefined;
  const [found] = ref
    ? await c.var.db
        .select({ id: computeNodes.id })
        .from(computeNodes)
        .where(and(rowNamed(ref, computeNodes), eq(computeNodes.deleted, 0)))
    : [];
  if (!found) throw new BadRequest(`marker [${marker}] not found`);
  return found.id;
}

async function listHypervisors(c: Context<AppEnv>, detail: boolean) {
  authorize(c.var.caller, 'compute_extension:os-hypervisors');
  const query: {
    limit?: number;
    marker?: string;
    hypervisor_hostname_pattern?: string;
    with_servers?: string;
  } = parseOrBadRequest(listQuery(c), c.req.query());
  const withServers = truthy(query.with_servers);
  const pattern = query.hypervisor_hostname_pattern;
  if (pattern !== undefined) {
    if (query.limit !== undefined || query.marker !== undefined) {
      throw new BadRequest(
        'Paging over hypervisors with the hypervisor_hostname_pattern query parameter is not supported.',
      );
    }
    const hypervisors = await hypervisorViews(c, await nodesMatching(c, pattern), { detail, withServers });
    return c.json({ hypervisors });
  }
  const paged = atLeast(c, 33);
  const size = adminPageLimit(query.limit);
  const selection: NodeSelection = paged
    ? { limit: size, afterId: query.marker === undefined ? undefined : await markerNode(c, query.marker) }
    : {};
  const found = await withServices(c, await liveNodes(c, selection));
  const hypervisors = await hypervisorViews(c, found, { detail, withServers });
  const links = paged
    ? nextPageLinks(c, 'hypervisors_links', {
        limit: size,
        items: hypervisors,
        markerOf: (item) => String(item.id),
      })
    : {};
  return c.json({ hypervisors, ...links });
}

/** The node a path names, with its service; 404 when either is gone. */
async function findHypervisor(c: Context<AppEnv>): Promise<Hypervisor> {
  const raw = c.req.param('hypervisor_id') ?? '';
  const missing = () => new NotFound(`Hypervisor with ID '${raw}' could not be found.`);
  const ref = rowRef(c, raw, 53, missing);
  const [node] = await c.var.db
    .select()
    .from(computeNodes)
    .where(and(rowNamed(ref, computeNodes), eq(computeNodes.deleted, 0)));
  const [found] = node ? await withServices(c, [node]) : [];
  if (!found) throw missing();
  return found;
}

const HYPERVISORS = '/v3/os-hypervisors';

export const hypervisorsFace = defineFace({
  alias: 'os-hypervisors',
  routes: [
    route({
      method: 'get',
      path: '/v2.1/os-hypervisors',
      summary: 'List hypervisors (admin)',
      responses: {
        200: 'hypervisors: id, hypervisor_hostname, state, status[, servers]; hypervisors_links (2.33+)',
      },
      handler: (c) => listHypervisors(c, false),
    }),
    route({
      method: 'get',
      path: '/v2.1/os-hypervisors/detail',
      summary: 'List hypervisors with their type, service and (before 2.88) resources (admin)',
      responses: { 200: 'hypervisors with details; hypervisors_links (2.33+)' },
      handler: (c) => listHypervisors(c, true),
    }),
    removedAt(
      88,
      translatedRoute({
        method: 'get',
        path: '/v2.1/os-hypervisors/statistics',
        summary: 'Totals over every hypervisor (admin; before 2.88)',
        target: v3Route(hypervisorsExtension, 'get', `${HYPERVISORS}/statistics`),
        responses: { 200: 'hypervisor_statistics' },
      }),
    ),
    route({
      method: 'get',
      path: '/v2.1/os-hypervisors/:hypervisor_id',
      summary: 'Show a hypervisor (admin): by id before 2.53, by uuid from then on',
      responses: { 200: 'hypervisor[, servers (with_servers, 2.53+)]' },
      handler: async (c) => {
        authorize(c.var.caller, 'compute_extension:os-hypervisors');
        const query: { with_servers?: string } = parseOrBadRequest(
          queryOf(atLeast(c, 53) ? { with_servers: v.optional(Bool) } : {}, atLeast(c, 53)),
          c.req.query(),
        );
        const [hypervisor] = await hypervisorViews(c, [await findHypervisor(c)], {
          detail: true,
          withServers: truthy(query.with_servers),
        });
        return c.json({ hypervisor });
      },
    }),
    removedAt(
      88,
      route({
        method: 'get',
        path: '/v2.1/os-hypervisors/:hypervisor_id/uptime',
        summary: "A hypervisor's uptime (admin; before 2.88): 501, no host reports it",
        responses: { 200: 'hypervisor with uptime (never: no virt driver here reports it)' },
        handler: async (c) => {
          authorize(c.var.caller, 'compute_extension:os-hypervisors');
          await findHypervisor(c);
          throw new NotImplemented(NO_UPTIME);
        },
      }),
    ),
    removedAt(
      53,
      route({
        method: 'get',
        path: '/v2.1/os-hypervisors/:pattern/search',
        summary: 'Hypervisors whose hostname contains the pattern (admin; before 2.53)',
        responses: { 200: 'hypervisors: id, hypervisor_hostname, state, status' },
        handler: async (c) => {
          authorize(c.var.caller, 'compute_extension:os-hypervisors');
          const found = await nodesMatching(c, c.req.param('pattern') ?? '');
          return c.json({
            hypervisors: await hypervisorViews(c, found, { detail: false, withServers: false }),
          });
        },
      }),
    ),
    removedAt(
      53,
      route({
        method: 'get',
        path: '/v2.1/os-hypervisors/:pattern/servers',
        summary: 'Hypervisors whose hostname contains the pattern, with their servers (admin; before 2.53)',
        responses: { 200: 'hypervisors: id, hypervisor_hostname, state, status, servers: [{name, uuid}]' },
        handler: async (c) => {
          authorize(c.var.caller, 'compute_extension:os-hypervisors');
          const found = await nodesMatching(c, c.req.param('pattern') ?? '');
          return c.json({
            hypervisors: await hypervisorViews(c, found, { detail: false, withServers: true }),
          });
        },
      }),
    ),
  ],
  microversions: [
    {
      minor: 28,
      change: 'cpu_info is an object ({}: no host describes its CPU); before, the same as JSON text',
      routes: ['/v2.1/os-hypervisors/detail', '/v2.1/os-hypervisors/{id}'],
    },
    {
      minor: 33,
      change: 'limit/marker paging of the lists (marker: the last id seen), hypervisors_links',
      routes: ['/v2.1/os-hypervisors', '/v2.1/os-hypervisors/detail'],
    },
    {
      minor: 53,
      change:
        'hypervisor and service ids are uuids; hypervisor_hostname_pattern and with_servers query parameters; /{pattern}/search and /{pattern}/servers gone; unknown query parameters are a 400',
      routes: ['/v2.1/os-hypervisors', '/v2.1/os-hypervisors/detail', '/v2.1/os-hypervisors/{id}'],
    },
    {
      minor: 75,
      change: 'servers is always there (maybe empty) when with_servers asked for it',
      routes: ['/v2.1/os-hypervisors', '/v2.1/os-hypervisors/detail', '/v2.1/os-hypervisors/{id}'],
    },
    {
      minor: 88,
      change:
        'the resource figures and cpu_info are gone and uptime is named (null: no host reports it); /statistics and /{id}/uptime are gone',
      routes: ['/v2.1/os-hypervisors/detail', '/v2.1/os-hypervisors/{id}'],
    },
    {
      minor: 102,
      change:
        'unknown query parameters are a 400 on every GET (the lists and show refuse them from 2.53; /statistics and /{id}/uptime are gone from 2.88)',
      routes: ['/v2.1/os-hypervisors', '/v2.1/os-hypervisors/detail', '/v2.1/os-hypervisors/{id}'],
    },
  ],
});
