import { eq } from 'drizzle-orm';
import * as v from 'valibot';
import { dedicatedHosts } from '../../../../schema/tables/index.ts';
import { dedicate, undedicate } from '../../../scheduler/dedicated-hosts.ts';
import { NotFound } from '../../../shared/errors.ts';
import { type Route, route } from '../../route.ts';
import { admin } from './shared.ts';

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

export const dedicatedHostRoutes: Route[] = [
  route({
    method: 'get',
    path: '/v3/os-scheduler/dedicated-hosts',
    summary: 'List hosts and aggregates dedicated to a project (admin)',
    responses: { 200: 'dedicated_hosts' },
    handler: async (c) => {
      admin(c);
      const rows = await c.var.db.$primary.select().from(dedicatedHosts).where(eq(dedicatedHosts.deleted, 0));
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
];
