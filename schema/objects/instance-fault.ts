import * as v from 'valibot';
import { defineObject, type ReceivedData } from './base.ts';
import { Timestamp, Uuid } from './fields.ts';

// Why an instance went to ERROR, as the user sees it (schema/tables/instances.ts instance_faults).
export const InstanceFaultObject = defineObject({
  name: 'InstanceFault',
  version: '1.0',
  fields: v.object({
    instance_uuid: Uuid,
    code: v.pipe(v.number(), v.integer()),
    message: v.string(),
    details: v.nullable(v.string()),
    host: v.nullable(v.string()),
    created_at: Timestamp,
  }),
  history: [{ version: '1.0', added: [], note: 'initial version' }],
});

export type InstanceFaultData = ReceivedData<typeof InstanceFaultObject>;
