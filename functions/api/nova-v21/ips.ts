import { ipsExtension } from '../nova/ips.ts';
import { defineFace, translatedRoute, v3Route } from './face.ts';
import { strictQuery } from './query.ts';

// Server addresses by network label, as v3 serves them: no networking service assigns any yet, so a
// server has none and every label is unknown (404).
export const ipsFace = defineFace({
  alias: 'ips',
  routes: [
    strictQuery(
      translatedRoute({
        method: 'get',
        path: '/v2.1/servers/:server_id/ips',
        summary: "List a server's addresses",
        target: v3Route(ipsExtension, 'get', '/v3/servers/:server_id/ips'),
        responses: { 200: 'addresses: {network_label: [address]}' },
      }),
      102,
    ),
    strictQuery(
      translatedRoute({
        method: 'get',
        path: '/v2.1/servers/:server_id/ips/:network_label',
        summary: "List a server's addresses on one network",
        target: v3Route(ipsExtension, 'get', '/v3/servers/:server_id/ips/:network_label'),
        responses: { 200: '{network_label: [address]}' },
      }),
      102,
    ),
  ],
  microversions: [
    {
      minor: 102,
      change: 'unknown query parameters are a 400 on every GET',
      routes: ['/v2.1/servers/{server_id}/ips', '/v2.1/servers/{server_id}/ips/{network_label}'],
    },
  ],
});
