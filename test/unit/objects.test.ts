import * as v from 'valibot';
import { describe, expect, it } from 'vitest';
import {
  childVersionAt,
  decodePrimitive,
  defineObject,
  fieldsAddedAfter,
  fromPrimitive,
  historyProblems,
  IncompatibleObjectVersion,
  makeCompatible,
  parseVersion,
  versionToSend,
} from '../../schema/objects/base.ts';
import { type InstanceFields, InstanceObject } from '../../schema/objects/instance.ts';
import { InstanceActionObject } from '../../schema/objects/instance-action.ts';
import { KeyPairObject } from '../../schema/objects/key-pair.ts';
import {
  CURRENT_OBJECT_VERSIONS,
  OBJECT_TYPES,
  unsupportedObjectsReason,
} from '../../schema/objects/registry.ts';

const INSTANCE: InstanceFields = {
  uuid: '0b4e7c9a-3f51-4f3c-9d5e-2a7f1c8b6d40',
  name: 'web-1',
  project_id: 'project-a',
  image_ref: 'image-1',
  memory_mb: 2048,
  vcpus: 2,
  root_gb: 20,
  host: 'compute-1',
  node: 'compute-1',
  availability_zone: 'az-1',
  metadata: { role: 'web' },
  flavor: {
    flavorid: '2',
    name: 'm1.small',
    memory_mb: 2048,
    vcpus: 2,
    root_gb: 20,
    ephemeral_gb: 5,
    swap: 512,
  },
  network_info: [],
};

const ACTION_EVENT = {
  event: 'compute_spawn',
  start_time: '2026-01-02T03:04:05.000Z',
  finish_time: '2026-01-02T03:04:09.000Z',
  result: 'Success',
  traceback: null,
  host: 'compute-1',
};

const ACTION = {
  action: 'create',
  instance_uuid: INSTANCE.uuid,
  request_id: 'req-1',
  project_id: 'project-a',
  user_id: 'user-a',
  start_time: '2026-01-02T03:04:05.000Z',
  finish_time: null,
  message: null,
  events: [ACTION_EVENT, { ...ACTION_EVENT, event: 'compute_power_on', host: 'compute-2' }],
};

function captureError(action: () => unknown): Error {
  try {
    action();
  } catch (error) {
    if (error instanceof Error) return error;
    throw error;
  }
  throw new Error('expected an error, none was thrown');
}

describe('object definitions', () => {
  it.each(OBJECT_TYPES.map((type) => [type.name, type] as const))(
    '%s has a consistent history',
    (_, type) => {
      expect(historyProblems(type)).toEqual([]);
      const versions = type.history.map((step) => parseVersion(step.version));
      versions.slice(1).forEach((version, index) => {
        expect(version.major).toBe(versions[index]?.major);
        expect(version.minor).toBe((versions[index]?.minor ?? Number.NaN) + 1);
      });
      expect(type.history.at(-1)?.version).toBe(type.version);
      for (const step of type.history)
        for (const field of step.added) expect(Object.keys(type.fields.entries)).toContain(field);
    },
  );

  it('lists every object once in the registry, with its current version', () => {
    const names = OBJECT_TYPES.map((type) => type.name);
    expect(new Set(names).size).toBe(names.length);
    expect(names).toEqual(
      expect.arrayContaining([
        'Instance',
        'ComputeNode',
        'Migration',
        'Flavor',
        'Service',
        'InstanceAction',
        'InstanceActionEvent',
        'InstanceFault',
        'Aggregate',
        'KeyPair',
      ]),
    );
    expect(CURRENT_OBJECT_VERSIONS).toMatchObject({ Instance: '1.4', Flavor: '1.1', InstanceAction: '1.2' });
    for (const type of OBJECT_TYPES) {
      for (const child of Object.values(type.nested)) expect(OBJECT_TYPES).toContain(child);
    }
  });

  it('refuses a definition whose history does not match its fields or version', () => {
    const fields = v.object({ name: v.string(), size: v.number() });
    expect(() =>
      defineObject({
        name: 'Broken',
        version: '1.2',
        fields,
        history: [
          { version: '1.0', added: [], note: 'initial' },
          { version: '1.1', added: ['size'], note: 'size' },
        ],
      }),
    ).toThrow(/Broken is version 1.2 but its history ends at 1.1/);
    expect(
      historyProblems({
        name: 'Broken',
        version: '1.2',
        fields,
        nested: {},
        history: [
          { version: '1.0', added: ['name'], note: 'initial' },
          { version: '1.2', added: ['colour'], note: 'skips 1.1' },
        ],
      }),
    ).toEqual([
      'Broken 1.0 is the first version: it cannot add fields',
      'Broken 1.2 does not follow 1.0',
      "Broken 1.2 adds 'colour', which is not one of its fields",
    ]);
  });
});

