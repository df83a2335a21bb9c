import { and, asc, eq, type SQL } from 'drizzle-orm';
import type { Context } from 'hono';
import * as v from 'valibot';
import { eqIfGiven } from '../../../schema/conditions.ts';
import { services } from '../../../schema/tables/index.ts';
import { isServiceUp } from '../../compute/service-liveness.ts';
import { NotFound } from '../../shared/errors.ts';
import type { AppEnv } from '../context.ts';
import { authorize } from '../policy.ts';
import { route } from '../route.ts';
import { defineExtension } from './extension.ts';

export type ServiceRow = typeof services.$inferSelect;

export function serviceView(c: Context<AppEnv>, service: ServiceRow) {
  return {
    id: service.id,
    binary: service.binary,
    host: service.host,
    zone: service.availability_zone,
    status: service.disabled ? 'disabled' : 'enabled',
    state: isServiceUp(service, new Date(), c.var.config.SERVICE_DOWN_TIME_SECONDS) ? 'up' : 'down',
    disabled_reason: service.disabled_reason,
    forced_down: service.forced_down,
    updated_at: service.last_seen_at?.toISOString() ?? null,
  };
}

const Name = v.pipe(v.string(), v.minLength(1), v.maxLength(255));
const ServiceRef = { host: Name, binary: Name };
const EnableBody = v.object({ service: v.object(ServiceRef) });
const DisableWithReason = v.object({
  service: v.object({ ...ServiceRef, disabled_reason: v.pipe(v.string(), v.minLength(1), v.maxLength(255)) }),
});
const ForceDownBody = v.object({ service: v.object({ ...ServiceRef, forced_down: v.boolean() }) });

export async function updateService(
  c: Context<AppEnv>,
  ref: { host: string; binary: string },
  change: Partial<Pick<ServiceRow, 'disabled' | 'disabled_reason' | 'forced_down'>>,
) {
  const result = await c.var.db.$primary
    .update(services)
    .set({ ...change, updated_at: new Date() })
    .where(and(eq(services.host, ref.host), eq(services.binary, ref.binary), eq(services.deleted, 0)));
  if (result.rowsAffected === 0) {
    throw new NotFound(`Service ${ref.binary} on host ${ref.host} could not be found.`);
  }
}

const ListQuery = v.object({ host: v.optional(Name), binary: v.optional(Name) });

/** Live services, by host then binary, optionally only those of one host and/or binary. */
export async function listServices(c: Context<AppEnv>, filter: { host?: string; binary?: string }) {
  const filters: (SQL | undefined)[] = [
    eq(services.deleted, 0),
    eqIfGiven(services.host, filter.host),
    eqIfGiven(services.binary, filter.binary),
  ];
  return c.var.db
    .select()
    .from(services)
    .where(and(...filters))
    .orderBy(asc(services.host), asc(services.binary));
}

export const servicesExtension = defineExtension({
  alias: 'os-services',
  name: 'Services',
  description: 'Services support.',
  version: 1,
  core: false,
  history: [{ version: 1, change: 'list, enable, disable (with reason), force-down' }],
  routes: [
    route({
      method: 'get',
      path: '/v3/os-services',
      summary: 'List services with their status and state (admin)',
      query: ListQuery,
      responses: {
        200: 'services: id, binary, host, zone, status, state, disabled_reason, forced_down, updated_at',
      },
      handler: async (c, { query }) => {
        authorize(c.var.caller, 'compute_extension:os-services');
        const rows = await listServices(c, query);
        return c.json({ services: rows.map((row) => serviceView(c, row)) });
      },
    }),
    route({
      method: 'put',
      path: '/v3/os-services/enable',
      summary: 'Enable a service (admin)',
      body: EnableBody,
      responses: { 200: 'service: host, binary, status' },
      handler: async (c, { body: { service } }) => {
        authorize(c.var.caller, 'compute_extension:os-services');
        await updateService(c, service, { disabled: false, disabled_reason: null });
        return c.json({ service: { host: service.host, binary: service.binary, status: 'enabled' } });
      },
    }),
    route({
      method: 'put',
      path: '/v3/os-services/disable',
      summary: 'Disable a service (admin): the scheduler stops placing servers on it',
      body: EnableBody,
      responses: { 200: 'service: host, binary, status' },
      handler: async (c, { body: { service } }) => {
        authorize(c.var.caller, 'compute_extension:os-services');
        await updateService(c, service, { disabled: true, disabled_reason: null });
        return c.json({ service: { host: service.host, binary: service.binary, status: 'disabled' } });
      },
    }),
    route({
      method: 'put',
      path: '/v3/os-services/disable-log-reason',
      summary: 'Disable a service and record why (admin)',
      body: DisableWithReason,
      responses: { 200: 'service: host, binary, status, disabled_reason' },
      handler: async (c, { body: { service } }) => {
        authorize(c.var.caller, 'compute_extension:os-services');
        await updateService(c, service, { disabled: true, disabled_reason: service.disabled_reason });
        return c.json({ service: { ...service, status: 'disabled' } });
      },
    }),
    route({
      method: 'put',
      path: '/v3/os-services/force-down',
      summary: 'Mark a service down (or clear that) without waiting for its reports to stop (admin)',
      body: ForceDownBody,
      responses: { 200: 'service: host, binary, forced_down' },
      handler: async (c, { body: { service } }) => {
        authorize(c.var.caller, 'compute_extension:os-services');
        await updateService(c, service, { forced_down: service.forced_down });
        return c.json({ service });
      },
    }),
  ],
});
