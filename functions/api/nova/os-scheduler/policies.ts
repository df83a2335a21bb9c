import { and, eq, sql } from 'drizzle-orm';
import * as v from 'valibot';
import { schedulerPolicies, schedulerPolicyBindings } from '../../../../schema/tables/index.ts';
import {
  BUILTIN_DEFAULT_POLICY,
  describeBinding,
  loadActivePolicies,
  type Policy,
  PolicyDefinitionSchema,
  toPolicy,
} from '../../../scheduler/policies.ts';
import { BadRequest, Conflict } from '../../../shared/errors.ts';
import { type Route, route } from '../../route.ts';
import { admin, bindingsOf, type Ctx, findPolicyRow } from './shared.ts';

const PolicyBody = v.strictObject({ policy: PolicyDefinitionSchema });

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

async function defaultIsBuiltin(c: Ctx): Promise<boolean> {
  return (await loadActivePolicies(c.var.db.$primary)).default.id === null;
}

export const policyRoutes: Route[] = [
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
          .where(and(eq(schedulerPolicyBindings.policy_id, row.id), eq(schedulerPolicyBindings.deleted, 0)));
        await tx
          .update(schedulerPolicies)
          .set({ deleted: row.id, deleted_at: now })
          .where(eq(schedulerPolicies.id, row.id));
      });
      return c.body(null, 204);
    },
  }),
];
