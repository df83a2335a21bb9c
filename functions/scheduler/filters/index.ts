import { agentCommandsFilter } from './agent-commands.ts';
import { aggregateInstanceExtraSpecsFilter } from './aggregate-instance-extra-specs.ts';
import { aggregateMultiTenancyIsolation } from './aggregate-multi-tenancy-isolation.ts';
import { availabilityZoneFilter } from './availability-zone.ts';
import { computeFilter } from './compute.ts';
import { computeCapabilitiesFilter } from './compute-capabilities.ts';
import { coreFilter } from './core.ts';
import { dedicatedHostsFilter } from './dedicated-hosts.ts';
import { differentHostFilter } from './different-host.ts';
import { diskFilter } from './disk.ts';
import type { HostFilter } from './filter.ts';
import { imagePropertiesFilter } from './image-properties.ts';
import { ioOpsFilter } from './io-ops.ts';
import { jsonQueryFilter } from './json-query.ts';
import { metricsFilter } from './metrics.ts';
import { numInstancesFilter } from './num-instances.ts';
import { ramFilter } from './ram.ts';
import { retryFilter } from './retry.ts';
import { sameHostFilter } from './same-host.ts';
import { serverGroupAffinityFilter } from './server-group-affinity.ts';
import { serverGroupAntiAffinityFilter } from './server-group-anti-affinity.ts';

/** Every filter a policy may name, listed explicitly (no discovery), cheapest questions first. */
export const FILTERS: readonly HostFilter[] = [
  computeFilter,
  availabilityZoneFilter,
  retryFilter,
  agentCommandsFilter,
  ramFilter,
  coreFilter,
  diskFilter,
  dedicatedHostsFilter,
  aggregateMultiTenancyIsolation,
  numInstancesFilter,
  aggregateInstanceExtraSpecsFilter,
  computeCapabilitiesFilter,
  imagePropertiesFilter,
  sameHostFilter,
  differentHostFilter,
  serverGroupAffinityFilter,
  serverGroupAntiAffinityFilter,
  ioOpsFilter,
  jsonQueryFilter,
  metricsFilter,
];

export const FILTERS_BY_NAME: ReadonlyMap<string, HostFilter> = new Map(
  FILTERS.map((filter) => [filter.name, filter]),
);
