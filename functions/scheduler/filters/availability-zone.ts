import { eq } from 'drizzle-orm';
import { computeNodes } from '../../../schema/tables/index.ts';
import type { HostFilter } from './filter.ts';

export const availabilityZoneFilter: HostFilter = {
  name: 'AvailabilityZoneFilter',
  description: 'The host is in the requested availability zone.',
  hints: [],
  sql: (spec) =>
    spec.availability_zone === null ? undefined : eq(computeNodes.availability_zone, spec.availability_zone),
  passes: (host, spec) =>
    spec.availability_zone === null || host.availability_zone === spec.availability_zone
      ? null
      : `the host is in availability zone ${host.availability_zone}, not ${spec.availability_zone}`,
};
