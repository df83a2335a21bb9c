import { availabilityZoneExtension } from '../nova/os-availability-zone.ts';
import { defineFace, translatedRoute, v3Route } from './face.ts';
import { strictQuery } from './query.ts';

// os-availability-zone in v2.1's camelCase (clients-and-microversions.md §4.1), available zones first
// as Nova lists them. The detail shows, for each available zone, its hosts' enabled services only;
// an unavailable zone has no hosts to show.
interface ServiceState {
  available: boolean;
  active: boolean;
  updated_at: string | null;
}

interface V3Zone {
  zone_name: string;
  zone_state: { available: boolean };
  hosts: Record<string, Record<string, ServiceState>> | null;
}

function enabledServices(hosts: V3Zone['hosts']) {
  if (!hosts) return null;
  const shown: Record<string, Record<string, ServiceState>> = {};
  for (const [host, services] of Object.entries(hosts)) {
    const enabled = Object.entries(services).filter(([, state]) => state.active);
    if (enabled.length > 0) shown[host] = Object.fromEntries(enabled);
  }
  return shown;
}

function zoneInfo(body: unknown, detailed: boolean) {
  const { availability_zone_info: zones } = body as { availability_zone_info: V3Zone[] };
  const ordered = [
    ...zones.filter((zone) => zone.zone_state.available),
    ...zones.filter((zone) => !zone.zone_state.available),
  ];
  return {
    body: {
      availabilityZoneInfo: ordered.map((zone) => ({
        zoneName: zone.zone_name,
        zoneState: { available: zone.zone_state.available },
        hosts: detailed && zone.zone_state.available ? enabledServices(zone.hosts) : null,
      })),
    },
  };
}

export const availabilityZoneFace = defineFace({
  alias: 'os-availability-zone',
  routes: [
    strictQuery(
      translatedRoute({
        method: 'get',
        path: '/v2.1/os-availability-zone',
        summary: 'List the availability zones servers can be created in',
        target: v3Route(availabilityZoneExtension, 'get', '/v3/os-availability-zone'),
        responses: { 200: 'availabilityZoneInfo: [{zoneName, zoneState: {available}, hosts: null}]' },
        response: (_c, body) => zoneInfo(body, false),
      }),
      102,
    ),
    strictQuery(
      translatedRoute({
        method: 'get',
        path: '/v2.1/os-availability-zone/detail',
        summary: 'Every zone, the internal one included, with the enabled services of each host (admin)',
        target: v3Route(availabilityZoneExtension, 'get', '/v3/os-availability-zone/detail'),
        responses: {
          200: 'availabilityZoneInfo with hosts: {host: {binary: {available, active, updated_at}}}',
        },
        response: (_c, body) => zoneInfo(body, true),
      }),
      102,
    ),
  ],
  microversions: [
    {
      minor: 102,
      change: 'unknown query parameters are a 400',
      routes: ['/v2.1/os-availability-zone', '/v2.1/os-availability-zone/detail'],
    },
  ],
});
