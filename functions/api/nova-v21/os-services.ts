import { and, eq } from 'drizzle-orm';
import type { Context } from 'hono';
import * as v from 'valibot';
import { services } from '../../../schema/tables/index.ts';
import { BadRequest, NotFound } from '../../shared/errors.ts';
import type { AppEnv } from '../context.ts';
import { parseOrBadRequest, readJson } from '../middleware/validate.ts';
import { aggregateZonesByHost, COMPUTE_BINARY, INTERNAL_ZONE } from '../nova/host-zones.ts';
import {
  listServices,
  type ServiceRow,
  servicesExtension,
  serviceView,
  updateService,
} from '../nova/os-services.ts';
import { authorize } from '../policy.ts';
import { type Route, route } from '../route.ts';
import { defineFace, translatedRoute, v3Route } from './face.ts';
import { atLeast } from './microversion.ts';
import { novaTimeOrNull } from './nova-time.ts';
import { deleteService } from './os-services-delete.ts';
import { queryOf } from './query.ts';
import { type RowRef, rowNamed, rowRef } from './row-ref.ts';

// os-services (clients-and-microversions.md §4.1): v3's services under v2.1's names. Before 2.53 a
// service is named by host and binary in a flat body sent to PUT /os-services/{action}; from 2.53 it is
// named by its uuid in the path, and PUT /os-services/{uuid} changes status and forced_down at once.
// Only compute services can be changed: nothing else here reads a disabled flag.

const Text = v.pipe(v.string(), v.minLength(1), v.maxLength(255));

/** The service as v2.1 lists it at this microversion. */
function serviceV21(c: Context<AppEnv>, row: ServiceRow, aggregateZones: Map<string, string>) {
  const { forced_down, ...view } = serviceView(c, row);
  return {
    ...view,
    id: atLeast(c, 53) ? row.uuid : row.id,
    // Nova's zone: a compute service's is its aggregate's, else its own; every other service's is internal.
    zone:
      row.binary === COMPUTE_BINARY ? (aggregateZones.get(row.host) ?? row.availability_zone) : INTERNAL_ZONE,
    updated_at: novaTimeOrNull(row.last_seen_at),
    ...(atLeast(c, 11) ? { forced_down } : {}),
  };
}

function requireCompute(binary: string): void {
  if (binary !== COMPUTE_BINARY) {
    throw new BadRequest(
      `Updating a ${binary} service is not supported. Only ${COMPUTE_BINARY} services can be updated.`,
    );
  }
}

// The pre-2.53 body: one schema for every action (2.11 added forced_down), as Nova's.
const ActionBody = v.strictObject({
  host: Text,
  binary: Text,
  disabled_reason: v.optional(Text),
  forced_down: v.optional(v.boolean()),
});
type ActionBody = v.InferOutput<typeof ActionBody>;

function checkActionBody(c: Context<AppEnv>, body: ActionBody): void {
  if (body.forced_down !== undefined && !atLeast(c, 11)) {
    throw new BadRequest("Invalid input for field 'forced_down': it is accepted from microversion 2.11");
  }
  requireCompute(body.binary);
}

/**
 * A pre-2.53 action. From 2.53 on its name is read as a service uuid, which it is not (Nova's 400);
 * force-down is an unknown action before 2.11 (Nova's 404).
 */
function serviceAction(name: string, since: number | undefined, served: Route): Route {
  return {
    ...served,
    handler: (c, input) => {
      if (atLeast(c, 53)) throw new BadRequest(`Invalid uuid ${name}`);
      if (since !== undefined && !atLeast(c, since)) throw new NotFound('Unknown action');
      return served.handler(c, input);
    },
  };
}

const SERVICES = '/v3/os-services';

const UpdateBody = v.strictObject({
  status: v.optional(v.picklist(['enabled', 'disabled'], "status must be 'enabled' or 'disabled'")),
  disabled_reason: v.optional(Text),
  forced_down: v.optional(v.boolean()),
});

async function findService(c: Context<AppEnv>, ref: RowRef, raw: string) {
  const [row] = await c.var.db.$primary
    .select()
    .from(services)
    .where(and(rowNamed(ref, services), eq(services.deleted, 0)));
  if (!row) throw new NotFound(`Service ${raw} could not be found.`);
  return row;
}

