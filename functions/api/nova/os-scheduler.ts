import { and, eq, sql } from 'drizzle-orm';
import type { Context } from 'hono';
import * as v from 'valibot';
import {
  dedicatedHosts,
  flavorExtraSpecs,
  flavors,
  hostCapabilities,
  schedulerPolicies,
  schedulerPolicyBindings,
} from '../../../schema/tables/index.ts';
import { dedicate, undedicate } from '../../scheduler/dedicated-hosts.ts';
import {
  BUILTIN_DEFAULT_POLICY,
  describeBinding,
  loadActivePolicies,
  type Policy,
  PolicyDefinitionSchema,
  toPolicy,
} from '../../scheduler/policies.ts';
import { type RequestSpec, RequestSpecSchema } from '../../scheduler/request-spec.ts';
import { DESTINATIONS_LIMIT, rankDestinations } from '../../scheduler/select-step.ts';
import { BadRequest, Conflict, NotFound } from '../../shared/errors.ts';
import type { AppEnv } from '../context.ts';
import { authorize } from '../policy.ts';
import { route } from '../route.ts';
import { defineExtension } from './extension.ts';

// Admin bodies refuse keys they do not know: a misspelt field (flavor_id for flavor_ref, a setting's
// name) would otherwise be dropped, and the dry run or the policy would quietly answer something else.
const DryRun = v.strictObject({
  request_spec: v.strictObject({
    ...RequestSpecSchema.entries,
    instance_uuid: v.optional(v.pipe(v.string(), v.uuid())),
    /** Fills memory, vcpus, disk and extra specs from a flavor; explicit fields win. */
    flavor_ref: v.optional(v.pipe(v.string(), v.minLength(1))),
    memory_mb: v.optional(RequestSpecSchema.entries.memory_mb),
    vcpus: v.optional(RequestSpecSchema.entries.vcpus),
    disk_gb: v.optional(RequestSpecSchema.entries.disk_gb),
  }),
  limit: DESTINATIONS_LIMIT,
});

type DryRunSpec = v.InferOutput<typeof DryRun>['request_spec'];

const PolicyBody = v.strictObject({ policy: PolicyDefinitionSchema });

const Binding = v.strictObject({
  binding: v.variant('kind', [
    v.strictObject({
      kind: v.literal('project'),
      value: v.pipe(v.string(), v.minLength(1), v.maxLength(64)),
    }),
    v.strictObject({
      kind: v.literal('flavor_extra_spec'),
      key: v.pipe(v.string(), v.minLength(1), v.maxLength(255)),
      value: v.pipe(v.string(), v.maxLength(255)),
    }),
    v.strictObject({
      kind: v.literal('aggregate'),
      value: v.pipe(v.string(), v.minLength(1), v.maxLength(255)),
    }),
    v.strictObject({
      kind: v.literal('availability_zone'),
      value: v.pipe(v.string(), v.minLength(1), v.maxLength(255)),
    }),
    v.strictObject({ kind: v.literal('default') }),
  ]),
});

const Dedication = v.strictObject({
  dedicated_host: v.pipe(
    v.strictObject({
      project_id: v.pipe(v.string(), v.minLength(1), v.maxLength(64)),
      host: v.optional(v.pipe(v.string(), v.minLength(1), v.maxLength(255))),
      aggregate: v.optional(v.pipe(v.string(), v.minLength(1), v.maxLength(255))),
    }),
    v.check(
      (target) => (target.host === undefined) !== (target.aggregate === undefined),
      'give exactly one of host, aggregate',
    ),
  ),
});

const Capabilities = v.strictObject({
  capabilities: v.pipe(
    v.record(v.pipe(v.string(), v.minLength(1), v.maxLength(255)), v.pipe(v.string(), v.maxLength(255))),
    v.check((record) => Object.keys(record).length <= 64, 'at most 64 capabilities'),
  ),
});

function policyView(policy: Policy, active: boolean) {
  return {
    id: policy.id,
    name: policy.name,
    description: policy.description,
    builtin: policy.id === null,
    active,
    filters: policy.filters,
    weighers: policy.weighers,
    settings: policy.settings,
    bindings: policy.bindings.map((binding) => ({ ...binding, selects: describeBinding(binding) })),
  };
}

type Ctx = Context<AppEnv>;

