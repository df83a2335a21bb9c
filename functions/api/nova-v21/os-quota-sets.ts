import type { Context } from 'hono';
import * as v from 'valibot';
import { projectLimits, projectUsage } from '../../compute/quotas.ts';
import { BadRequest } from '../../shared/errors.ts';
import type { AppEnv } from '../context.ts';
import { parseOrBadRequest } from '../middleware/validate.ts';
import { checkQuotaProject, quotaSetsExtension } from '../nova/os-quota-sets.ts';
import { authorize } from '../policy.ts';
import { route } from '../route.ts';
import { defineFace, translatedRoute, v3Route } from './face.ts';
import { NovaBoolean, strictQuery } from './query.ts';
import { limitOf, QUOTA_SET_FACE, quotaView, updatedLimits } from './quota-view.ts';

// os-quota-sets with v2.1's views (quota-view.ts): server-group quotas added, the network quotas gone
// from 2.36 and the personality ones from 2.57; update answers without `id`, delete with 202, and
// `/detail` shows each limit with what the project uses. Quotas are kept per project only: a user's
// quotas are its project's, so `user_id` reads them and may not change them. As on v3, a member
// asking for another project's quotas finds none (404) where Nova's policy answers 403.
const BASE = '/v3/os-quota-sets/:tenant_id';

function refuseUserQuotas(c: Context<AppEnv>): void {
  if (c.req.query('user_id') !== undefined) {
    throw new BadRequest('Quotas are kept per project only: user_id cannot set or delete a quota of its own');
  }
}

function quotaSetView(c: Context<AppEnv>, body: unknown, withId: boolean) {
  const { quota_set: limits } = body as { quota_set: Record<string, unknown> & { id: string } };
  const view = quotaView(c, QUOTA_SET_FACE, (resource) => limitOf(limits, resource));
  return { body: { quota_set: withId ? { id: limits.id, ...view } : view } };
}

const UpdateQuotaSet = v.strictObject({ quota_set: v.record(v.string(), v.unknown()) });

export const quotaSetsFace = defineFace({
  alias: 'os-quota-sets',
  routes: [
    strictQuery(
      translatedRoute({
        method: 'get',
        path: '/v2.1/os-quota-sets/:tenant_id',
        summary: "Show a project's quota set (a user's, with user_id, is the project's)",
        target: v3Route(quotaSetsExtension, 'get', BASE),
        responses: { 200: 'quota_set: id and every resource limit' },
        response: (c, body) => quotaSetView(c, body, true),
      }),
      75,
      ['user_id'],
    ),
    strictQuery(
      translatedRoute({
        method: 'get',
        path: '/v2.1/os-quota-sets/:tenant_id/defaults',
        summary: 'Show the default quota set',
        target: v3Route(quotaSetsExtension, 'get', `${BASE}/defaults`),
        responses: { 200: 'quota_set: id and every default limit' },
        response: (c, body) => quotaSetView(c, body, true),
      }),
      102,
    ),
    strictQuery(
      route({
        method: 'get',
        path: '/v2.1/os-quota-sets/:tenant_id/detail',
        summary: "Show a project's quota set with what it uses",
        responses: { 200: 'quota_set: id and {limit, in_use, reserved} per resource' },
        handler: async (c) => {
          authorize(c.var.caller, 'compute_extension:quotas:show');
          const projectId = c.req.param('tenant_id') ?? '';
          checkQuotaProject(c.var.caller, projectId);
          const [limits, usage] = await Promise.all([
            projectLimits(c.var.db, projectId),
            projectUsage(c.var.db, projectId),
          ]);
          const view = quotaView(c, QUOTA_SET_FACE, (resource) => ({
            limit: limitOf(limits, resource),
            in_use: usage[resource as keyof typeof usage] ?? 0,
            // Usage is counted when it is taken: nothing is ever held in reserve.
            reserved: 0,
          }));
          return c.json({ quota_set: { id: projectId, ...view } });
        },
      }),
      75,
      ['user_id'],
    ),
    strictQuery(
      translatedRoute({
        method: 'put',
        path: '/v2.1/os-quota-sets/:tenant_id',
        summary: "Update a project's quota set (admin; force skips the check against usage)",
        body: UpdateQuotaSet,
        target: v3Route(quotaSetsExtension, 'put', BASE),
        responses: { 200: 'quota_set: every resource limit after the update' },
        request: (c, body) => {
          refuseUserQuotas(c);
          const { force, ...limits } = updatedLimits(c, QUOTA_SET_FACE, 'quota_set', body.quota_set, [
            'force',
          ]);
          const forced = force === undefined ? {} : { force: parseOrBadRequest(NovaBoolean, force) };
          return { quota_set: { ...limits, ...forced } };
        },
        response: (c, body) => quotaSetView(c, body, false),
      }),
      75,
      ['user_id'],
    ),
    strictQuery(
      translatedRoute({
        method: 'delete',
        path: '/v2.1/os-quota-sets/:tenant_id',
        summary: "Delete a project's own limits (admin): it returns to the defaults",
        target: v3Route(quotaSetsExtension, 'delete', BASE),
        responses: { 202: 'limits reset' },
        request: (c) => refuseUserQuotas(c),
        response: () => ({ status: 202 }),
      }),
      75,
      ['user_id'],
    ),
  ],
  microversions: [
    {
      minor: 36,
      change: 'fixed_ips, floating_ips, security_groups and security_group_rules leave views and updates',
      routes: [
        '/v2.1/os-quota-sets/{tenant_id}',
        '/v2.1/os-quota-sets/{tenant_id}/defaults',
        '/v2.1/os-quota-sets/{tenant_id}/detail',
      ],
    },
    {
      minor: 57,
      change:
        'injected_files, injected_file_content_bytes and injected_file_path_bytes leave views and updates',
      routes: [
        '/v2.1/os-quota-sets/{tenant_id}',
        '/v2.1/os-quota-sets/{tenant_id}/defaults',
        '/v2.1/os-quota-sets/{tenant_id}/detail',
      ],
    },
    {
      minor: 75,
      change: 'unknown query parameters are a 400 (user_id is the one known)',
      routes: ['/v2.1/os-quota-sets/{tenant_id}', '/v2.1/os-quota-sets/{tenant_id}/detail'],
    },
    {
      minor: 102,
      change:
        'unknown query parameters are a 400 on every GET (defaults too; the others refuse them from 2.75)',
      routes: [
        '/v2.1/os-quota-sets/{tenant_id}',
        '/v2.1/os-quota-sets/{tenant_id}/defaults',
        '/v2.1/os-quota-sets/{tenant_id}/detail',
      ],
    },
  ],
});
