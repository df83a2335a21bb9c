import { type Route, route } from '../route.ts';
import { serverToRead } from './server-tags.ts';

// GET /servers/{id}/topology (compute 2.78): the guest's NUMA cells and their host cells. No hypervisor
// here gives a guest a NUMA topology, so every server answers what Nova answers for a server without
// one, whoever asks (the host cells Nova shows admins are part of the cells).
export const SERVER_TOPOLOGY_ROUTE: Route = route({
  method: 'get',
  path: '/v2.1/servers/:server_id/topology',
  summary: "Show a server's NUMA topology",
  since: 78,
  responses: { 200: 'nodes ([]: no NUMA topology) and pagesize_kb (null)' },
  handler: async (c) => {
    await serverToRead(c);
    return c.json({ nodes: [], pagesize_kb: null });
  },
});