async function findPolicyRow(c: Ctx, name: string) {
  const [row] = await c.var.db.$primary
    .select()
    .from(schedulerPolicies)
    .where(and(eq(schedulerPolicies.name, name), eq(schedulerPolicies.deleted, 0)));
  if (!row) throw new NotFound(`Scheduling policy ${name} could not be found.`);
  return row;
}

async function bindingsOf(c: Ctx, policyId: number) {
  const rows = await c.var.db.$primary
    .select()
    .from(schedulerPolicyBindings)
    .where(and(eq(schedulerPolicyBindings.policy_id, policyId), eq(schedulerPolicyBindings.deleted, 0)))
    .orderBy(schedulerPolicyBindings.id);
  return rows.map(({ id, kind, key, value }) => ({ id, kind, key, value }));
}

async function defaultIsBuiltin(c: Ctx): Promise<boolean> {
  return (await loadActivePolicies(c.var.db.$primary)).default.id === null;
}

/** The dry run's request spec: a flavor named by flavor_ref fills resources and extra specs; explicit fields win. */
async function specFromDryRun(c: Ctx, input: DryRunSpec): Promise<RequestSpec> {
  const db = c.var.db.$primary;
  let fromFlavor = { memory_mb: 0, vcpus: 0, disk_gb: 0, name: undefined as string | undefined, specs: {} };
  if (input.flavor_ref !== undefined) {
    const [flavor] = await db
      .select()
      .from(flavors)
      .where(and(eq(flavors.flavorid, input.flavor_ref), eq(flavors.deleted, 0)));
    if (!flavor) throw new BadRequest(`flavor_ref: flavor ${input.flavor_ref} could not be found`);
    const specs = await db
      .select({ key: flavorExtraSpecs.key, value: flavorExtraSpecs.value })
      .from(flavorExtraSpecs)
      .where(and(eq(flavorExtraSpecs.flavor_id, flavor.id), eq(flavorExtraSpecs.deleted, 0)));
    fromFlavor = {
      memory_mb: flavor.memory_mb,
      vcpus: flavor.vcpus,
      disk_gb: flavor.root_gb + flavor.ephemeral_gb,
      name: flavor.name,
      specs: Object.fromEntries(specs.map((spec) => [spec.key, spec.value])),
    };
  }
  const { flavor_ref: _flavorRef, ...rest } = input;
  return {
    ...rest,
    instance_uuid: input.instance_uuid ?? crypto.randomUUID(),
    memory_mb: input.memory_mb ?? fromFlavor.memory_mb,
    vcpus: input.vcpus ?? fromFlavor.vcpus,
    disk_gb: input.disk_gb ?? fromFlavor.disk_gb,
    flavor_name: input.flavor_name ?? fromFlavor.name,
    flavor_extra_specs: { ...fromFlavor.specs, ...input.flavor_extra_specs },
  };
}

function admin(c: Ctx): void {
  authorize(c.var.caller, 'compute_extension:os-scheduler');
}

