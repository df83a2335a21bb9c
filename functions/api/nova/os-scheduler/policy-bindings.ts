import { and, eq } from 'drizzle-orm';
import * as v from 'valibot';
import { schedulerPolicyBindings } from '../../../../schema/tables/index.ts';
import { describeBinding } from '../../../scheduler/policies.ts';
import { Conflict, NotFound } from '../../../shared/errors.ts';
import { type Route, route } from '../../route.ts';
import { admin, bindingsOf, findPolicyRow } from './shared.ts';

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

export const policyBindingRoutes: Route[] = [
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
];
