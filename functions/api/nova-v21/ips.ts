import { type Addresses, ipsExtension } from '../nova/ips.ts';
import { defineFace, translatedRoute, v3Route } from './face.ts';
import { strictQuery } from './query.ts';

// Server addresses by network label, as v3 serves them from the instance network cache, under v2.1's
// names: Nova's OS-EXT-IPS and OS-EXT-IPS-MAC attributes are part of every v2.1 address.

export interface V21Address {
  version: number;
  addr: string;
  'OS-EXT-IPS:type': string;
  'OS-EXT-IPS-MAC:mac_addr': string;
}

/** v3's addresses (a server view's, or /ips') in v2.1's form. */
export function v21Addresses(addresses: Addresses): Record<string, V21Address[]> {
  return Object.fromEntries(
    Object.entries(addresses).map(([label, entries]) => [
      label,
      entries.map((entry) => ({
        version: entry.version,
        addr: entry.addr,
        'OS-EXT-IPS:type': entry.type,
        'OS-EXT-IPS-MAC:mac_addr': entry.mac_addr,
      })),
    ]),
  );
}

/** The v2.1 list and per-network answers: v3's with every label's addresses renamed. */
function renamedAddresses(body: unknown): Record<string, unknown> {
  const answer = (body ?? {}) as Record<string, unknown>;
  if ('addresses' in answer) return { addresses: v21Addresses(answer.addresses as Addresses) };
  return v21Addresses(answer as Addresses);
}
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
        response: (_c, body) => ({ body: renamedAddresses(body) }),
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
        response: (_c, body) => ({ body: renamedAddresses(body) }),
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
