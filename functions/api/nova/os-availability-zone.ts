import { asc, eq } from 'drizzle-orm';
import type { Context } from 'hono';
import { services } from '../../../schema/tables/index.ts';
import { isServiceUp } from '../../compute/service-liveness.ts';
import type { AppEnv } from '../context.ts';
import { authorize } from '../policy.ts';
import { route } from '../route.ts';
import { defineExtension } from './extension.ts';
import { aggregateZonesByHost, COMPUTE_BINARY, INTERNAL_ZONE } from './host-zones.ts';

interface ZoneHost {
  [binary: string]: { available: boolean; active: boolean; updated_at: string | null };
}

/** Every zone with its hosts' services; a zone is available while one enabled compute service is in it. */
async function zones(c: Context<AppEnv>) {
  const [rows, aggregateZones] = await Promise.all([
    c.var.db.select().from(services).where(eq(services.deleted, 0)).orderBy(asc(services.host)),
    aggregateZonesByHost(c.var.db),
  ]);
  const byZone = new Map<string, { available: boolean; hosts: Record<string, ZoneHost> }>();
  for (const service of rows) {
    const isCompute = service.binary === COMPUTE_BINARY;
    const zoneName = isCompute
      ? (aggregateZones.get(service.host) ?? service.availability_zone)
      : INTERNAL_ZONE;
    const zone = byZone.get(zoneName) ?? { available: false, hosts: {} };
    zone.available ||= !isCompute || !service.disabled;
    const host = zone.hosts[service.host] ?? {};
    host[service.binary] = {
      available: isServiceUp(service, new Date(), c.var.config.SERVICE_DOWN_TIME_SECONDS),
      active: !service.disabled,
      updated_at: service.last_seen_at?.toISOString() ?? null,
    };
    zone.hosts[service.host] = host;
    byZone.set(zoneName, zone);
  }
  return [...byZone.entries()].sort(([a], [b]) => a.localeCompare(b));
}

export const availabilityZoneExtension = defineExtension({
  alias: 'os-availability-zone',
  name: 'AvailabilityZone',
  description: '1. Add availability_zone to the Create Server API. 2. Add availability zones describing.',
  version: 1,
  core: false,
  history: [{ version: 1, change: 'list and detail of availability zones' }],
  routes: [
    route({
      method: 'get',
      path: '/v3/os-availability-zone',
      summary: 'List the availability zones servers can be created in',
      responses: { 200: 'availability_zone_info: [{zone_name, zone_state: {available}, hosts: null}]' },
      handler: async (c) => {
        authorize(c.var.caller, 'compute_extension:os-availability-zone:list');
        const info = (await zones(c))
          .filter(([name]) => name !== INTERNAL_ZONE)
          .map(([name, zone]) => ({
            zone_name: name,
            zone_state: { available: zone.available },
            hosts: null,
          }));
        return c.json({ availability_zone_info: info });
      },
    }),
    route({
      method: 'get',
      path: '/v3/os-availability-zone/detail',
      summary: 'Every zone, the internal one included, with the services of each host (admin)',
      responses: {
        200: 'availability_zone_info with hosts: {host: {binary: {available, active, updated_at}}}',
      },
      handler: async (c) => {
        authorize(c.var.caller, 'compute_extension:os-availability-zone:detail');
        const info = (await zones(c)).map(([name, zone]) => ({
          zone_name: name,
          zone_state: { available: zone.available },
          hosts: zone.hosts,
        }));
        return c.json({ availability_zone_info: info });
      },
    }),
  ],
});