export const schedulerExtension = defineExtension({
  alias: 'os-scheduler',
  name: 'Scheduler',
  description:
    'Admin access to the scheduler: dry-run select-destinations, scheduling policies and their bindings, dedicated hosts, host capabilities.',
  version: 1,
  core: false,
  history: [
    {
      version: 1,
      change: 'select-destinations dry run, policies with bindings, dedicated hosts, host capabilities',
    },
  ],
  routes: [
    route({
      method: 'post',
      path: '/v3/os-scheduler/select-destinations',
      summary: 'Dry run: rank the hosts for a request spec and say why each other host fails (admin)',
      body: DryRun,
      responses: {
        200: 'policy, chosen_by, destinations [{host, node, availability_zone, weight, weights}], rejected_hosts [{host, node, filter, reason}], rejected_hosts_truncated',
      },
      handler: async (c, { body: { request_spec: input, limit } }) => {
        admin(c);
        const spec = await specFromDryRun(c, input);
        return c.json(
          await rankDestinations(c.var.db.$primary, spec, {
            limit,
            now: new Date(),
            serviceDownTimeSeconds: c.var.config.SERVICE_DOWN_TIME_SECONDS,
          }),
        );
      },
    }),
    route({
      method: 'get',
      path: '/v3/os-scheduler/policies',
      summary: 'List scheduling policies, the built-in default first, each with its bindings (admin)',
      responses: { 200: 'policies' },
      handler: async (c) => {
        admin(c);
        const active = await loadActivePolicies(c.var.db.$primary);
        const rows = await c.var.db.$primary
          .select()
          .from(schedulerPolicies)
          .where(eq(schedulerPolicies.deleted, 0));
        const stored = await Promise.all(rows.map(async (row) => toPolicy(row, await bindingsOf(c, row.id))));
        const activeNames = new Set(active.policies.map((policy) => policy.name));
        return c.json({
          policies: [
            policyView(BUILTIN_DEFAULT_POLICY, active.default.id === null),
            ...stored.map((policy) => policyView(policy, activeNames.has(policy.name))),
          ],
        });
      },
    }),
    route({
      method: 'post',
      path: '/v3/os-scheduler/policies',
      summary: 'Create a scheduling policy: filters, weighers with multipliers, settings (admin)',
      body: PolicyBody,
      responses: { 201: 'policy (inactive until bound)' },
      handler: async (c, { body: { policy } }) => {
        admin(c);
        if (policy.name === BUILTIN_DEFAULT_POLICY.name)
          throw new Conflict(
            `Policy name ${policy.name} is the built-in default's; bind a policy as default instead`,
          );
        const now = new Date();
        await c.var.db.$primary
          .insert(schedulerPolicies)
          .values({ ...policy, created_at: now, updated_at: now });
        const row = await findPolicyRow(c, policy.name);
        return c.json({ policy: policyView(toPolicy(row, []), false) }, 201);
      },
    }),
    route({
      method: 'get',
      path: '/v3/os-scheduler/policies/:name',
      summary: 'Show a scheduling policy (admin)',
      responses: { 200: 'policy' },
      handler: async (c) => {
        admin(c);
        const name = c.req.param('name') ?? '';
        if (name === BUILTIN_DEFAULT_POLICY.name)
          return c.json({ policy: policyView(BUILTIN_DEFAULT_POLICY, await defaultIsBuiltin(c)) });
        const row = await findPolicyRow(c, name);
        const bindings = await bindingsOf(c, row.id);
        return c.json({ policy: policyView(toPolicy(row, bindings), bindings.length > 0) });
      },
    }),
    route({
      method: 'put',
      path: '/v3/os-scheduler/policies/:name',
      summary: "Replace a scheduling policy's filters, weighers and settings (admin)",
      body: PolicyBody,
      responses: { 200: 'policy' },
      handler: async (c, { body: { policy } }) => {
        admin(c);
        const row = await findPolicyRow(c, c.req.param('name') ?? '');
        if (policy.name !== row.name) throw new BadRequest('policy.name: a policy cannot be renamed');
        await c.var.db.$primary
          .update(schedulerPolicies)
          .set({ ...policy, updated_at: new Date() })
          .where(eq(schedulerPolicies.id, row.id));
        const bindings = await bindingsOf(c, row.id);
        return c.json({
          policy: policyView(toPolicy(await findPolicyRow(c, row.name), bindings), bindings.length > 0),
        });
      },
    }),
    route({
      method: 'delete',
      path: '/v3/os-scheduler/policies/:name',
      summary: 'Delete a scheduling policy and its bindings (admin)',
      responses: { 204: 'deleted' },
      handler: async (c) => {
        admin(c);
        const row = await findPolicyRow(c, c.req.param('name') ?? '');
        const now = new Date();
        await c.var.db.$primary.transaction(async (tx) => {
          await tx
            .update(schedulerPolicyBindings)
            .set({ deleted: sql`${schedulerPolicyBindings.id}`, deleted_at: now })
            .where(
              and(eq(schedulerPolicyBindings.policy_id, row.id), eq(schedulerPolicyBindings.deleted, 0)),
            );
          await tx
            .update(schedulerPolicies)
            .set({ deleted: row.id, deleted_at: now })
            .where(eq(schedulerPolicies.id, row.id));
        });
        return c.body(null, 204);
      },
    }),
    route({
      method: 'post',
      path: '/v3/os-scheduler/policies/:name/bindings',
      summary:
        'Bind a policy to requests by project, flavor extra spec, aggregate or availability zone, or as the default (admin)',
      body: Binding,
      responses: { 201: 'binding' },
      handler: async (c, { body: { binding } }) => {
        admin(c);
        const row = await findPolicyRow(c, c.req.param('name') ?? '');
        const [created] = await c.var.db.$primary
          .insert(schedulerPolicyBindings)
          .values({
            policy_id: row.id,
            kind: binding.kind,
            key: 'key' in binding ? binding.key : '',
            value: 'value' in binding ? binding.value : '',
            created_at: new Date(),
          })
          .$returningId();
        const stored = (await bindingsOf(c, row.id)).find((candidate) => candidate.id === created?.id);
        if (!stored) throw new Conflict('the binding was not recorded');
        return c.json({ binding: { ...stored, policy: row.name, selects: describeBinding(stored) } }, 201);
      },
    }),
    route({
      method: 'delete',
      path: '/v3/os-scheduler/policies/:name/bindings/:binding_id',
      summary: 'Remove a binding (admin)',
      responses: { 204: 'deleted' },
      handler: async (c) => {
        admin(c);
        const row = await findPolicyRow(c, c.req.param('name') ?? '');
        const raw = c.req.param('binding_id') ?? '';
        const id = /^\d+$/.test(raw) ? Number(raw) : 0;
        const result = await c.var.db.$primary
          .update(schedulerPolicyBindings)
          .set({ deleted: id, deleted_at: new Date() })
          .where(
            and(
              eq(schedulerPolicyBindings.id, id),
              eq(schedulerPolicyBindings.policy_id, row.id),
              eq(schedulerPolicyBindings.deleted, 0),
            ),
          );
        if (result.rowsAffected === 0) throw new NotFound(`Binding ${raw} could not be found.`);
        return c.body(null, 204);
      },
    }),
    route({
      method: 'get',
      path: '/v3/os-scheduler/dedicated-hosts',
      summary: 'List hosts and aggregates dedicated to a project (admin)',
      responses: { 200: 'dedicated_hosts' },
      handler: async (c) => {
        admin(c);
        const rows = await c.var.db.$primary
          .select()
          .from(dedicatedHosts)
          .where(eq(dedicatedHosts.deleted, 0));
        return c.json({
          dedicated_hosts: rows.map(({ id, project_id, host, aggregate_id, created_at }) => ({
            id,
            project_id,
            host,
            aggregate_id,
            created_at,
          })),
        });
      },
    }),
    route({
      method: 'post',
      path: '/v3/os-scheduler/dedicated-hosts',
      summary:
        "Dedicate a host or an aggregate to a project; 409 naming other projects' servers still there (admin)",
      body: Dedication,
      responses: { 201: 'dedicated_host with the hosts it covers' },
      handler: async (c, { body: { dedicated_host: target } }) => {
        admin(c);
        return c.json({ dedicated_host: await dedicate(c.var.db.$primary, target) }, 201);
      },
    }),
    route({
      method: 'delete',
      path: '/v3/os-scheduler/dedicated-hosts/:dedication_id',
      summary: 'End a dedication: the hosts take every project again (admin)',
      responses: { 204: 'deleted' },
      handler: async (c) => {
        admin(c);
        const raw = c.req.param('dedication_id') ?? '';
        if (!/^\d+$/.test(raw)) throw new NotFound(`Dedication ${raw} could not be found.`);
        await undedicate(c.var.db.$primary, Number(raw));
        return c.body(null, 204);
      },
    }),
    route({
      method: 'get',
      path: '/v3/os-scheduler/hosts/:host/capabilities',
      summary: 'Show what an admin declared a host can run (admin)',
      responses: { 200: 'capabilities' },
      handler: async (c) => {
        admin(c);
        const [row] = await c.var.db.$primary
          .select()
          .from(hostCapabilities)
          .where(eq(hostCapabilities.host, c.req.param('host') ?? ''));
        return c.json({ capabilities: row?.capabilities ?? {} });
      },
    }),
    route({
      method: 'put',
      path: '/v3/os-scheduler/hosts/:host/capabilities',
      summary:
        'Declare what a host can run (architecture, vm_mode, cpu_features...), read by the image properties and capabilities filters (admin)',
      body: Capabilities,
      responses: { 200: 'capabilities' },
      handler: async (c, { body: { capabilities } }) => {
        admin(c);
        const now = new Date();
        await c.var.db.$primary
          .insert(hostCapabilities)
          .values({ host: c.req.param('host') ?? '', capabilities, created_at: now })
          .onDuplicateKeyUpdate({ set: { capabilities, updated_at: now } });
        return c.json({ capabilities });
      },
    }),
  ],
});
