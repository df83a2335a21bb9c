import { Hono } from 'hono';
import { NotFound } from '../../shared/errors.ts';
import type { AppEnv } from '../context.ts';
import type { ExtensionInfo } from './extension.ts';
import { FLAVORS_EXTENSION } from './flavors.ts';
import { DATABASE_REPLICAS_EXTENSION } from './os-database-replicas.ts';
import { SERVERS_EXTENSION } from './servers.ts';
import { VERSIONS_EXTENSION } from './versions.ts';

export const EXTENSIONS_EXTENSION = {
  alias: 'extensions',
  name: 'Extensions',
  description: 'Extension information.',
  version: 1,
  core: true,
} as const satisfies ExtensionInfo;

/** The registry: listed explicitly, no discovery. */
export const LOADED_EXTENSIONS: ExtensionInfo[] = [
  DATABASE_REPLICAS_EXTENSION,
  EXTENSIONS_EXTENSION,
  FLAVORS_EXTENSION,
  SERVERS_EXTENSION,
  VERSIONS_EXTENSION,
];

function view({ alias, name, description, version }: ExtensionInfo) {
  return { alias, name, description, version };
}

export const extensionRoutes = new Hono<AppEnv>()
  .get('/', (c) => c.json({ extensions: LOADED_EXTENSIONS.map(view) }))
  .get('/:alias', (c) => {
    const extension = LOADED_EXTENSIONS.find((candidate) => candidate.alias === c.req.param('alias'));
    if (!extension) throw new NotFound(`Extension ${c.req.param('alias')} could not be found.`);
    return c.json({ extension: view(extension) });
  });