describe('makeCompatible', () => {
  it('sends the current version with every field, the flavor nested as a Flavor primitive', () => {
    const primitive = makeCompatible(InstanceObject, INSTANCE, '1.4');
    expect(primitive).toEqual({
      'nova_object.name': 'Instance',
      'nova_object.namespace': 'nova',
      'nova_object.version': '1.4',
      'nova_object.data': {
        ...INSTANCE,
        flavor: {
          'nova_object.name': 'Flavor',
          'nova_object.namespace': 'nova',
          'nova_object.version': '1.1',
          'nova_object.data': INSTANCE.flavor,
        },
      },
    });
  });

  it('drops exactly the fields added after the target version', () => {
    const asSent = (version: string) =>
      Object.keys(makeCompatible(InstanceObject, INSTANCE, version)['nova_object.data']);
    const initial = [
      'uuid',
      'name',
      'project_id',
      'image_ref',
      'memory_mb',
      'vcpus',
      'root_gb',
      'host',
      'node',
    ];
    expect(asSent('1.0').sort()).toEqual([...initial].sort());
    expect(asSent('1.1').sort()).toEqual([...initial, 'availability_zone', 'metadata'].sort());
    expect(asSent('1.2').sort()).toEqual([...initial, 'availability_zone', 'metadata', 'flavor'].sort());
    expect(fieldsAddedAfter(KeyPairObject, '1.0')).toEqual(['type']);
    const keyPair = makeCompatible(
      KeyPairObject,
      { name: 'k', user_id: 'u', fingerprint: 'f', public_key: 'ssh-ed25519 AAAA', type: 'ssh' },
      '1.0',
    );
    expect(keyPair['nova_object.data']).toEqual({
      name: 'k',
      user_id: 'u',
      fingerprint: 'f',
      public_key: 'ssh-ed25519 AAAA',
    });
  });

  it('backports a nested object to the child version its parent version carries', () => {
    expect(childVersionAt(InstanceObject, '1.2', 'flavor')).toBe('1.0');
    const flavor = makeCompatible(InstanceObject, INSTANCE, '1.2')['nova_object.data'].flavor;
    expect(flavor).toEqual({
      'nova_object.name': 'Flavor',
      'nova_object.namespace': 'nova',
      'nova_object.version': '1.0',
      'nova_object.data': { flavorid: '2', name: 'm1.small', memory_mb: 2048, vcpus: 2, root_gb: 20 },
    });
  });

  it('backports every element of a nested list', () => {
    const sentAt = (version: string) =>
      makeCompatible(InstanceActionObject, ACTION, version)['nova_object.data'].events as Array<
        Record<string, unknown>
      >;
    const events = sentAt('1.1');
    expect(events).toHaveLength(2);
    for (const event of events) {
      expect(event['nova_object.version']).toBe('1.0');
      expect(event['nova_object.data']).not.toHaveProperty('host');
    }
    expect(sentAt('1.2').map((event) => event['nova_object.data'])).toEqual(ACTION.events);
    expect(makeCompatible(InstanceActionObject, ACTION, '1.0')['nova_object.data']).not.toHaveProperty(
      'events',
    );
  });

  it('carries the changed fields that survive the backport', () => {
    const changes = ['host', 'availability_zone'];
    expect(makeCompatible(InstanceObject, INSTANCE, '1.3', { changes })['nova_object.changes']).toEqual(
      changes,
    );
    expect(makeCompatible(InstanceObject, INSTANCE, '1.0', { changes })['nova_object.changes']).toEqual([
      'host',
    ]);
    expect(
      makeCompatible(InstanceObject, INSTANCE, '1.0', { changes: ['availability_zone'] }),
    ).not.toHaveProperty('nova_object.changes');
  });

  it('refuses a newer minor and another major with IncompatibleObjectVersion', () => {
    const newer = captureError(() => makeCompatible(InstanceObject, INSTANCE, '1.5'));
    expect(newer).toBeInstanceOf(IncompatibleObjectVersion);
    expect(newer.message).toBe('Instance 1.5: is newer than 1.4, the newest version this code can produce');
    const otherMajor = captureError(() => makeCompatible(InstanceObject, INSTANCE, '2.0'));
    expect(otherMajor).toBeInstanceOf(IncompatibleObjectVersion);
    expect(otherMajor).toMatchObject({
      objectName: 'Instance',
      requestedVersion: '2.0',
      supportedVersion: '1.4',
    });
    expect(otherMajor.message).toMatch(/^Instance 2\.0: .*the receiver must understand 1\.x$/);
  });

  it('refuses data that does not match the fields', () => {
    expect(() =>
      makeCompatible(InstanceObject, { ...INSTANCE, metadata: { n: 1 } } as never, '1.3'),
    ).toThrow();
  });
});

describe('versionToSend', () => {
  it('backports to an older receiver, sends ours to a newer one, and refuses another major', () => {
    expect(versionToSend(InstanceObject, '1.1')).toBe('1.1');
    expect(versionToSend(InstanceObject, '1.9')).toBe('1.4');
    expect(versionToSend(InstanceObject, undefined)).toBe('1.4');
    expect(() => versionToSend(InstanceObject, '2.0')).toThrow(IncompatibleObjectVersion);
  });
});

