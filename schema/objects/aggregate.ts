import * as v from 'valibot';
import { defineObject, type ReceivedData } from './base.ts';
import { StringMap, Uuid } from './fields.ts';

// A named group of hosts with metadata (schema/tables/aggregates.ts, its hosts and metadata rows folded in).
export const AggregateObject = defineObject({
  name: 'Aggregate',
  version: '1.1',
  fields: v.object({
    name: v.string(),
    hosts: v.array(v.string()),
    metadata: StringMap,
    uuid: Uuid,
  }),
  history: [
    { version: '1.0', added: [], note: 'initial version' },
    { version: '1.1', added: ['uuid'], note: 'a stable id that survives renames' },
  ],
});

export type AggregateData = ReceivedData<typeof AggregateObject>;
