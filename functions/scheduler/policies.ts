import { and, eq, inArray } from 'drizzle-orm';
import * as v from 'valibot';
import {
  aggregateMetadata,
  aggregates,
  type BindingKind,
  type PolicySettings,
  type PolicyWeigher,
  schedulerPolicies,
  schedulerPolicyBindings,
} from '../../schema/tables/index.ts';
import { matchesRequirement, scopedSpecs } from './extra-specs-ops.ts';
import { FILTERS, FILTERS_BY_NAME } from './filters/index.ts';
import { HINTS, type HintName } from './hints.ts';
import type { Reader } from './host-facts.ts';
import { parseWeightSetting } from './metrics.ts';
import type { RequestSpec } from './request-spec.ts';
import { WEIGHERS } from './weighers/index.ts';

// A policy is a named set of filters and weighers (with multipliers and settings). Several are active
// at once: each is bound by criteria (project, flavor extra spec, aggregate, availability zone), and a
// request is scheduled by the policy of its most specific matching binding, else by the default.

export type ResolvedSettings = Required<PolicySettings>;

export const DEFAULT_SETTINGS: ResolvedSettings = {
  max_io_ops_per_host: 8,
  max_instances_per_host: 50,
  metrics_weight_setting: '',
  metrics_max_age_seconds: 60,
  metrics_on_stale: 'penalize',
};

export interface PolicyBinding {
  id: number;
  kind: BindingKind;
  key: string;
  value: string;
}

export interface Policy {
  /** null for the built-in default, which lives in code and cannot be deleted. */
  id: number | null;
  name: string;
  description: string;
  filters: string[];
  weighers: PolicyWeigher[];
  settings: ResolvedSettings;
  bindings: PolicyBinding[];
}

export const BUILTIN_DEFAULT_POLICY: Policy = {
  id: null,
  name: 'default',
  description:
    'Used when no binding selects another policy: capacity, placement rules and hints; spread by RAM, prefer idle CPUs.',
  filters: [
    'ComputeFilter',
    'AvailabilityZoneFilter',
    'RetryFilter',
    'RamFilter',
    'CoreFilter',
    'DiskFilter',
    'DedicatedHostsFilter',
    'AggregateMultiTenancyIsolation',
    'NumInstancesFilter',
    'AggregateInstanceExtraSpecsFilter',
    'ComputeCapabilitiesFilter',
    'ImagePropertiesFilter',
    'SameHostFilter',
    'DifferentHostFilter',
    'ServerGroupAffinityFilter',
    'ServerGroupAntiAffinityFilter',
  ],
  weighers: [
    { name: 'RAMWeigher', multiplier: 1 },
    { name: 'CPUUtilisationWeigher', multiplier: -0.5 },
  ],
  settings: DEFAULT_SETTINGS,
  bindings: [],
};

/** Most specific first: a project's own policy beats its flavor's, which beats its zone's. */
const PRECEDENCE: BindingKind[] = ['project', 'flavor_extra_spec', 'aggregate', 'availability_zone'];

const filterNames = FILTERS.map((filter) => filter.name);
const weigherNames = WEIGHERS.map((weigher) => weigher.name);

// Strict: a misspelt setting would otherwise be dropped and the policy run on the default in its place.
export const PolicySettingsSchema = v.strictObject({
  max_io_ops_per_host: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1))),
  max_instances_per_host: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1))),
  metrics_weight_setting: v.optional(
    v.pipe(
      v.string(),
      v.maxLength(1024),
      v.check((setting) => {
        try {
          parseWeightSetting(setting);
          return true;
        } catch {
          return false;
        }
      }, 'must be comma-separated name=ratio pairs'),
    ),
  ),
  metrics_max_age_seconds: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1))),
  metrics_on_stale: v.optional(v.picklist(['penalize', 'use'])),
});

export const PolicyDefinitionSchema = v.strictObject({
  name: v.pipe(v.string(), v.regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,254}$/, 'letters, digits, . _ - only')),
  description: v.optional(v.pipe(v.string(), v.maxLength(255)), ''),
  filters: v.pipe(
    v.array(v.picklist(filterNames, `filters are among ${filterNames.join(', ')}`)),
    v.check((names) => new Set(names).size === names.length, 'filters must not repeat'),
  ),
  weighers: v.pipe(
    v.array(
      v.strictObject({
        name: v.picklist(weigherNames, `weighers are among ${weigherNames.join(', ')}`),
        multiplier: v.pipe(v.number(), v.finite()),
      }),
    ),
    v.check((list) => new Set(list.map((w) => w.name)).size === list.length, 'weighers must not repeat'),
  ),
  settings: v.optional(PolicySettingsSchema, {}),
});
export type PolicyDefinition = v.InferOutput<typeof PolicyDefinitionSchema>;

/** Policies in force: the default and every policy with at least one binding, plus what aggregate bindings need. */
export interface ActivePolicies {
  policies: Policy[];
  default: Policy;
  /** aggregate name → metadata, for aggregates named by bindings. */
  aggregateMetadata: Map<string, Map<string, string>>;
}

export function toPolicy(row: typeof schedulerPolicies.$inferSelect, bindings: PolicyBinding[]): Policy {
  return {
    id: row.id,
    name: row.name,
    description: row.description,
    filters: row.filters,
    weighers: row.weighers,
    settings: { ...DEFAULT_SETTINGS, ...row.settings },
    bindings,
  };
}

