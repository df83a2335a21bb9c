import type { Context } from 'hono';
import type { AppEnv } from '../context.ts';
import { route } from '../route.ts';
import { defineExtension } from './extension.ts';

const V3_UPDATED = '2013-07-23T11:33:21Z';

export function v3Document(c: Context<AppEnv>) {
  const origin = new URL(c.req.url).origin;
  return {
    id: 'v3.0',
    status: 'EXPERIMENTAL',
    updated: V3_UPDATED,
    links: [{ href: `${origin}/v3/`, rel: 'self' }],
    'media-types': [{ base: 'application/json', type: 'application/vnd.openstack.compute+json;version=3' }],
  };
}

/** `GET /v3` describes v3 without a token; `GET /` lists every version (functions/api/nova-v21/versions.ts). */
export const versionsExtension = defineExtension({
  alias: 'versions',
  name: 'Versions',
  description: 'API version information.',
  version: 1,
  core: true,
  history: [{ version: 1, change: 'GET / and GET /v3 version documents' }],
  routes: [
    route({
      method: 'get',
      path: '/v3',
      summary: 'Describe API v3',
      auth: 'none',
      responses: { 200: 'version' },
      handler: (c) => c.json({ version: v3Document(c) }),
    }),
  ],
});
