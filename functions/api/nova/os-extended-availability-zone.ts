import { defineExtension } from './extension.ts';

/** Havana's os-extended-availability-zone: the zone a server was booted into. */
export const extendedAvailabilityZoneExtension = defineExtension({
  alias: 'os-extended-availability-zone',
  name: 'ExtendedAvailabilityZone',
  description: 'Extended Availability Zone support: the availability zone of servers.',
  version: 1,
  core: false,
  history: [{ version: 1, change: 'availability_zone of servers ("" when none was asked for)' }],
  routes: [],
  serverAttributes: (_c, instance) => ({
    'os-extended-availability-zone:availability_zone': instance.availability_zone ?? '',
  }),
});
