import * as v from 'valibot';
import { describe, expect, it } from 'vitest';
import { requestedDestinationFilter } from '../../functions/scheduler/filters/requested-destination.ts';
import { type RequestSpec, RequestSpecSchema } from '../../functions/scheduler/request-spec.ts';
import { bootDestination } from '../../functions/scheduler/spec-from-instance.ts';
import { context, facts, host, spec } from './scheduler-fixtures.ts';

// A boot that named its host and/or node (compute 2.74): only that host passes, and the request spec
// carries the destination only when the create named one.

function verdict(destination: RequestSpec['requested_destination'], name = 'compute-1', node = name) {
  return requestedDestinationFilter.passes(
    host({ host: name, hypervisor_hostname: node }),
    spec({ requested_destination: destination }),
    context(),
    facts(),
  );
}

describe('RequestedDestinationFilter', () => {
  it('passes every host when the request named none', () => {
    expect(verdict(undefined)).toBeNull();
  });

  it('passes only the named host, and says which one was named', () => {
    expect(verdict({ host: 'compute-1' })).toBeNull();
    expect(verdict({ host: 'compute-2' })).toBe('the request named host compute-2');
  });

  it('passes only the named node, whatever host it is on', () => {
    expect(verdict({ node: 'node-b' }, 'compute-1', 'node-b')).toBeNull();
    expect(verdict({ node: 'node-b' }, 'compute-1', 'node-a')).toBe('the request named node node-b');
  });

  it('needs both to match when both are named', () => {
    expect(verdict({ host: 'compute-1', node: 'node-a' }, 'compute-1', 'node-a')).toBeNull();
    expect(verdict({ host: 'compute-1', node: 'node-b' }, 'compute-1', 'node-a')).toBe(
      'the request named host compute-1, node node-b',
    );
    expect(verdict({ host: 'compute-2', node: 'node-a' }, 'compute-1', 'node-a')).not.toBeNull();
  });

  it('compares names as the database does, ignoring case', () => {
    expect(verdict({ host: 'Compute-1', node: 'COMPUTE-1' })).toBeNull();
  });
});

describe('the requested destination in a request spec', () => {
  const base = {
    instance_uuid: '11111111-1111-4111-8111-111111111111',
    project_id: 'project-a',
    memory_mb: 512,
    vcpus: 1,
    disk_gb: 1,
  };

  it('names a host, a node or both, and nothing else', () => {
    expect(v.parse(RequestSpecSchema, { ...base }).requested_destination).toBeUndefined();
    expect(
      v.parse(RequestSpecSchema, { ...base, requested_destination: { host: 'compute-1' } })
        .requested_destination,
    ).toEqual({ host: 'compute-1' });
    const empty = v.safeParse(RequestSpecSchema, { ...base, requested_destination: {} });
    expect(empty.issues?.map((issue) => issue.message)).toEqual([
      'requested_destination names a host, a node or both',
    ]);
    expect(
      v.safeParse(RequestSpecSchema, { ...base, requested_destination: { host: 'compute-1', cell: 'x' } })
        .success,
    ).toBe(false);
  });

  it('is what the create request stored, and nothing when it named neither', () => {
    expect(bootDestination({ requested_host: null, requested_node: null })).toBeUndefined();
    expect(bootDestination({ requested_host: 'compute-1', requested_node: null })).toEqual({
      host: 'compute-1',
    });
    expect(bootDestination({ requested_host: null, requested_node: 'node-a' })).toEqual({ node: 'node-a' });
    expect(bootDestination({ requested_host: 'compute-1', requested_node: 'node-a' })).toEqual({
      host: 'compute-1',
      node: 'node-a',
    });
  });
});