export const servicesFace = defineFace({
  alias: 'os-services',
  routes: [
    route({
      method: 'get',
      path: '/v2.1/os-services',
      summary: 'List services with their status and state (admin)',
      responses: {
        200: 'services: id, binary, host, zone, status, state, updated_at, disabled_reason[, forced_down (2.11+)]',
      },
      handler: async (c) => {
        authorize(c.var.caller, 'compute_extension:os-services');
        const query = parseOrBadRequest(
          queryOf({ host: v.optional(v.string()), binary: v.optional(v.string()) }, atLeast(c, 75)),
          c.req.query(),
        );
        // Nova treats an empty filter as no filter.
        const [rows, aggregateZones] = await Promise.all([
          listServices(c, { host: query.host || undefined, binary: query.binary || undefined }),
          aggregateZonesByHost(c.var.db),
        ]);
        return c.json({ services: rows.map((row) => serviceV21(c, row, aggregateZones)) });
      },
    }),
    ...(['enable', 'disable', 'disable-log-reason'] as const).map((action) =>
      serviceAction(
        action,
        undefined,
        translatedRoute({
          method: 'put',
          path: `/v2.1/os-services/${action}`,
          summary: `${action} a compute service named by host and binary (admin; before 2.53)`,
          body: ActionBody,
          target: v3Route(servicesExtension, 'put', `${SERVICES}/${action}`),
          responses: { 200: 'service: host, binary, status[, disabled_reason]' },
          request: (c, body) => {
            checkActionBody(c, body);
            if (action === 'disable-log-reason' && body.disabled_reason === undefined) {
              throw new BadRequest('Missing disabled reason field');
            }
            const service = { host: body.host, binary: body.binary };
            return {
              service:
                action === 'disable-log-reason'
                  ? { ...service, disabled_reason: body.disabled_reason }
                  : service,
            };
          },
        }),
      ),
    ),
    serviceAction(
      'force-down',
      11,
      translatedRoute({
        method: 'put',
        path: '/v2.1/os-services/force-down',
        summary: 'Mark a compute service down, or clear that (admin; 2.11 to 2.52)',
        body: ActionBody,
        target: v3Route(servicesExtension, 'put', `${SERVICES}/force-down`),
        responses: { 200: 'service: host, binary, forced_down' },
        request: (c, body) => {
          checkActionBody(c, body);
          if (body.forced_down === undefined) throw new BadRequest('Missing forced_down field');
          return { service: { host: body.host, binary: body.binary, forced_down: body.forced_down } };
        },
      }),
    ),
    route({
      method: 'put',
      path: '/v2.1/os-services/:service_id',
      summary: "Change a compute service's status and/or forced_down, named by uuid (admin; 2.53+)",
      responses: { 200: 'service: the whole service' },
      handler: async (c) => {
        const raw = c.req.param('service_id') ?? '';
        // Before 2.53 the path names an action, and this one is none of them.
        if (!atLeast(c, 53)) throw new NotFound('Unknown action');
        const ref = rowRef(c, raw, 53, () => new BadRequest(`Invalid uuid ${raw}`));
        const body = await readJson(c, UpdateBody);
        authorize(c.var.caller, 'compute_extension:os-services');
        const service = await findService(c, ref, raw);
        requireCompute(service.binary);
        if (body.status === 'enabled' && body.disabled_reason !== undefined) {
          throw new BadRequest("Specifying 'disabled_reason' with status 'enabled' is invalid.");
        }
        if (body.status === undefined && body.forced_down === undefined) {
          throw new BadRequest(
            "No updates were requested. Fields 'status' or 'forced_down' should be specified.",
          );
        }
        await updateService(c, service, {
          ...(body.status === undefined
            ? {}
            : { disabled: body.status === 'disabled', disabled_reason: body.disabled_reason ?? null }),
          ...(body.forced_down === undefined ? {} : { forced_down: body.forced_down }),
        });
        const [updated, aggregateZones] = await Promise.all([
          findService(c, ref, raw),
          aggregateZonesByHost(c.var.db.$primary),
        ]);
        return c.json({ service: serviceV21(c, updated, aggregateZones) });
      },
    }),
    route({
      method: 'delete',
      path: '/v2.1/os-services/:service_id',
      summary: 'Delete a service, its compute nodes and its aggregate memberships (admin)',
      responses: { 204: 'deleted' },
      handler: async (c) => {
        authorize(c.var.caller, 'compute_extension:os-services');
        const raw = c.req.param('service_id') ?? '';
        const ref = rowRef(c, raw, 53, () => new BadRequest(`Invalid id ${raw}: a service id is an integer`));
        await deleteService(c, await findService(c, ref, raw));
        return c.body(null, 204);
      },
    }),
  ],
  microversions: [
    {
      minor: 11,
      change: 'forced_down in the list; PUT /os-services/force-down',
      routes: ['/v2.1/os-services', '/v2.1/os-services/force-down'],
    },
    {
      minor: 53,
      change:
        'service ids are uuids; PUT /os-services/{uuid} (status, disabled_reason, forced_down) answers the whole service and replaces the named actions; DELETE takes the uuid',
      routes: ['/v2.1/os-services', '/v2.1/os-services/{service_id}'],
    },
    {
      minor: 75,
      change: 'unknown query parameters of the list are a 400',
      routes: ['/v2.1/os-services'],
    },
    {
      minor: 102,
      change: 'unknown query parameters are a 400 on every GET (the list refuses them from 2.75)',
      routes: ['/v2.1/os-services'],
    },
  ],
});
