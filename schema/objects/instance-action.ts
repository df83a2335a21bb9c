import * as v from 'valibot';
import { defineObject, objectField, type ReceivedData } from './base.ts';
import { Timestamp, Uuid } from './fields.ts';

// One step of an action, e.g. compute_spawn on a host (schema/tables/instances.ts instance_action_events).
export const InstanceActionEventObject = defineObject({
  name: 'InstanceActionEvent',
  version: '1.1',
  fields: v.object({
    event: v.string(),
    start_time: Timestamp,
    finish_time: v.nullable(Timestamp),
    result: v.nullable(v.string()),
    traceback: v.nullable(v.string()),
    host: v.nullable(v.string()),
  }),
  history: [
    { version: '1.0', added: [], note: 'initial version' },
    { version: '1.1', added: ['host'], note: 'names the host the event ran on, for moves between hosts' },
  ],
});

// What a user asked of an instance and how it went (schema/tables/instances.ts instance_actions).
export const InstanceActionObject = defineObject({
  name: 'InstanceAction',
  version: '1.2',
  fields: v.object({
    action: v.string(),
    instance_uuid: Uuid,
    request_id: v.string(),
    project_id: v.string(),
    user_id: v.string(),
    start_time: Timestamp,
    finish_time: v.nullable(Timestamp),
    message: v.nullable(v.string()),
    events: v.array(objectField(InstanceActionEventObject)),
  }),
  nested: { events: InstanceActionEventObject },
  history: [
    { version: '1.0', added: [], note: 'initial version' },
    {
      version: '1.1',
      added: ['events'],
      note: 'carries its events, so showing an action needs no second lookup',
      children: { events: '1.0' },
    },
    {
      version: '1.2',
      added: [],
      note: 'carries InstanceActionEvent 1.1 (host)',
      children: { events: '1.1' },
    },
  ],
});

export type InstanceActionEventData = ReceivedData<typeof InstanceActionEventObject>;
export type InstanceActionData = ReceivedData<typeof InstanceActionObject>;
