import { lt } from 'drizzle-orm';
import { computeNodes } from '../../../schema/tables/index.ts';
import type { HostFilter } from './filter.ts';

export const numInstancesFilter: HostFilter = {
  name: 'NumInstancesFilter',
  description: "The host runs fewer instances than the policy's max_instances_per_host.",
  hints: [],
  sql: (_spec, { settings }) => lt(computeNodes.running_vms, settings.max_instances_per_host),
  passes: (host, _spec, { settings }) =>
    host.running_vms < settings.max_instances_per_host
      ? null
      : `the host runs ${host.running_vms} instances, the limit is ${settings.max_instances_per_host}`,
};
