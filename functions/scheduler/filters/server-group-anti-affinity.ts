import type { HostFilter } from './filter.ts';
import { requestedGroup } from './server-group.ts';

export const serverGroupAntiAffinityFilter: HostFilter = {
  name: 'ServerGroupAntiAffinityFilter',
  description:
    'With group_policy anti-affinity (the default for a group): no other member of the group is on the host.',
  hints: ['group', 'group_policy'],
  needs: (spec) => (requestedGroup(spec)?.policy === 'anti-affinity' ? ['group_nodes'] : []),
  passes(host, spec, _context, facts) {
    const group = requestedGroup(spec);
    if (group?.policy !== 'anti-affinity') return null;
    return facts.groupNodes.has(host.id)
      ? `a member of anti-affinity group ${group.name} is on this host`
      : null;
  },
};
