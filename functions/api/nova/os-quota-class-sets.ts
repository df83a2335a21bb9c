import * as v from 'valibot';
import { classLimits, setClassQuotas } from '../../compute/quotas.ts';
import { authorize } from '../policy.ts';
import { route } from '../route.ts';
import { defineExtension } from './extension.ts';
import { limitsFrom } from './os-quota-sets.ts';

const ClassName = v.pipe(v.string(), v.minLength(1), v.maxLength(255));

const UpdateQuotaClassSet = v.object({ quota_class_set: v.record(v.string(), v.unknown()) });

export const quotaClassSetsExtension = defineExtension({
  alias: 'os-quota-class-sets',
  name: 'QuotaClasses',
  description: 'Quota classes management support.',
  version: 1,
  core: false,
  history: [{ version: 1, change: 'show and update a quota class (`default` sets every project default)' }],
  routes: [
    route({
      method: 'get',
      path: '/v3/os-quota-class-sets/:id',
      summary: 'Show a quota class',
      responses: { 200: 'quota_class_set: every resource limit and id' },
      handler: async (c) => {
        authorize(c.var.caller, 'compute_extension:quota_classes:show');
        const className = v.parse(ClassName, c.req.param('id') ?? '');
        return c.json({ quota_class_set: { ...(await classLimits(c.var.db, className)), id: className } });
      },
    }),
    route({
      method: 'put',
      path: '/v3/os-quota-class-sets/:id',
      summary: 'Update a quota class',
      body: UpdateQuotaClassSet,
      responses: { 200: 'quota_class_set after the update' },
      handler: async (c, { body }) => {
        authorize(c.var.caller, 'compute_extension:quota_classes:update');
        const className = v.parse(ClassName, c.req.param('id') ?? '');
        const db = c.var.db.$primary;
        await setClassQuotas(db, className, limitsFrom(body.quota_class_set, 'quota_class_set'));
        return c.json({ quota_class_set: { ...(await classLimits(db, className)), id: className } });
      },
    }),
  ],
});
