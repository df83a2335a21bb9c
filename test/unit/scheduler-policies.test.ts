import * as v from 'valibot';
import { describe, expect, it } from 'vitest';
import {
  type ActivePolicies,
  BUILTIN_DEFAULT_POLICY,
  choosePolicy,
  DEFAULT_SETTINGS,
  hintProblems,
  honouredHints,
  type Policy,
  type PolicyBinding,
  PolicyDefinitionSchema,
} from '../../functions/scheduler/policies.ts';
import { spec } from './scheduler-fixtures.ts';

function policy(name: string, bindings: Array<Omit<PolicyBinding, 'id'>>, filters: string[] = []): Policy {
  return {
    id: name.length,
    name,
    description: '',
    filters,
    weighers: [],
    settings: DEFAULT_SETTINGS,
    bindings: bindings.map((binding, index) => ({ id: index + 1, ...binding })),
  };
}

function active(
  policies: Policy[],
  aggregateMetadata = new Map<string, Map<string, string>>(),
): ActivePolicies {
  const chosenDefault = policies.find((candidate) =>
    candidate.bindings.some((binding) => binding.kind === 'default'),
  );
  return {
    policies: chosenDefault ? policies : [BUILTIN_DEFAULT_POLICY, ...policies],
    default: chosenDefault ?? BUILTIN_DEFAULT_POLICY,
    aggregateMetadata,
  };
}

const byProject = policy('by-project', [{ kind: 'project', key: '', value: 'project-a' }]);
const byFlavor = policy('by-flavor', [{ kind: 'flavor_extra_spec', key: 'tier', value: 'gold' }]);
const byZone = policy('by-zone', [{ kind: 'availability_zone', key: '', value: 'az-2' }]);
const byAggregate = policy('by-aggregate', [{ kind: 'aggregate', key: '', value: 'fast' }]);
const fastAggregate = new Map([['fast', new Map([['ssd', 'true']])]]);

describe('choosing the policy of a request', () => {
  const all = active([byZone, byAggregate, byFlavor, byProject], fastAggregate);

  it('takes the most specific binding: project, then flavor extra spec, then aggregate, then zone', () => {
    const everything = spec({
      project_id: 'project-a',
      availability_zone: 'az-2',
      flavor_extra_specs: { tier: 'gold', 'aggregate_instance_extra_specs:ssd': 'true' },
    });
    expect(choosePolicy(all, everything)).toEqual({ policy: byProject, chosenBy: 'project=project-a' });
    expect(choosePolicy(all, { ...everything, project_id: 'project-b' })).toEqual({
      policy: byFlavor,
      chosenBy: 'flavor_extra_spec tier=gold',
    });
    expect(choosePolicy(all, { ...everything, project_id: 'project-b', flavor_extra_specs: {} })).toEqual({
      policy: byZone,
      chosenBy: 'availability_zone=az-2',
    });
    expect(
      choosePolicy(all, {
        ...everything,
        project_id: 'project-b',
        flavor_extra_specs: { 'aggregate_instance_extra_specs:ssd': 'true' },
      }),
    ).toEqual({ policy: byAggregate, chosenBy: 'aggregate=fast' });
  });

  it('binds an aggregate to requests confined to it, by its zone or its metadata', () => {
    const zoned = active([byAggregate], new Map([['fast', new Map([['availability_zone', 'az-fast']])]]));
    expect(choosePolicy(zoned, spec({ availability_zone: 'az-fast' })).policy).toBe(byAggregate);
    expect(choosePolicy(zoned, spec({ availability_zone: 'az-1' })).policy).toBe(BUILTIN_DEFAULT_POLICY);
    expect(
      choosePolicy(
        active([byAggregate], fastAggregate),
        spec({ flavor_extra_specs: { 'aggregate_instance_extra_specs:ssd': 'false' } }),
      ).policy,
    ).toBe(BUILTIN_DEFAULT_POLICY);
  });

  it('falls back to the built-in default, or to the policy bound as default', () => {
    expect(choosePolicy(all, spec({ project_id: 'project-z' }))).toEqual({
      policy: BUILTIN_DEFAULT_POLICY,
      chosenBy: 'default',
    });
    const custom = policy('custom-default', [{ kind: 'default', key: '', value: '' }]);
    expect(choosePolicy(active([custom]), spec({ project_id: 'project-z' }))).toEqual({
      policy: custom,
      chosenBy: 'default',
    });
  });
});

