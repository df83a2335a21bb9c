import * as v from 'valibot';
import { quotaClassSetsExtension } from '../nova/os-quota-class-sets.ts';
import { defineFace, translatedRoute, v3Route } from './face.ts';
import { strictQuery } from './query.ts';
import { limitOf, QUOTA_CLASS_FACE, quotaView, updatedLimits } from './quota-view.ts';

// os-quota-class-sets with v2.1's views (quota-view.ts): from 2.50 the server-group quotas are shown
// and the network ones are gone, from 2.57 the personality ones too; update answers without `id`.
const BASE = '/v3/os-quota-class-sets/:id';

export const quotaClassSetsFace = defineFace({
  alias: 'os-quota-class-sets',
  routes: [
    strictQuery(
      translatedRoute({
        method: 'get',
        path: '/v2.1/os-quota-class-sets/:id',
        summary: 'Show a quota class (`default` holds every project default)',
        target: v3Route(quotaClassSetsExtension, 'get', BASE),
        responses: { 200: 'quota_class_set: id and every resource limit' },
        response: (c, body) => {
          const { quota_class_set: limits } = body as {
            quota_class_set: Record<string, unknown> & { id: string };
          };
          const view = quotaView(c, QUOTA_CLASS_FACE, (resource) => limitOf(limits, resource));
          return { body: { quota_class_set: { id: limits.id, ...view } } };
        },
      }),
      102,
    ),
    translatedRoute({
      method: 'put',
      path: '/v2.1/os-quota-class-sets/:id',
      summary: 'Update a quota class (admin)',
      body: v.strictObject({ quota_class_set: v.record(v.string(), v.unknown()) }),
      target: v3Route(quotaClassSetsExtension, 'put', BASE),
      responses: { 200: 'quota_class_set: every resource limit after the update' },
      request: (c, body) => ({
        quota_class_set: updatedLimits(c, QUOTA_CLASS_FACE, 'quota_class_set', body.quota_class_set),
      }),
      response: (c, body) => {
        const { quota_class_set: limits } = body as { quota_class_set: Record<string, unknown> };
        return {
          body: { quota_class_set: quotaView(c, QUOTA_CLASS_FACE, (resource) => limitOf(limits, resource)) },
        };
      },
    }),
  ],
  microversions: [
    {
      minor: 50,
      change:
        'server_groups and server_group_members are shown; fixed_ips, floating_ips, security_groups and security_group_rules leave views and updates',
      routes: ['/v2.1/os-quota-class-sets/{id}'],
    },
    {
      minor: 57,
      change:
        'injected_files, injected_file_content_bytes and injected_file_path_bytes leave views and updates',
      routes: ['/v2.1/os-quota-class-sets/{id}'],
    },
    {
      minor: 102,
      change: 'unknown query parameters on show are a 400',
      routes: ['/v2.1/os-quota-class-sets/{id}'],
    },
  ],
});
