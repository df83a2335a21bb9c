import { AggregateObject } from './aggregate.ts';
import { parseVersion, type VersionedObjectType } from './base.ts';
import { ComputeNodeObject } from './compute-node.ts';
import { FlavorObject } from './flavor.ts';
import { InstanceObject } from './instance.ts';
import { InstanceActionEventObject, InstanceActionObject } from './instance-action.ts';
import { InstanceFaultObject } from './instance-fault.ts';
import { KeyPairObject } from './key-pair.ts';
import { MigrationObject } from './migration.ts';
import { ServiceObject } from './service.ts';

/** Every versioned object, listed by hand so a reader sees what can travel. */
export const OBJECT_TYPES: readonly VersionedObjectType[] = [
  InstanceObject,
  FlavorObject,
  ComputeNodeObject,
  MigrationObject,
  ServiceObject,
  InstanceActionObject,
  InstanceActionEventObject,
  InstanceFaultObject,
  AggregateObject,
  KeyPairObject,
];

/** Name -> newest version: what an agent of this release reports as `supported_objects`. */
export const CURRENT_OBJECT_VERSIONS: Readonly<Record<string, string>> = Object.fromEntries(
  OBJECT_TYPES.map((type) => [type.name, type.version]),
);

/**
 * Objects every command carries at its top level; an agent must understand their major version.
 * Nested objects (Instance.flavor) need no entry: the parent's version decides the child's.
 */
export const AGENT_REQUIRED_OBJECTS: readonly VersionedObjectType[] = [InstanceObject];

/** Why an agent reporting `supported` cannot be sent commands, or undefined when it can. */
export function unsupportedObjectsReason(supported: Readonly<Record<string, string>>): string | undefined {
  const problems = AGENT_REQUIRED_OBJECTS.flatMap((type) => {
    const theirs = supported[type.name];
    const ours = parseVersion(type.version);
    if (theirs === undefined) return [`${type.name} is missing (this control plane sends ${type.version})`];
    const theirMajor = parseVersion(theirs).major;
    if (theirMajor === ours.major) return [];
    const upgrade = theirMajor < ours.major ? 'upgrade the agent' : 'upgrade the control plane first';
    return [
      `${type.name} ${theirs} is not ${ours.major}.x (this control plane sends ${type.name} ${ours.major}.0 to ${type.version}); ${upgrade}`,
    ];
  });
  return problems.length > 0 ? `supported_objects: ${problems.join('; ')}` : undefined;
}
