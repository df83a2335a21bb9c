import type { HostFilter } from './filter.ts';

export const ioOpsFilter: HostFilter = {
  name: 'IoOpsFilter',
  description:
    "The host has fewer instances building or in a disk-heavy task (resize, rebuild, snapshot) than the policy's max_io_ops_per_host.",
  hints: [],
  needs: () => ['io_ops'],
  passes(host, _spec, { settings }, facts) {
    const ioOps = facts.ioOps.get(host.id) ?? 0;
    return ioOps < settings.max_io_ops_per_host
      ? null
      : `the host has ${ioOps} I/O-heavy operations running, the limit is ${settings.max_io_ops_per_host}`;
  },
};
