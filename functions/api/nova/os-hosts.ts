import { and, asc, eq } from 'drizzle-orm';
import * as v from 'valibot';
import { computeNodes, instances, services } from '../../../schema/tables/index.ts';
import { NotFound, NotImplemented } from '../../shared/errors.ts';
import { authorize } from '../policy.ts';
import { route } from '../route.ts';
import { defineExtension } from './extension.ts';
import { aggregateZonesByHost, COMPUTE_BINARY, INTERNAL_ZONE } from './host-zones.ts';

interface ResourceRow {
  host: string;
  project: string;
  cpu: number;
  memory_mb: number;
  disk_gb: number;
}

const UpdateHost = v.object({
  host: v.pipe(
    v.strictObject({
      status: v.optional(v.picklist(['enable', 'disable'])),
      maintenance_mode: v.optional(v.picklist(['enable', 'disable'])),
    }),
    v.check((host) => Object.keys(host).length > 0, 'host must set status or maintenance_mode'),
    // Maintenance mode is a disabled service here, so the two cannot both be asked for.
    v.check(
      (host) => !(host.status === 'enable' && host.maintenance_mode === 'enable'),
      'status enable contradicts maintenance_mode enable: a host in maintenance is disabled',
    ),
  ),
});

// Maintenance mode disables the host's compute service with this reason, so the scheduler places
// nothing new there and os-services shows why; leaving maintenance enables only a service that was
// disabled for it. Servers already on the host stay (no driver here can evacuate itself).
const MAINTENANCE_REASON = 'maintenance mode';

/** What a PUT asks of the service row; null when it leaves the row alone. */
function requestedChange(update: v.InferOutput<typeof UpdateHost>['host']) {
  if (update.maintenance_mode === 'enable') return { disabled: true, disabled_reason: MAINTENANCE_REASON };
  if (update.status !== undefined) return { disabled: update.status === 'disable', disabled_reason: null };
  return null;
}

const POWER_ACTIONS = ['startup', 'shutdown', 'reboot'] as const;

const ListQuery = v.object({ zone: v.optional(v.pipe(v.string(), v.minLength(1))) });

