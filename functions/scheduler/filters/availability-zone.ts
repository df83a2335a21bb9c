import { eq } from 'drizzle-orm';
import { computeNodes } from '../../../schema/tables/index.ts';
import type { HostFilter } from './filter.ts';

export const availabilityZoneFilter: HostFilter = {
  name: 'AvailabilityZoneFilter',
  sql: (spec) =>
    spec.availability_zone === null ? undefined : eq(computeNodes.availability_zone, spec.availability_zone),
};
