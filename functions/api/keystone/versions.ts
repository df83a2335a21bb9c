import { type Context, Hono } from 'hono';
import type { AppEnv } from '../context.ts';
import { identityBase } from './views.ts';

// Keystone's discovery (keystone/api/discovery.py). keystoneauth fetches the auth_url (or the catalog's
// identity endpoint, `/identity`), picks the v3 entry and uses its `self` href as the v3 base, so the
// href must be this API's own external URL.
function v3Document(c: Context<AppEnv>) {
  return {
    id: 'v3.14',
    status: 'stable',
    updated: '2020-04-07T00:00:00Z',
    links: [{ rel: 'self', href: `${identityBase(c)}/` }],
    'media-types': [{ base: 'application/json', type: 'application/vnd.openstack.identity-v3+json' }],
  };
}

const describeV3 = (c: Context<AppEnv>) => c.json({ version: v3Document(c) });

export const versionRoutes = new Hono<AppEnv>()
  // Only v3 exists, so the "multiple choices" point at it (Keystone's answer).
  .get('/', (c) => {
    c.header('Location', `${identityBase(c)}/`);
    return c.json({ versions: { values: [v3Document(c)] } }, 300);
  })
  .get('/v3', describeV3)
  .get('/v3/', describeV3);
