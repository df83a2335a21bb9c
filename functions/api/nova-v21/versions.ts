import type { Context } from 'hono';
import type { AppEnv } from '../context.ts';
import { v3Document } from '../nova/versions.ts';
import { type Route, route } from '../route.ts';
import { defineFace } from './face.ts';
import { formatMicroversion, MIN_MICROVERSION } from './microversion.ts';

// The compute version documents (clients-and-microversions.md §1.2–1.3). keystoneauth and novaclient
// read `version`/`min_version` and take the chosen entry's `self` href as the service's base URL, so
// the hrefs are this request's own origin and end in `/`.
const V2_UPDATED = '2011-01-21T11:33:21Z';
const V21_UPDATED = '2013-07-23T11:33:21Z';

function v20Document(c: Context<AppEnv>) {
  return {
    id: 'v2.0',
    status: 'SUPPORTED',
    version: '',
    min_version: '',
    updated: V2_UPDATED,
    links: [{ rel: 'self', href: `${new URL(c.req.url).origin}/v2/` }],
  };
}

function v21Document(c: Context<AppEnv>, max: number) {
  return {
    id: 'v2.1',
    status: 'CURRENT',
    version: formatMicroversion(max),
    min_version: formatMicroversion(MIN_MICROVERSION),
    updated: V21_UPDATED,
    links: [{ rel: 'self', href: `${new URL(c.req.url).origin}/v2.1/` }],
  };
}

function describedBy(
  c: Context<AppEnv>,
  document: { links: Array<{ rel: string; href: string }> },
  type: string,
) {
  return {
    ...document,
    links: [
      ...document.links,
      { rel: 'describedby', type: 'text/html', href: `${new URL(c.req.url).origin}/v3/openapi.html` },
    ],
    'media-types': [{ base: 'application/json', type }],
  };
}

/** `GET /` (every version, sorted by id) and the v2.0/v2.1 documents; none needs a token. */
export function versionRoutes(max: number): Route[] {
  const v21 = (c: Context<AppEnv>) =>
    c.json({
      version: describedBy(c, v21Document(c, max), 'application/vnd.openstack.compute+json;version=2.1'),
    });
  const v20 = (c: Context<AppEnv>) =>
    c.json({ version: describedBy(c, v20Document(c), 'application/vnd.openstack.compute+json;version=2') });
  const document = (path: string, handler: (c: Context<AppEnv>) => Response) =>
    route({
      method: 'get',
      path,
      summary: `Describe the compute API at ${path}`,
      auth: 'none',
      responses: { 200: 'version' },
      handler,
    });
  return [
    route({
      method: 'get',
      path: '/',
      summary: 'List the compute API versions',
      auth: 'none',
      responses: { 200: 'versions: v2.0, v2.1 (with its microversion range), v3.0' },
      handler: (c) => c.json({ versions: [v20Document(c), v21Document(c, max), v3Document(c)] }),
    }),
    document('/v2.1', v21),
    document('/v2.1/', v21),
    document('/v2', v20),
    document('/v2/', v20),
  ];
}

/** What the framework itself implements for every route, as microversion history. */
export const versionsFace = defineFace({
  alias: 'versions',
  routes: [],
  microversions: [
    {
      minor: 18,
      change: 'routes are served without a project id segment at every microversion (the catalog has none)',
      routes: ['/v2.1/*'],
    },
    {
      minor: 27,
      change: 'OpenStack-API-Version: compute 2.X is read (and answered) beside X-OpenStack-Nova-API-Version',
      routes: ['/v2.1/*'],
    },
    {
      minor: 46,
      change: 'every answer carries X-OpenStack-Request-ID beside X-Compute-Request-ID',
      routes: ['/v2.1/*'],
    },
  ],
});
