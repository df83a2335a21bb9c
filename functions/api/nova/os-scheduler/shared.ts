import { and, eq } from 'drizzle-orm';
import type { Context } from 'hono';
import { schedulerPolicies, schedulerPolicyBindings } from '../../../../schema/tables/index.ts';
import { NotFound } from '../../../shared/errors.ts';
import type { AppEnv } from '../../context.ts';
import { authorize } from '../../policy.ts';

// What more than one os-scheduler resource needs: the admin guard every route starts with, and the
// policy and binding reads shared by the policies and their bindings.
export type Ctx = Context<AppEnv>;

export function admin(c: Ctx): void {
  authorize(c.var.caller, 'compute_extension:os-scheduler');
}

export async function findPolicyRow(c: Ctx, name: string) {
  const [row] = await c.var.db.$primary
    .select()
    .from(schedulerPolicies)
    .where(and(eq(schedulerPolicies.name, name), eq(schedulerPolicies.deleted, 0)));
  if (!row) throw new NotFound(`Scheduling policy ${name} could not be found.`);
  return row;
}

export async function bindingsOf(c: Ctx, policyId: number) {
  const rows = await c.var.db.$primary
    .select()
    .from(schedulerPolicyBindings)
    .where(and(eq(schedulerPolicyBindings.policy_id, policyId), eq(schedulerPolicyBindings.deleted, 0)))
    .orderBy(schedulerPolicyBindings.id);
  return rows.map(({ id, kind, key, value }) => ({ id, kind, key, value }));
}
