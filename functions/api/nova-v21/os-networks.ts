import { AddNetwork, CreateNetwork, NetworkAction, networksExtension } from '../nova/os-networks.ts';
import { defineFace, translatedRoute, v3Route } from './face.ts';
import { removedAt } from './microversion.ts';
import { novaTime, novaTimeOrNull } from './nova-time.ts';

// os-networks (nova-network, deprecated): v3's routes under the same names until 2.35; from 2.36 every
// route is gone, as Nova's network proxy APIs were. Admin views carry Nova's times.
const NETWORKS = '/v3/os-networks';

type NetworkView = Record<string, unknown> & { created_at?: string; updated_at?: string | null };

function networkV21(network: NetworkView): NetworkView {
  if (network.created_at === undefined) return network;
  return {
    ...network,
    created_at: novaTime(network.created_at),
    updated_at: novaTimeOrNull(network.updated_at),
  };
}

export const networksFace = defineFace({
  alias: 'os-networks',
  routes: [
    translatedRoute({
      method: 'get',
      path: '/v2.1/os-networks',
      summary: 'List networks (before 2.36; deprecated)',
      target: v3Route(networksExtension, 'get', NETWORKS),
      responses: { 200: 'networks: [{id, label, cidr, ...}]' },
      response: (_c, body) => ({
        body: { networks: (body as { networks: NetworkView[] }).networks.map(networkV21) },
      }),
    }),
    translatedRoute({
      method: 'get',
      path: '/v2.1/os-networks/:network_id',
      summary: 'Show a network (before 2.36; deprecated)',
      target: v3Route(networksExtension, 'get', `${NETWORKS}/:network_id`),
      responses: { 200: 'network: {id, label, cidr, ...}' },
      response: (_c, body, status) =>
        status === 200
          ? { body: { network: networkV21((body as { network: NetworkView }).network) } }
          : { body },
    }),
    translatedRoute({
      method: 'post',
      path: '/v2.1/os-networks',
      summary: 'Create a network (admin; before 2.36; deprecated)',
      body: CreateNetwork,
      target: v3Route(networksExtension, 'post', NETWORKS),
      responses: { 200: 'network: {id, label, cidr, ...}' },
      response: (_c, body) => ({ body: { network: networkV21((body as { network: NetworkView }).network) } }),
    }),
    translatedRoute({
      method: 'delete',
      path: '/v2.1/os-networks/:network_id',
      summary: 'Delete a network (admin; before 2.36; deprecated)',
      target: v3Route(networksExtension, 'delete', `${NETWORKS}/:network_id`),
      responses: { 202: 'deleted' },
    }),
    translatedRoute({
      method: 'post',
      path: '/v2.1/os-networks/add',
      summary: "Give the caller's project a VLAN network (admin; before 2.36; deprecated)",
      body: AddNetwork,
      target: v3Route(networksExtension, 'post', `${NETWORKS}/add`),
      responses: { 202: 'associated' },
    }),
    translatedRoute({
      method: 'post',
      path: '/v2.1/os-networks/:network_id/action',
      summary:
        'disassociate, disassociate_host, disassociate_project, associate_host (admin; before 2.36; deprecated)',
      body: NetworkAction,
      target: v3Route(networksExtension, 'post', `${NETWORKS}/:network_id/action`),
      responses: { 202: 'done' },
    }),
  ].map((served) => removedAt(36, served)),
  microversions: [
    {
      minor: 36,
      change: 'every os-networks route is gone (network proxy APIs)',
      routes: ['/v2.1/os-networks', '/v2.1/os-networks/{network_id}'],
    },
  ],
});
