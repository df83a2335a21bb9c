import * as v from 'valibot';
import { defineObject, type ReceivedData } from './base.ts';
import { Count } from './fields.ts';

// The sizes an instance was created with (schema/tables/instances.ts FlavorSnapshot), as hosts see them.
export const FlavorObject = defineObject({
  name: 'Flavor',
  version: '1.1',
  fields: v.object({
    flavorid: v.string(),
    name: v.string(),
    memory_mb: Count,
    vcpus: Count,
    root_gb: Count,
    ephemeral_gb: Count,
    swap: Count,
  }),
  history: [
    { version: '1.0', added: [], note: 'initial version: the sizes every driver needs' },
    { version: '1.1', added: ['ephemeral_gb', 'swap'], note: 'drivers create ephemeral and swap disks' },
  ],
});

export type FlavorData = ReceivedData<typeof FlavorObject>;