/** One query for bound policies (and one more only when an aggregate binding exists). */
export async function loadActivePolicies(db: Reader): Promise<ActivePolicies> {
  const rows = await db
    .select({ policy: schedulerPolicies, binding: schedulerPolicyBindings })
    .from(schedulerPolicyBindings)
    .innerJoin(
      schedulerPolicies,
      and(eq(schedulerPolicies.id, schedulerPolicyBindings.policy_id), eq(schedulerPolicies.deleted, 0)),
    )
    .where(eq(schedulerPolicyBindings.deleted, 0))
    .orderBy(schedulerPolicyBindings.id);
  const byId = new Map<number, Policy>();
  for (const { policy, binding } of rows) {
    const entry = byId.get(policy.id) ?? toPolicy(policy, []);
    entry.bindings.push({ id: binding.id, kind: binding.kind, key: binding.key, value: binding.value });
    byId.set(policy.id, entry);
  }
  const bound = [...byId.values()];
  const chosenDefault = bound.find((policy) => policy.bindings.some((binding) => binding.kind === 'default'));
  const aggregateNames = bound.flatMap((policy) =>
    policy.bindings.filter((binding) => binding.kind === 'aggregate').map((binding) => binding.value),
  );
  const metadata = new Map<string, Map<string, string>>();
  if (aggregateNames.length > 0) {
    const metadataRows = await db
      .select({ name: aggregates.name, key: aggregateMetadata.key, value: aggregateMetadata.value })
      .from(aggregates)
      .innerJoin(
        aggregateMetadata,
        and(eq(aggregateMetadata.aggregate_id, aggregates.id), eq(aggregateMetadata.deleted, 0)),
      )
      .where(and(inArray(aggregates.name, aggregateNames), eq(aggregates.deleted, 0)));
    for (const row of metadataRows) {
      metadata.set(row.name, (metadata.get(row.name) ?? new Map<string, string>()).set(row.key, row.value));
    }
  }
  return {
    policies: chosenDefault ? bound : [BUILTIN_DEFAULT_POLICY, ...bound],
    default: chosenDefault ?? BUILTIN_DEFAULT_POLICY,
    aggregateMetadata: metadata,
  };
}

/**
 * An aggregate binding applies to requests confined to the aggregate: asking for the zone the
 * aggregate defines, or for its metadata through `aggregate_instance_extra_specs:` flavor specs.
 */
function confinedToAggregate(spec: RequestSpec, metadata: Map<string, string> | undefined): boolean {
  if (!metadata) return false;
  const zone = metadata.get('availability_zone');
  if (zone !== undefined && spec.availability_zone === zone) return true;
  const specs = scopedSpecs(spec.flavor_extra_specs, 'aggregate_instance_extra_specs');
  return (
    specs.length > 0 &&
    specs.every(([key, requirement]) => matchesRequirement(metadata.get(key), requirement))
  );
}

function bindingMatches(binding: PolicyBinding, spec: RequestSpec, active: ActivePolicies): boolean {
  switch (binding.kind) {
    case 'project':
      return spec.project_id === binding.value;
    case 'flavor_extra_spec':
      return spec.flavor_extra_specs[binding.key] === binding.value;
    case 'availability_zone':
      return spec.availability_zone === binding.value;
    case 'aggregate':
      return confinedToAggregate(spec, active.aggregateMetadata.get(binding.value));
    case 'default':
      return false;
  }
}

export interface PolicyChoice {
  policy: Policy;
  /** What selected it, e.g. `project=abc`, or `default`. */
  chosenBy: string;
}

export function describeBinding(binding: PolicyBinding): string {
  if (binding.kind === 'flavor_extra_spec') return `flavor_extra_spec ${binding.key}=${binding.value}`;
  return binding.kind === 'default' ? 'default' : `${binding.kind}=${binding.value}`;
}

export function choosePolicy(active: ActivePolicies, spec: RequestSpec): PolicyChoice {
  for (const kind of PRECEDENCE) {
    for (const policy of active.policies) {
      const binding = policy.bindings.find(
        (candidate) => candidate.kind === kind && bindingMatches(candidate, spec, active),
      );
      if (binding) return { policy, chosenBy: describeBinding(binding) };
    }
  }
  return { policy: active.default, chosenBy: 'default' };
}

export interface HonouredHint {
  name: HintName;
  description: string;
  schema: Record<string, unknown>;
  filters: string[];
  policies: string[];
}

/** Every hint some active policy reads, with which filters read it and in which policies. */
export function honouredHints(active: ActivePolicies): HonouredHint[] {
  const hints = new Map<HintName, { filters: Set<string>; policies: Set<string> }>();
  for (const policy of active.policies) {
    for (const filterName of policy.filters) {
      for (const hint of FILTERS_BY_NAME.get(filterName)?.hints ?? []) {
        const entry = hints.get(hint) ?? { filters: new Set<string>(), policies: new Set<string>() };
        entry.filters.add(filterName);
        entry.policies.add(policy.name);
        hints.set(hint, entry);
      }
    }
  }
  return [...hints.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([name, { filters, policies }]) => ({
      name,
      description: HINTS[name].description,
      schema: HINTS[name].jsonSchema,
      filters: [...filters].sort(),
      policies: [...policies].sort(),
    }));
}

/** Why these hints cannot be accepted (empty when they can): unknown to every active policy, or malformed. */
export function hintProblems(active: ActivePolicies, hints: Record<string, unknown>): string[] {
  const honoured = new Set(honouredHints(active).map((hint) => hint.name as string));
  const problems: string[] = [];
  for (const [name, value] of Object.entries(hints)) {
    if (!honoured.has(name)) {
      problems.push(`scheduler hint '${name}' is not honoured by any active scheduling policy`);
      continue;
    }
    const result = v.safeParse(HINTS[name as HintName].schema, value);
    if (!result.success)
      problems.push(`scheduler hint '${name}' ${result.issues.map((issue) => issue.message).join('; ')}`);
  }
  return problems;
}
