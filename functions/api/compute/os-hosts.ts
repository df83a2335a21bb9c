import { and, asc, eq } from 'drizzle-orm';
import * as v from 'valibot';
import { computeNodes, instances, services } from '../../../schema/tables/index.ts';
import { BadRequest, NotFound } from '../../shared/errors.ts';
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
    v.check((host) => Object.keys(host).length > 0, 'host must set status'),
  ),
});

const ListQuery = v.object({ zone: v.optional(v.pipe(v.string(), v.minLength(1))) });

export const hostsExtension = defineExtension({
  alias: 'os-hosts',
  name: 'Hosts',
  description: 'Admin-only host administration.',
  version: 1,
  core: false,
  history: [{ version: 1, change: 'list, show resources, enable/disable' }],
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
      summary: "Enable or disable a host's compute service (admin)",
      body: UpdateHost,
      responses: { 200: 'host: {host, status}' },
      handler: async (c, { body }) => {
        authorize(c.var.caller, 'compute_extension:os-hosts');
        // Maintenance mode needs a hypervisor driver that can evacuate itself; none here can.
        if (body.host.maintenance_mode !== undefined) {
          throw new BadRequest(
            "Invalid input for field 'host.maintenance_mode': not supported by this cloud",
          );
        }
        const hostName = c.req.param('host_name') ?? '';
        const disabled = body.host.status === 'disable';
        const result = await c.var.db.$primary
          .update(services)
          .set({ disabled, disabled_reason: null, updated_at: new Date() })
          .where(
            and(eq(services.host, hostName), eq(services.binary, COMPUTE_BINARY), eq(services.deleted, 0)),
          );
        if (result.rowsAffected === 0) throw new NotFound(`Compute host ${hostName} could not be found.`);
        return c.json({ host: { host: hostName, status: disabled ? 'disabled' : 'enabled' } });
      },
    }),
  ],
});
