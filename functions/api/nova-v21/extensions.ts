import { NotFound } from '../../shared/errors.ts';
import { extensionsExtension } from '../nova/extensions.ts';
import { route } from '../route.ts';
import { defineFace, translatedRoute, v3Route } from './face.ts';
import { strictQuery } from './query.ts';

// GET /extensions in v2's shape: the extensions this deployment serves, under the alias v2 clients
// know them by where it differs from v3's. v2.1 froze its list with the same namespace and date for
// every entry; links were always empty.
const V2_ALIASES: Record<string, string> = {
  keypairs: 'os-keypairs',
  'flavor-extra-specs': 'os-flavor-extra-specs',
  'flavor-manage': 'os-flavor-manage',
  'os-extended-availability-zone': 'OS-EXT-AZ',
  'os-extended-server-attributes': 'OS-EXT-SRV-ATTR',
  'os-extended-status': 'OS-EXT-STS',
  'os-server-usage': 'OS-SRV-USG',
  'os-scheduler-hints': 'OS-SCH-HNT',
};
const NAMESPACE = 'http://docs.openstack.org/compute/ext/fake_xml';
const UPDATED = '2014-12-03T00:00:00Z';

function v2Extension(extension: { alias: string; name: string; description: string }) {
  return {
    alias: V2_ALIASES[extension.alias] ?? extension.alias,
    name: extension.name,
    description: extension.description,
    namespace: NAMESPACE,
    updated: UPDATED,
    links: [],
  };
}

export const extensionsFace = defineFace({
  alias: 'extensions',
  routes: [
    strictQuery(
      translatedRoute({
        method: 'get',
        path: '/v2.1/extensions',
        summary: 'List the extensions this deployment serves',
        target: v3Route(extensionsExtension, 'get', '/v3/extensions'),
        responses: { 200: 'extensions: [{name, alias, description, namespace, updated, links}]' },
        response: (_c, body) => {
          const { extensions } = body as {
            extensions: Array<{ alias: string; name: string; description: string }>;
          };
          return { body: { extensions: extensions.map(v2Extension) } };
        },
      }),
      102,
    ),
    strictQuery(
      route({
        method: 'get',
        path: '/v2.1/extensions/:alias',
        summary: 'Show one extension by its v2 alias',
        responses: { 200: 'extension' },
        handler: (c) => {
          const alias = c.req.param('alias');
          const extension = c.var.extensions.map(v2Extension).find((candidate) => candidate.alias === alias);
          if (!extension) throw new NotFound(`Extension ${alias} could not be found.`);
          return c.json({ extension });
        },
      }),
      102,
    ),
  ],
  microversions: [
    {
      minor: 102,
      change: 'unknown query parameters are a 400',
      routes: ['/v2.1/extensions', '/v2.1/extensions/{alias}'],
    },
  ],
});
