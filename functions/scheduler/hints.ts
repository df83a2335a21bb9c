import * as v from 'valibot';

/** A scheduler hint a filter reads: how clients spell it, what it means, and the shape it must have. */
export interface HintDefinition {
  name: string;
  description: string;
  schema: v.GenericSchema;
  /** The same shape as JSON Schema, for `GET /v3/os-scheduler-hints`. */
  jsonSchema: Record<string, unknown>;
}

const UUID_PATTERN = '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$';
const Uuid = v.pipe(v.string(), v.uuid('must be a server uuid'));
const UuidOrList = v.union(
  [Uuid, v.pipe(v.array(Uuid), v.minLength(1), v.maxLength(100))],
  'must be a server uuid or a list of them',
);
const uuidOrListJson = {
  oneOf: [
    { type: 'string', pattern: UUID_PATTERN },
    { type: 'array', items: { type: 'string', pattern: UUID_PATTERN }, minItems: 1, maxItems: 100 },
  ],
};

export const HINTS = {
  same_host: {
    name: 'same_host',
    description: 'Place the server on a host that runs any of these servers.',
    schema: UuidOrList,
    jsonSchema: uuidOrListJson,
  },
  different_host: {
    name: 'different_host',
    description: 'Place the server on a host that runs none of these servers.',
    schema: UuidOrList,
    jsonSchema: uuidOrListJson,
  },
  group: {
    name: 'group',
    description:
      "A server group name, scoped to the project: its members follow the group's `group_policy` (anti-affinity unless said otherwise).",
    schema: v.pipe(v.string(), v.minLength(1), v.maxLength(255)),
    jsonSchema: { type: 'string', minLength: 1, maxLength: 255 },
  },
  group_policy: {
    name: 'group_policy',
    description:
      'How the members of `group` are placed: all on one host (affinity) or each on its own (anti-affinity).',
    schema: v.picklist(['affinity', 'anti-affinity'], 'must be affinity or anti-affinity'),
    jsonSchema: { type: 'string', enum: ['affinity', 'anti-affinity'] },
  },
  query: {
    name: 'query',
    description:
      'A JSON-encoded expression over host attributes, e.g. ["and", [">=", "$free_ram_mb", 1024], ["=", "$hypervisor_type", "fake"]].',
    schema: v.pipe(
      v.string(),
      v.maxLength(4096),
      v.check((text) => {
        try {
          return Array.isArray(JSON.parse(text));
        } catch {
          return false;
        }
      }, 'must be a JSON-encoded list expression'),
    ),
    jsonSchema: { type: 'string', maxLength: 4096, contentMediaType: 'application/json' },
  },
} as const satisfies Record<string, HintDefinition>;

export type HintName = keyof typeof HINTS;

/** Hint values as one list: a single uuid and a list of them mean the same. */
export function hintList(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  return Array.isArray(value) ? value.filter((item): item is string => typeof item === 'string') : [];
}

export function hintString(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}
