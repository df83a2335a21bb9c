import * as v from 'valibot';
import { defineObject, type ObjectData, objectField, type ReceivedData } from './base.ts';
import { FlavorObject } from './flavor.ts';
import { NetworkInfo } from './network-info.ts';

// What an agent needs to know about an instance to act on it; never the whole row.
export const InstanceObject = defineObject({
  name: 'Instance',
  version: '1.4',
  fields: v.object({
    uuid: v.pipe(v.string(), v.uuid()),
    name: v.string(),
    project_id: v.string(),
    image_ref: v.string(),
    memory_mb: v.number(),
    vcpus: v.number(),
    root_gb: v.number(),
    host: v.nullable(v.string()),
    node: v.nullable(v.string()),
    availability_zone: v.nullable(v.string()),
    metadata: v.record(v.string(), v.string()),
    flavor: objectField(FlavorObject),
    network_info: NetworkInfo,
  }),
  nested: { flavor: FlavorObject },
  history: [
    { version: '1.0', added: [], note: 'initial version' },
    {
      version: '1.1',
      added: ['availability_zone', 'metadata'],
      note: 'the host can tell the guest its zone and user metadata (config drive)',
    },
    {
      version: '1.2',
      added: ['flavor'],
      note: 'the whole flavor as a nested Flavor, for drivers that need more than memory, vcpus and disk',
      children: { flavor: '1.0' },
    },
    {
      version: '1.3',
      added: [],
      note: 'carries Flavor 1.1 (ephemeral and swap sizes)',
      children: { flavor: '1.1' },
    },
    {
      version: '1.4',
      added: ['network_info'],
      note: 'the virtual interfaces the host plugs (MAC, addresses, network); an older agent plugs none',
    },
  ],
});

/** What the control plane builds: every field of the current version. */
export type InstanceFields = ObjectData<typeof InstanceObject>;
/** What an agent receives: fields added after 1.0 are missing when the sender backported below them. */
export type InstanceData = ReceivedData<typeof InstanceObject>;
