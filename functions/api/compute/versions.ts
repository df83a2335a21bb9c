import { Hono } from 'hono';
import type { AppEnv } from '../context.ts';

export const VERSIONS_EXTENSION = {
  alias: 'versions',
  name: 'Versions',
  description: 'API version information.',
  version: 1,
  core: true,
} as const;

const V3_UPDATED = '2013-07-23T11:33:21Z';

function v3Document(origin: string) {
  return {
    id: 'v3.0',
    status: 'EXPERIMENTAL',
    updated: V3_UPDATED,
    links: [{ href: `${origin}/v3/`, rel: 'self' }],
    'media-types': [{ base: 'application/json', type: 'application/vnd.openstack.compute+json;version=3' }],
  };
}

/** `GET /` lists the versions; `GET /v3` describes v3. Neither needs a token. */
export const versionRoutes = new Hono<AppEnv>()
  .get('/', (c) => c.json({ versions: [v3Document(new URL(c.req.url).origin)] }))
  .get('/v3', (c) => c.json({ version: v3Document(new URL(c.req.url).origin) }))
  .get('/v3/', (c) => c.json({ version: v3Document(new URL(c.req.url).origin) }));
