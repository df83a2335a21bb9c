import { NotFound } from '../../shared/errors.ts';
import { route } from '../route.ts';
import { defineExtension, type ExtensionInfo } from './extension.ts';
import { buildOpenApi, renderReference } from './openapi.ts';

function view({ alias, name, description, version }: ExtensionInfo) {
  return { alias, name, description, version };
}

/** Discovery: the loaded extensions, and the OpenAPI document built from their routes. */
export const extensionsExtension = defineExtension({
  alias: 'extensions',
  name: 'Extensions',
  description: 'Extension information, the OpenAPI document and a browsable API reference.',
  version: 1,
  core: true,
  history: [{ version: 1, change: 'list, show, openapi.json, reference page' }],
  routes: [
    route({
      method: 'get',
      path: '/v3/extensions',
      summary: 'List the loaded extensions',
      responses: { 200: 'extensions: alias, name, description, version' },
      handler: (c) => c.json({ extensions: c.var.extensions.map(view) }),
    }),
    route({
      method: 'get',
      path: '/v3/extensions/:alias',
      summary: 'Show one extension',
      responses: { 200: 'extension' },
      handler: (c) => {
        const extension = c.var.extensions.find((candidate) => candidate.alias === c.req.param('alias'));
        if (!extension) throw new NotFound(`Extension ${c.req.param('alias')} could not be found.`);
        return c.json({ extension: view(extension) });
      },
    }),
    route({
      method: 'get',
      path: '/v3/openapi.json',
      summary: 'The OpenAPI 3.1 document of the loaded extensions',
      auth: 'none',
      responses: { 200: 'OpenAPI document' },
      handler: (c) => c.json(buildOpenApi(c.var.extensions, new URL(c.req.url).origin)),
    }),
    route({
      method: 'get',
      path: '/v3/api-reference',
      summary: 'Browsable API reference (HTML)',
      auth: 'none',
      responses: { 200: 'HTML page' },
      handler: (c) => c.html(renderReference(buildOpenApi(c.var.extensions, new URL(c.req.url).origin))),
    }),
  ],
});
