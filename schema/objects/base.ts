import * as v from 'valibot';

// Versioned objects decouple what travels (to agents, between releases) from the schema. The wire
// format is Nova's primitive so mixed-version fleets can tell what they are looking at.
export const OBJECT_NAMESPACE = 'nova';

export interface ObjectPrimitive<TData> {
  'nova_object.name': string;
  'nova_object.namespace': string;
  'nova_object.version': string;
  'nova_object.data': TData;
  'nova_object.changes'?: string[];
}

export interface ObjectVersion {
  major: number;
  minor: number;
}

export function parseVersion(version: string): ObjectVersion {
  const match = /^(\d+)\.(\d+)$/.exec(version);
  if (!match) throw new Error(`Invalid object version '${version}': expected major.minor`);
  return { major: Number(match[1]), minor: Number(match[2]) };
}

export interface VersionedObjectType<TSchema extends v.GenericSchema<Record<string, unknown>>> {
  readonly name: string;
  readonly version: string;
  readonly fields: TSchema;
  /** What each minor version added, newest last; the fields named here are dropped when backporting below it. */
  readonly history: ReadonlyArray<{ version: string; added: ReadonlyArray<string>; note: string }>;
}

export function defineObject<TSchema extends v.GenericSchema<Record<string, unknown>>>(
  definition: VersionedObjectType<TSchema>,
): VersionedObjectType<TSchema> {
  return definition;
}

export class IncompatibleObjectVersion extends Error {
  override readonly name = 'IncompatibleObjectVersion';
}

/**
 * Backports `data` to `targetVersion` by dropping every field a later minor version added.
 * A different major version cannot be made compatible: the receiver must be upgraded first.
 */
export function makeCompatible<TSchema extends v.GenericSchema<Record<string, unknown>>>(
  type: VersionedObjectType<TSchema>,
  data: v.InferOutput<TSchema>,
  targetVersion: string,
): ObjectPrimitive<Record<string, unknown>> {
  const current = parseVersion(type.version);
  const target = parseVersion(targetVersion);
  if (target.major !== current.major || target.minor > current.minor) {
    throw new IncompatibleObjectVersion(
      `${type.name} ${type.version} cannot be sent as version ${targetVersion}: the receiver must understand ${current.major}.x`,
    );
  }
  const backported: Record<string, unknown> = { ...data };
  for (const step of type.history) {
    if (parseVersion(step.version).minor > target.minor) {
      for (const field of step.added) delete backported[field];
    }
  }
  return {
    'nova_object.name': type.name,
    'nova_object.namespace': OBJECT_NAMESPACE,
    'nova_object.version': targetVersion,
    'nova_object.data': backported,
  };
}

/** Validates a received primitive against a type the receiver implements (same major, minor not newer). */
export function fromPrimitive<TSchema extends v.GenericSchema<Record<string, unknown>>>(
  type: VersionedObjectType<TSchema>,
  primitive: unknown,
): v.InferOutput<TSchema> {
  const envelope = v.parse(
    v.object({
      'nova_object.name': v.literal(type.name),
      'nova_object.namespace': v.literal(OBJECT_NAMESPACE),
      'nova_object.version': v.string(),
      'nova_object.data': v.record(v.string(), v.unknown()),
    }),
    primitive,
  );
  const received = parseVersion(envelope['nova_object.version']);
  const implemented = parseVersion(type.version);
  if (received.major !== implemented.major || received.minor > implemented.minor) {
    throw new IncompatibleObjectVersion(
      `${type.name} ${envelope['nova_object.version']} is not understood here (implements ${type.version})`,
    );
  }
  return v.parse(type.fields, envelope['nova_object.data']);
}
