import { hintList } from '../hints.ts';
import type { HostFilter } from './filter.ts';

export const differentHostFilter: HostFilter = {
  name: 'DifferentHostFilter',
  description: 'The host runs none of the servers named by the different_host hint.',
  hints: ['different_host'],
  needs: (spec) => (hintList(spec.scheduler_hints.different_host).length > 0 ? ['instance_nodes'] : []),
  passes(host, spec, _context, facts) {
    const present = hintList(spec.scheduler_hints.different_host).filter((uuid) =>
      facts.instanceNodes.get(uuid)?.has(host.id),
    );
    return present.length === 0 ? null : `the host runs different_host server ${present.join(', ')}`;
  },
};