describe('discoverable hints', () => {
  it('lists every hint an active policy honours, with its filters, policies and JSON schema', () => {
    const withQuery = policy('json', [{ kind: 'project', key: '', value: 'p' }], ['JsonFilter']);
    const hints = honouredHints(active([withQuery]));
    expect(hints.map((hint) => hint.name)).toEqual([
      'different_host',
      'group',
      'group_policy',
      'query',
      'same_host',
    ]);
    expect(hints.find((hint) => hint.name === 'query')).toMatchObject({
      filters: ['JsonFilter'],
      policies: ['json'],
      schema: { type: 'string' },
    });
    expect(hints.find((hint) => hint.name === 'group')).toMatchObject({
      filters: ['ServerGroupAffinityFilter', 'ServerGroupAntiAffinityFilter'],
      policies: ['default'],
    });
  });

  it('refuses a hint no active policy honours, and a malformed one', () => {
    const defaults = active([]);
    expect(hintProblems(defaults, { query: '["=", "$host", "a"]' })).toEqual([
      "scheduler hint 'query' is not honoured by any active scheduling policy",
    ]);
    expect(hintProblems(defaults, { different_host: 'not-a-uuid' })).toEqual([
      "scheduler hint 'different_host' must be a server uuid",
    ]);
    expect(hintProblems(defaults, { group: 'web', group_policy: 'spread' })).toEqual([
      "scheduler hint 'group_policy' must be affinity or anti-affinity",
    ]);
    expect(
      hintProblems(defaults, { same_host: ['11111111-1111-4111-8111-111111111111'], group: 'web' }),
    ).toEqual([]);
  });
});

describe('policy definitions', () => {
  it('accept known filters and weighers once each, and refuse the rest with the field named', () => {
    const valid = v.safeParse(PolicyDefinitionSchema, {
      name: 'stack-gold',
      filters: ['ComputeFilter', 'RamFilter'],
      weighers: [{ name: 'RAMWeigher', multiplier: -1 }],
      settings: { metrics_weight_setting: 'cpu.frequency=1' },
    });
    expect(valid.success).toBe(true);
    const problems = (input: Record<string, unknown>) => {
      const result = v.safeParse(PolicyDefinitionSchema, { name: 'p', filters: [], weighers: [], ...input });
      return result.success ? [] : result.issues.map((issue) => issue.message);
    };
    expect(problems({ filters: ['NoSuchFilter'] })[0]).toMatch(/^filters are among ComputeFilter, /);
    expect(problems({ filters: ['RamFilter', 'RamFilter'] })).toEqual(['filters must not repeat']);
    expect(
      problems({ weighers: [{ name: 'RAMWeigher', multiplier: Number.POSITIVE_INFINITY }] }),
    ).toHaveLength(1);
    expect(problems({ settings: { metrics_weight_setting: 'cpu' } })).toEqual([
      'must be comma-separated name=ratio pairs',
    ]);
    expect(problems({ settings: { metrics_on_stale: 'guess' } })).toHaveLength(1);
  });

  it('refuse keys they do not know rather than drop them, so a misspelt setting is not replaced by its default', () => {
    const result = v.safeParse(PolicyDefinitionSchema, {
      name: 'p',
      filters: [],
      weighers: [{ name: 'RAMWeigher', multiplier: 1, multipler: 2 }],
      settings: { max_instance_per_host: 3 },
    });
    expect(result.success).toBe(false);
    expect(result.issues?.map((issue) => v.getDotPath(issue))).toEqual([
      'weighers.0.multipler',
      'settings.max_instance_per_host',
    ]);
  });
});
