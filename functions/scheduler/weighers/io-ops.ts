import type { HostWeigher } from './weigher.ts';

export const ioOpsWeigher: HostWeigher = {
  name: 'IoOpsWeigher',
  description:
    'Instances building or in a disk-heavy task on the host; the default multiplier (negative) prefers quiet hosts.',
  defaultMultiplier: -1,
  needs: () => ['io_ops'],
  weigh: (host, _spec, _context, facts) => facts.ioOps.get(host.id) ?? 0,
};
