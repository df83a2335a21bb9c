import * as v from 'valibot';
import { defineObject, type ReceivedData } from './base.ts';
import { Count, Timestamp } from './fields.ts';

// A running binary on a host (schema/tables/services.ts): whether it is enabled and when it was last seen.
export const ServiceObject = defineObject({
  name: 'Service',
  version: '1.1',
  fields: v.object({
    host: v.string(),
    binary: v.string(),
    topic: v.string(),
    availability_zone: v.string(),
    disabled: v.boolean(),
    disabled_reason: v.nullable(v.string()),
    report_count: Count,
    last_seen_at: v.nullable(Timestamp),
    forced_down: v.boolean(),
  }),
  history: [
    { version: '1.0', added: [], note: 'initial version' },
    {
      version: '1.1',
      added: ['forced_down'],
      note: 'an operator can mark a host down at once, without waiting for missed reports',
    },
  ],
});

export type ServiceData = ReceivedData<typeof ServiceObject>;
