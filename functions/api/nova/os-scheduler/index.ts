import { defineExtension } from '../extension.ts';
import { dedicatedHostRoutes } from './dedicated-hosts.ts';
import { hostCapabilityRoutes } from './host-capabilities.ts';
import { policyRoutes } from './policies.ts';
import { policyBindingRoutes } from './policy-bindings.ts';
import { selectDestinationsRoutes } from './select-destinations.ts';

// The os-scheduler extension: one file per resource it serves, listed here the way filters/index.ts
// lists the filters (index.ts rather than extension.ts, which would read as ../extension.ts, the
// definition of every extension). Admin bodies refuse keys they do not know: a misspelt field
// (flavor_id for flavor_ref, a setting's name) would otherwise be dropped, and the dry run or the
// policy would quietly answer something else.
export const schedulerExtension = defineExtension({
  alias: 'os-scheduler',
  name: 'Scheduler',
  description:
    'Admin access to the scheduler: dry-run select-destinations, scheduling policies and their bindings, dedicated hosts, host capabilities.',
  version: 1,
  core: false,
  history: [
    {
      version: 1,
      change: 'select-destinations dry run, policies with bindings, dedicated hosts, host capabilities',
    },
  ],
  routes: [
    ...selectDestinationsRoutes,
    ...policyRoutes,
    ...policyBindingRoutes,
    ...dedicatedHostRoutes,
    ...hostCapabilityRoutes,
  ],
});
