import * as v from 'valibot';
import { defineObject, type ReceivedData } from './base.ts';
import { Count, Uuid } from './fields.ts';

const HostName = v.nullable(v.string());

// One move of an instance between hosts (schema/tables/migrations.ts); hosts learn both ends from it.
export const MigrationObject = defineObject({
  name: 'Migration',
  version: '1.1',
  fields: v.object({
    instance_uuid: Uuid,
    status: v.string(),
    source_compute: HostName,
    source_node: HostName,
    dest_compute: HostName,
    dest_node: HostName,
    dest_host: HostName,
    old_flavorid: v.nullable(v.string()),
    new_flavorid: v.nullable(v.string()),
    migration_type: v.picklist(['migration', 'resize', 'live-migration', 'evacuation']),
    progress: v.pipe(Count, v.maxValue(100)),
  }),
  history: [
    { version: '1.0', added: [], note: 'initial version: the two ends and the status' },
    {
      version: '1.1',
      added: ['migration_type', 'progress'],
      note: 'one family of moves: hosts tell a resize from a live migration, and report progress',
    },
  ],
});

export type MigrationData = ReceivedData<typeof MigrationObject>;
