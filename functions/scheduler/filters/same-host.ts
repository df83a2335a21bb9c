import { hintList } from '../hints.ts';
import type { HostFilter } from './filter.ts';

export const sameHostFilter: HostFilter = {
  name: 'SameHostFilter',
  description: 'The host runs at least one of the servers named by the same_host hint.',
  hints: ['same_host'],
  needs: (spec) => (hintList(spec.scheduler_hints.same_host).length > 0 ? ['instance_nodes'] : []),
  passes(host, spec, _context, facts) {
    const servers = hintList(spec.scheduler_hints.same_host);
    if (servers.length === 0) return null;
    return servers.some((uuid) => facts.instanceNodes.get(uuid)?.has(host.id))
      ? null
      : `the host runs none of the same_host servers ${servers.join(', ')}`;
  },
};
