import * as v from 'valibot';

// Versioned objects decouple what travels (to agents, between releases) from the schema. The wire
// format is Nova's primitive so mixed-version fleets can tell what they are looking at.
export const OBJECT_NAMESPACE = 'nova';

export interface ObjectPrimitive<TData = Record<string, unknown>> {
  'nova_object.name': string;
  'nova_object.namespace': string;
  'nova_object.version': string;
  'nova_object.data': TData;
  /** Fields the sender changed since the object was loaded; present only when there are some. */
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

export interface ObjectHistoryEntry<TField extends string = string> {
  readonly version: string;
  /** Fields this version added; the first entry adds none (its fields are all the others). */
  readonly added: readonly TField[];
  readonly note: string;
  /** For fields holding other objects: the child version this version carries (Nova's child_versions). */
  readonly children?: Readonly<Record<string, string>>;
}

export interface VersionedObjectType<
  TEntries extends v.ObjectEntries = v.ObjectEntries,
  TLater extends string = string,
> {
  readonly name: string;
  /** The newest version, which must be the last history entry. */
  readonly version: string;
  readonly fields: v.ObjectSchema<TEntries, undefined>;
  /** What each minor version added, oldest first; later fields are dropped when backporting below them. */
  readonly history: readonly ObjectHistoryEntry<TLater>[];
  /** Fields whose value is another object (or a list of them), sent as nested primitives. */
  readonly nested: Readonly<Record<string, VersionedObjectType>>;
}

/** Everything the current version carries: what a sender builds. */
export type ObjectData<T> =
  T extends VersionedObjectType<infer TEntries, string>
    ? v.InferOutput<v.ObjectSchema<TEntries, undefined>>
    : never;

type Simplify<T> = { [K in keyof T]: T[K] };

/** What a receiver can count on: fields added after the first version may be missing (older sender). */
export type ReceivedData<T> =
  T extends VersionedObjectType<infer TEntries, infer TLater>
    ? Simplify<
        Omit<v.InferOutput<v.ObjectSchema<TEntries, undefined>>, TLater> &
          Partial<Pick<v.InferOutput<v.ObjectSchema<TEntries, undefined>>, TLater>>
      >
    : never;

export class IncompatibleObjectVersion extends Error {
  override readonly name = 'IncompatibleObjectVersion';

