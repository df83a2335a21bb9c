import { eq, isNull, or } from 'drizzle-orm';
import { computeNodes } from '../../../schema/tables/index.ts';
import { wantsDedicatedHost } from '../request-spec.ts';
import type { HostFilter } from './filter.ts';

// Whole hosts for one project: nobody else lands on them, and the project's `dedicated=true` flavors
// land only on them.
export const dedicatedHostsFilter: HostFilter = {
  name: 'DedicatedHostsFilter',
  description:
    'A host dedicated to a project takes only that project; a flavor with extra spec dedicated=true needs a host dedicated to the project.',
  hints: [],
  sql: (spec) =>
    wantsDedicatedHost(spec)
      ? eq(computeNodes.dedicated_to, spec.project_id)
      : or(isNull(computeNodes.dedicated_to), eq(computeNodes.dedicated_to, spec.project_id)),
  passes(host, spec) {
    if (host.dedicated_to !== null && host.dedicated_to !== spec.project_id)
      return `the host is dedicated to project ${host.dedicated_to}`;
    if (wantsDedicatedHost(spec) && host.dedicated_to === null)
      return 'the flavor needs a dedicated host and this host is shared';
    return null;
  },
};
