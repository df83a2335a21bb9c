import { eq } from 'drizzle-orm';
import * as v from 'valibot';
import { hostCapabilities } from '../../../../schema/tables/index.ts';
import { type Route, route } from '../../route.ts';
import { admin } from './shared.ts';

const Capabilities = v.strictObject({
  capabilities: v.pipe(
    v.record(v.pipe(v.string(), v.minLength(1), v.maxLength(255)), v.pipe(v.string(), v.maxLength(255))),
    v.check((record) => Object.keys(record).length <= 64, 'at most 64 capabilities'),
  ),
});

export const hostCapabilityRoutes: Route[] = [
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
];