export const hostsExtension = defineExtension({
  alias: 'os-hosts',
  name: 'Hosts',
  description: 'Admin-only host administration.',
  version: 1,
  core: false,
  history: [
    {
      version: 1,
      change: 'list, show resources, enable/disable, maintenance_mode, startup/shutdown/reboot (501)',
    },
  ],
  routes: [
    route({
      method: 'get',
      path: '/v3/os-hosts',
      summary: 'List hosts and the service each runs (admin)',
      query: ListQuery,
      responses: { 200: 'hosts: [{host_name, service, zone}]' },
      handler: async (c, { query }) => {
        authorize(c.var.caller, 'compute_extension:os-hosts');
        const [rows, aggregateZones] = await Promise.all([
          c.var.db
            .select()
            .from(services)
            .where(eq(services.deleted, 0))
            .orderBy(asc(services.host), asc(services.topic)),
          aggregateZonesByHost(c.var.db),
        ]);
        const hosts = rows
          .map((service) => ({
            host_name: service.host,
            service: service.topic,
            zone:
              service.binary === COMPUTE_BINARY
                ? (aggregateZones.get(service.host) ?? service.availability_zone)
                : INTERNAL_ZONE,
          }))
          .filter((host) => query.zone === undefined || host.zone === query.zone);
        return c.json({ hosts });
      },
    }),
    route({
      method: 'get',
      path: '/v3/os-hosts/:host_name',
      summary: "A compute host's capacity, what is used now and by each project (admin)",
      responses: { 200: 'host: [{resource: {host, project, cpu, memory_mb, disk_gb}}]' },
      handler: async (c) => {
        authorize(c.var.caller, 'compute_extension:os-hosts');
        const hostName = c.req.param('host_name') ?? '';
        const [nodes, hosted] = await Promise.all([
          c.var.db
            .select()
            .from(computeNodes)
            .where(and(eq(computeNodes.host, hostName), eq(computeNodes.deleted, 0))),
          c.var.db
            .select({ project: instances.project_id, flavor: instances.flavor })
            .from(instances)
            .where(and(eq(instances.host, hostName), eq(instances.deleted, 0))),
        ]);
        if (nodes.length === 0) throw new NotFound(`Compute host ${hostName} could not be found.`);
        const row = (project: string): ResourceRow => ({
          host: hostName,
          project,
          cpu: 0,
          memory_mb: 0,
          disk_gb: 0,
        });
        const total = row('(total)');
        const usedNow = row('(used_now)');
        for (const node of nodes) {
          total.cpu += node.vcpus;
          total.memory_mb += node.memory_mb;
          total.disk_gb += node.local_gb;
          usedNow.cpu += node.vcpus_used;
          usedNow.memory_mb += node.memory_mb_used;
          usedNow.disk_gb += node.local_gb_used;
        }
        // (used_max) is what the servers' flavors ask for, whatever the claims say now.
        const usedMax = row('(used_max)');
        const perProject = new Map<string, ResourceRow>();
        for (const instance of hosted) {
          const projectRow = perProject.get(instance.project) ?? row(instance.project);
          for (const target of [usedMax, projectRow]) {
            target.cpu += instance.flavor.vcpus;
            target.memory_mb += instance.flavor.memory_mb;
            target.disk_gb += instance.flavor.root_gb + instance.flavor.ephemeral_gb;
          }
          perProject.set(instance.project, projectRow);
        }
        const projects = [...perProject.values()].sort((a, b) => a.project.localeCompare(b.project));
        return c.json({
          host: [total, usedNow, usedMax, ...projects].map((resource) => ({ resource })),
        });
      },
    }),
    route({
      method: 'put',
      path: '/v3/os-hosts/:host_name',
      summary: "Enable or disable a host's compute service, or put it in or out of maintenance (admin)",
      body: UpdateHost,
      responses: { 200: 'host: {host, status and/or maintenance_mode, as asked}' },
      handler: async (c, { body }) => {
        authorize(c.var.caller, 'compute_extension:os-hosts');
        const hostName = c.req.param('host_name') ?? '';
        const db = c.var.db.$primary;
        const ofHost = and(
          eq(services.host, hostName),
          eq(services.binary, COMPUTE_BINARY),
          eq(services.deleted, 0),
        );
        const [existing] = await db.select({ id: services.id }).from(services).where(ofHost);
        if (!existing) throw new NotFound(`Compute host ${hostName} could not be found.`);
        const change = requestedChange(body.host);
        if (change) {
          await db
            .update(services)
            .set({ ...change, updated_at: new Date() })
            .where(eq(services.id, existing.id));
        } else if (body.host.maintenance_mode === 'disable') {
          // Conditional: a service someone disabled for another reason stays disabled.
          await db
            .update(services)
            .set({ disabled: false, disabled_reason: null, updated_at: new Date() })
            .where(and(eq(services.id, existing.id), eq(services.disabled_reason, MAINTENANCE_REASON)));
        }
        const [service] = await db
          .select({ disabled: services.disabled, disabled_reason: services.disabled_reason })
          .from(services)
          .where(eq(services.id, existing.id));
        if (!service) throw new NotFound(`Compute host ${hostName} could not be found.`);
        const inMaintenance = service.disabled && service.disabled_reason === MAINTENANCE_REASON;
        return c.json({
          host: {
            host: hostName,
            ...(body.host.status === undefined ? {} : { status: service.disabled ? 'disabled' : 'enabled' }),
            ...(body.host.maintenance_mode === undefined
              ? {}
              : { maintenance_mode: inMaintenance ? 'on_maintenance' : 'off_maintenance' }),
          },
        });
      },
    }),
    ...POWER_ACTIONS.map((action) =>
      route({
        method: 'get',
        path: `/v3/os-hosts/:host_name/${action}`,
        summary: `Power action ${action} on a compute host (admin): 501, no virt driver here can do it`,
        responses: { 200: 'host: {host, power_action} (never: every driver answers 501)' },
        handler: async (c) => {
          authorize(c.var.caller, 'compute_extension:os-hosts');
          const hostName = c.req.param('host_name') ?? '';
          const [service] = await c.var.db
            .select({ id: services.id })
            .from(services)
            .where(
              and(eq(services.host, hostName), eq(services.binary, COMPUTE_BINARY), eq(services.deleted, 0)),
            );
          if (!service) throw new NotFound(`Compute host ${hostName} could not be found.`);
          // Havana asks the host's virt driver and answers 501 when it cannot; the fake driver (the
          // only one here) has no host power control, and commands reach hosts only through workflows.
          throw new NotImplemented(`The virt driver of ${hostName} cannot ${action} its host.`);
        },
      }),
    ),
  ],
});
