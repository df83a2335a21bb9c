import type { HostFilter } from './filter.ts';
import { requestedGroup } from './server-group.ts';

export const serverGroupAffinityFilter: HostFilter = {
  name: 'ServerGroupAffinityFilter',
  description:
    'With group_policy affinity: once a member of the group is placed, the others go to a host where members are.',
  hints: ['group', 'group_policy'],
  needs: (spec) => (requestedGroup(spec)?.policy === 'affinity' ? ['group_nodes'] : []),
  passes(host, spec, _context, facts) {
    const group = requestedGroup(spec);
    if (group?.policy !== 'affinity' || facts.groupNodes.size === 0) return null;
    return facts.groupNodes.has(host.id) ? null : `no member of affinity group ${group.name} is on this host`;
  },
};