describe('fromPrimitive', () => {
  it('round-trips every version back to the data that version carries', () => {
    expect(fromPrimitive(InstanceObject, makeCompatible(InstanceObject, INSTANCE, '1.4'))).toEqual(INSTANCE);
    const { availability_zone, metadata, flavor, network_info, ...initial } = INSTANCE;
    expect(fromPrimitive(InstanceObject, makeCompatible(InstanceObject, INSTANCE, '1.0'))).toEqual(initial);
    const atOneTwo = decodePrimitive(InstanceObject, makeCompatible(InstanceObject, INSTANCE, '1.2'));
    expect(atOneTwo.version).toBe('1.2');
    expect(atOneTwo.data.flavor).toEqual({
      flavorid: '2',
      name: 'm1.small',
      memory_mb: 2048,
      vcpus: 2,
      root_gb: 20,
    });
    expect(fromPrimitive(InstanceActionObject, makeCompatible(InstanceActionObject, ACTION, '1.2'))).toEqual(
      ACTION,
    );
  });

  it('lets a receiver pinned to an older version decode what was backported for it', () => {
    const sent = makeCompatible(InstanceObject, INSTANCE, versionToSend(InstanceObject, '1.0'));
    const decoded = decodePrimitive(InstanceObject, sent, '1.0');
    expect(decoded.version).toBe('1.0');
    expect(decoded.data.availability_zone).toBeUndefined();
    expect(decoded.data.memory_mb).toBe(2048);
  });

  it('refuses a newer minor than the receiver implements, naming both versions', () => {
    const error = captureError(() =>
      decodePrimitive(InstanceObject, makeCompatible(InstanceObject, INSTANCE, '1.1'), '1.0'),
    );
    expect(error).toBeInstanceOf(IncompatibleObjectVersion);
    expect(error.message).toBe(
      'Instance 1.1: is newer than 1.0, the version implemented here; the sender must backport it',
    );
    const fromTheFuture = {
      ...makeCompatible(InstanceObject, INSTANCE, '1.4'),
      'nova_object.version': '1.5',
    };
    expect(() => fromPrimitive(InstanceObject, fromTheFuture)).toThrow(IncompatibleObjectVersion);
  });

  it('refuses another major version, naming it', () => {
    const primitive = { ...makeCompatible(InstanceObject, INSTANCE, '1.3'), 'nova_object.version': '2.0' };
    const error = captureError(() => fromPrimitive(InstanceObject, primitive));
    expect(error).toBeInstanceOf(IncompatibleObjectVersion);
    expect(error.message).toBe('Instance 2.0: major version 2 is not understood here (implements 1.4)');
  });

  it('refuses a nested child newer than the parent version the receiver implements', () => {
    const sent = makeCompatible(InstanceObject, INSTANCE, '1.2');
    const data = sent['nova_object.data'];
    const withNewerFlavor = {
      ...sent,
      'nova_object.data': {
        ...data,
        flavor: makeCompatible(InstanceObject, INSTANCE, '1.3')['nova_object.data'].flavor,
      },
    };
    expect(() => decodePrimitive(InstanceObject, withNewerFlavor, '1.2')).toThrow(
      /Flavor 1.1: is newer than 1.0/,
    );
  });

  it('refuses another object, another namespace, bad data and changes to unknown fields', () => {
    const sent = makeCompatible(InstanceObject, INSTANCE, '1.0');
    expect(() => fromPrimitive(KeyPairObject, sent)).toThrow('Expected a KeyPair object, received Instance');
    expect(() => fromPrimitive(InstanceObject, { ...sent, 'nova_object.namespace': 'other' })).toThrow(
      /nova_object.namespace/,
    );
    expect(() =>
      fromPrimitive(InstanceObject, {
        ...sent,
        'nova_object.data': { ...sent['nova_object.data'], vcpus: 'two' },
      }),
    ).toThrow(v.ValiError);
    expect(() => fromPrimitive(InstanceObject, { ...sent, 'nova_object.changes': ['metadata'] })).toThrow(
      'Instance 1.0 changes unknown fields: metadata',
    );
    expect(decodePrimitive(InstanceObject, { ...sent, 'nova_object.changes': ['host'] }).changes).toEqual([
      'host',
    ]);
  });
});

describe('unsupportedObjectsReason', () => {
  it('accepts any minor of the major this control plane sends', () => {
    expect(unsupportedObjectsReason(CURRENT_OBJECT_VERSIONS)).toBeUndefined();
    expect(unsupportedObjectsReason({ Instance: '1.0' })).toBeUndefined();
    expect(unsupportedObjectsReason({ Instance: '1.7' })).toBeUndefined();
  });

  it('names the object, both versions and who must upgrade', () => {
    expect(unsupportedObjectsReason({ Instance: '0.9' })).toBe(
      'supported_objects: Instance 0.9 is not 1.x (this control plane sends Instance 1.0 to 1.4); upgrade the agent',
    );
    expect(unsupportedObjectsReason({ Instance: '2.0' })).toBe(
      'supported_objects: Instance 2.0 is not 1.x (this control plane sends Instance 1.0 to 1.4); upgrade the control plane first',
    );
    expect(unsupportedObjectsReason({ Flavor: '1.1' })).toBe(
      'supported_objects: Instance is missing (this control plane sends 1.4)',
    );
  });
});
