import * as v from 'valibot';
import { hostsExtension } from '../nova/os-hosts.ts';
import { defineFace, translatedRoute, v3Route } from './face.ts';
import { removedAt } from './microversion.ts';

// os-hosts (clients-and-microversions.md §2, 2.43): v3's hosts under v2.1's names until 2.42; from 2.43
// every route is gone (os-services and os-hypervisors say the same). The update body and answer are
// flat: `{"status": "enable"}` → `{"host": "<name>", "status": "enabled"}`.
const HOSTS = '/v3/os-hosts';

const Switch = v.pipe(
  v.picklist(
    ['enable', 'disable', 'Enable', 'Disable', 'ENABLE', 'DISABLE'],
    "must be 'enable' or 'disable'",
  ),
  v.transform((value) => value.toLowerCase() as 'enable' | 'disable'),
);

const UpdateHost = v.pipe(
  v.strictObject({ status: v.optional(Switch), maintenance_mode: v.optional(Switch) }),
  v.check(
    (host) => host.status !== undefined || host.maintenance_mode !== undefined,
    'the body must set status or maintenance_mode',
  ),
);

export const hostsFace = defineFace({
  alias: 'os-hosts',
  routes: [
    translatedRoute({
      method: 'get',
      path: '/v2.1/os-hosts',
      summary: 'List hosts and the service each runs (admin; before 2.43)',
      target: v3Route(hostsExtension, 'get', HOSTS),
      responses: { 200: 'hosts: [{host_name, service, zone}]' },
    }),
    translatedRoute({
      method: 'get',
      path: '/v2.1/os-hosts/:host_name',
      summary: "A compute host's capacity and use, in total and by project (admin; before 2.43)",
      target: v3Route(hostsExtension, 'get', `${HOSTS}/:host_name`),
      responses: { 200: 'host: [{resource: {host, project, cpu, memory_mb, disk_gb}}]' },
    }),
    translatedRoute({
      method: 'put',
      path: '/v2.1/os-hosts/:host_name',
      summary:
        "Enable or disable a host's compute service, or put it in or out of maintenance (admin; before 2.43)",
      body: UpdateHost,
      target: v3Route(hostsExtension, 'put', `${HOSTS}/:host_name`),
      responses: { 200: 'host, and status and/or maintenance_mode as asked' },
      request: (_c, body) => ({ host: body }),
      response: (_c, body) => ({ body: (body as { host: Record<string, unknown> }).host }),
    }),
    ...(['startup', 'shutdown', 'reboot'] as const).map((action) =>
      translatedRoute({
        method: 'get',
        path: `/v2.1/os-hosts/:host_name/${action}`,
        summary: `Power action ${action} on a compute host (admin; before 2.43): 501, no virt driver here can`,
        target: v3Route(hostsExtension, 'get', `${HOSTS}/:host_name/${action}`),
        responses: { 200: 'host, power_action (never: every driver answers 501)' },
      }),
    ),
  ].map((served) => removedAt(43, served)),
  microversions: [
    {
      minor: 43,
      change: 'every os-hosts route is gone',
      routes: ['/v2.1/os-hosts', '/v2.1/os-hosts/{host_name}'],
    },
  ],
});
