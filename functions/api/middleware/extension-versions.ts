import type { Context } from 'hono';
import { createMiddleware } from 'hono/factory';
import { BadRequest } from '../../shared/errors.ts';
import type { AppEnv } from '../context.ts';
import type { Extension } from '../nova/extension.ts';

/**
 * `X-Compute-Extension-Versions: servers=1, flavors=1` pins the contract of named extensions to an
 * older version; unnamed extensions answer with their current version.
 */
export const EXTENSION_VERSIONS_HEADER = 'x-compute-extension-versions';

export function extensionVersions(extensions: Extension[]) {
  const byAlias = new Map(extensions.map((extension) => [extension.alias, extension]));
  return createMiddleware<AppEnv>(async (c, next) => {
    const header = c.req.header(EXTENSION_VERSIONS_HEADER);
    const pinned = new Map<string, number>();
    for (const item of header ? header.split(',') : []) {
      const match = /^\s*([a-z0-9-]+)\s*=\s*(\d+)\s*$/.exec(item);
      if (!match?.[1] || !match[2]) {
        throw new BadRequest(
          `${EXTENSION_VERSIONS_HEADER}: expected alias=version pairs, got '${item.trim()}'`,
        );
      }
      const extension = byAlias.get(match[1]);
      if (!extension)
        throw new BadRequest(`${EXTENSION_VERSIONS_HEADER}: no extension '${match[1]}' is loaded`);
      const version = Number(match[2]);
      if (!extension.history.some((entry) => entry.version === version)) {
        throw new BadRequest(
          `${EXTENSION_VERSIONS_HEADER}: ${extension.alias} serves versions ${extension.history.map((entry) => entry.version).join(', ')}, not ${version}`,
        );
      }
      pinned.set(extension.alias, version);
    }
    c.set('extensionVersions', pinned);
    await next();
  });
}

/** The contract version of `extension` this request asked for. */
export function requestedVersion(
  c: Context<AppEnv>,
  extension: Pick<Extension, 'alias' | 'version'>,
): number {
  return c.var.extensionVersions?.get(extension.alias) ?? extension.version;
}
