import * as v from 'valibot';
import { defineObject } from './base.ts';

// What an agent needs to know about an instance to act on it; never the whole row.
export const InstanceObject = defineObject({
  name: 'Instance',
  version: '1.0',
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
  }),
  history: [{ version: '1.0', added: [], note: 'initial version' }],
});

export type InstanceData = v.InferOutput<typeof InstanceObject.fields>;