  constructor(
    readonly objectName: string,
    readonly requestedVersion: string,
    readonly supportedVersion: string,
    reason: string,
  ) {
    super(`${objectName} ${requestedVersion}: ${reason}`);
  }
}

function isNewer(candidate: ObjectVersion, than: ObjectVersion): boolean {
  return candidate.major > than.major || (candidate.major === than.major && candidate.minor > than.minor);
}

/** Every inconsistency of a definition's history; empty when the definition is sound. */
export function historyProblems(type: VersionedObjectType): string[] {
  const problems: string[] = [];
  const fieldNames = Object.keys(type.fields.entries);
  const [first, ...later] = type.history;
  if (!first) return [`${type.name} has no history`];
  if (first.added.length > 0)
    problems.push(`${type.name} ${first.version} is the first version: it cannot add fields`);
  if (parseVersion(first.version).minor !== 0)
    problems.push(`${type.name} history starts at ${first.version}, not at a .0 version`);
  const seen = new Set<string>();
  let previous = parseVersion(first.version);
  for (const step of later) {
    const current = parseVersion(step.version);
    if (current.major !== previous.major || current.minor !== previous.minor + 1)
      problems.push(`${type.name} ${step.version} does not follow ${previous.major}.${previous.minor}`);
    for (const field of step.added) {
      if (!fieldNames.includes(field))
        problems.push(`${type.name} ${step.version} adds '${field}', which is not one of its fields`);
      if (seen.has(field)) problems.push(`${type.name} ${step.version} adds '${field}' a second time`);
      seen.add(field);
    }
    previous = current;
  }
  for (const step of type.history) {
    for (const [field, childVersion] of Object.entries(step.children ?? {})) {
      const child = type.nested[field];
      if (!child)
        problems.push(`${type.name} ${step.version} names '${field}' as a child, but it holds no object`);
      else if (isNewer(parseVersion(childVersion), parseVersion(child.version)))
        problems.push(
          `${type.name} ${step.version} carries ${child.name} ${childVersion}, newer than ${child.version}`,
        );
    }
  }
  const last = type.history[type.history.length - 1];
  if (last?.version !== type.version)
    problems.push(`${type.name} is version ${type.version} but its history ends at ${last?.version}`);
  for (const field of Object.keys(type.nested)) {
    if (!fieldNames.includes(field))
      problems.push(`${type.name} nests '${field}', which is not one of its fields`);
  }
  return problems;
}

/**
 * Declares an object. An inconsistent history throws at import, so a bad bump never reaches a fleet.
 * `added` only accepts field names of `fields`, checked by the compiler as well.
 */
export function defineObject<
  const TEntries extends v.ObjectEntries,
  const TLater extends keyof TEntries & string = never,
>(definition: {
  name: string;
  version: string;
  fields: v.ObjectSchema<TEntries, undefined>;
  history: readonly ObjectHistoryEntry<TLater>[];
  nested?: { readonly [K in keyof TEntries]?: VersionedObjectType };
}): VersionedObjectType<TEntries, TLater> {
  const nested: Record<string, VersionedObjectType> = {};
  for (const [field, child] of Object.entries(definition.nested ?? {})) if (child) nested[field] = child;
  const type: VersionedObjectType<TEntries, TLater> = { ...definition, nested };
  const problems = historyProblems(type);
  if (problems.length > 0) throw new Error(`Invalid object definition: ${problems.join('; ')}`);
  return type;
}

/** Fields added by a version newer than `version`: what a receiver at `version` does not know. */
export function fieldsAddedAfter(type: VersionedObjectType, version: string): string[] {
  const target = parseVersion(version);
  return type.history
    .filter((step) => isNewer(parseVersion(step.version), target))
    .flatMap((step) => step.added);
}

/** The child version a parent at `version` carries in `field`: the latest history entry at or below it that says. */
export function childVersionAt(type: VersionedObjectType, version: string, field: string): string {
  const child = type.nested[field];
  if (!child) throw new Error(`${type.name}.${field} does not hold an object`);
  const target = parseVersion(version);
  let childVersion = child.history[0]?.version ?? child.version;
  for (const step of type.history) {
    if (isNewer(parseVersion(step.version), target)) break;
    childVersion = step.children?.[field] ?? childVersion;
  }
  return childVersion;
}

/** Valibot schema of the object's data as sent at `version`: later fields are not part of it. */
function schemaAt(type: VersionedObjectType, version: string) {
  const later = new Set(fieldsAddedAfter(type, version));
  return v.object(
    Object.fromEntries(Object.entries(type.fields.entries).filter(([field]) => !later.has(field))),
  );
}

/**
 * The data schema of a nested object as its parent holds it: fields added after the child's first
 * version are optional, because an older sender's child lacks them.
 */
export function objectField<T extends VersionedObjectType>(child: T): v.GenericSchema<ReceivedData<T>> {
  const later = new Set(fieldsAddedAfter(child, child.history[0]?.version ?? child.version));
  return v.object(
    Object.fromEntries(
      Object.entries(child.fields.entries).map(([field, schema]) => [
        field,
        later.has(field) ? v.optional(schema) : schema,
      ]),
    ),
  ) as unknown as v.GenericSchema<ReceivedData<T>>;
}

function checkSendable(type: VersionedObjectType, targetVersion: string): void {
  const current = parseVersion(type.version);
  const target = parseVersion(targetVersion);
  if (target.major !== current.major) {
    throw new IncompatibleObjectVersion(
      type.name,
      targetVersion,
      type.version,
      `cannot be made from ${type.version}: a different major version is not backportable, the receiver must understand ${current.major}.x`,
    );
  }
  if (target.minor > current.minor) {
    throw new IncompatibleObjectVersion(
      type.name,
      targetVersion,
      type.version,
      `is newer than ${type.version}, the newest version this code can produce`,
    );
  }
}

function toPrimitive(
  type: VersionedObjectType,
  data: Readonly<Record<string, unknown>>,
  targetVersion: string,
  changes: readonly string[],
): ObjectPrimitive {
  checkSendable(type, targetVersion);
  const later = new Set(fieldsAddedAfter(type, targetVersion));
  const backported: Record<string, unknown> = {};
  for (const [field, value] of Object.entries(data)) {
    if (later.has(field) || value === undefined) continue;
    const child = type.nested[field];
    if (!child || value === null) {
      backported[field] = value;
      continue;
    }
    const childVersion = childVersionAt(type, targetVersion, field);
    const backportChild = (item: unknown) =>
      toPrimitive(child, v.parse(v.record(v.string(), v.unknown()), item), childVersion, []);
    backported[field] = Array.isArray(value) ? value.map(backportChild) : backportChild(value);
  }
  const keptChanges = changes.filter((field) => field in backported);
  return {
    'nova_object.name': type.name,
    'nova_object.namespace': OBJECT_NAMESPACE,
    'nova_object.version': targetVersion,
    'nova_object.data': backported,
    ...(keptChanges.length > 0 ? { 'nova_object.changes': keptChanges } : {}),
  };
}

/**
 * Serializes `data` as `targetVersion`: fields a later minor version added are dropped and nested
 * objects are backported to the child version that parent version carries. A newer minor or another
 * major cannot be produced: IncompatibleObjectVersion.
 */
export function makeCompatible<T extends VersionedObjectType>(
  type: T,
  data: ObjectData<T>,
  targetVersion: string,
  options: { changes?: readonly string[] } = {},
): ObjectPrimitive {
  return toPrimitive(type, v.parse(type.fields, data), targetVersion, options.changes ?? []);
}

/**
 * The version to send a receiver that reported `supported`: its version when older than ours (it is
 * backported), ours when it understands more. Another major cannot be sent at all.
 */
export function versionToSend(type: VersionedObjectType, supported: string | undefined): string {
  if (supported === undefined) return type.version;
  const theirs = parseVersion(supported);
  const ours = parseVersion(type.version);
  if (theirs.major !== ours.major) {
    throw new IncompatibleObjectVersion(
      type.name,
      supported,
      type.version,
      `the receiver understands ${supported} but this code sends ${ours.major}.x`,
    );
  }
  return theirs.minor < ours.minor ? supported : type.version;
}

const Envelope = v.object({
  'nova_object.name': v.string('nova_object.name: expected a string'),
  'nova_object.namespace': v.literal(
    OBJECT_NAMESPACE,
    `nova_object.namespace: expected '${OBJECT_NAMESPACE}'`,
  ),
  'nova_object.version': v.pipe(
    v.string(),
    v.regex(/^\d+\.\d+$/, 'nova_object.version: expected major.minor'),
  ),
  'nova_object.data': v.record(v.string(), v.unknown(), 'nova_object.data: expected an object'),
  'nova_object.changes': v.optional(v.array(v.string()), []),
});

export interface DecodedObject<TData> {
  /** The version the sender chose; fields added after it are absent from `data`. */
  version: string;
  data: TData;
  changes: string[];
}

function decode(
  type: VersionedObjectType,
  primitive: unknown,
  implementedVersion: string,
): DecodedObject<unknown> {
  const implemented = parseVersion(implementedVersion);
  const newest = parseVersion(type.version);
  if (implemented.major !== newest.major || implemented.minor > newest.minor)
    throw new Error(
      `${type.name} ${implementedVersion} cannot be implemented by code that knows ${type.version}`,
    );
  const envelope = v.parse(Envelope, primitive);
  if (envelope['nova_object.name'] !== type.name)
    throw new Error(`Expected a ${type.name} object, received ${envelope['nova_object.name']}`);
  const version = envelope['nova_object.version'];
  const received = parseVersion(version);
  if (received.major !== implemented.major) {
    throw new IncompatibleObjectVersion(
      type.name,
      version,
      implementedVersion,
      `major version ${received.major} is not understood here (implements ${implementedVersion})`,
    );
  }
  if (received.minor > implemented.minor) {
    throw new IncompatibleObjectVersion(
      type.name,
      version,
      implementedVersion,
      `is newer than ${implementedVersion}, the version implemented here; the sender must backport it`,
    );
  }
  const data: Record<string, unknown> = { ...envelope['nova_object.data'] };
  for (const [field, child] of Object.entries(type.nested)) {
    const value = data[field];
    if (value === undefined || value === null) continue;
    const childImplemented = childVersionAt(type, implementedVersion, field);
    const decodeChild = (item: unknown) => decode(child, item, childImplemented).data;
    data[field] = Array.isArray(value) ? value.map(decodeChild) : decodeChild(value);
  }
  const knownFields = Object.keys(schemaAt(type, version).entries);
  const unknownChanges = envelope['nova_object.changes'].filter((field) => !knownFields.includes(field));
  if (unknownChanges.length > 0)
    throw new Error(`${type.name} ${version} changes unknown fields: ${unknownChanges.join(', ')}`);
  return { version, data: v.parse(schemaAt(type, version), data), changes: envelope['nova_object.changes'] };
}

/**
 * Validates a received primitive against what this receiver implements (`implementedVersion`, by
 * default the newest this code knows; an agent pinned to an older version passes that one).
 */
export function decodePrimitive<T extends VersionedObjectType>(
  type: T,
  primitive: unknown,
  implementedVersion: string = type.version,
): DecodedObject<ReceivedData<T>> {
  return decode(type, primitive, implementedVersion) as DecodedObject<ReceivedData<T>>;
}

export function fromPrimitive<T extends VersionedObjectType>(
  type: T,
  primitive: unknown,
  implementedVersion: string = type.version,
): ReceivedData<T> {
  return decodePrimitive(type, primitive, implementedVersion).data;
}
