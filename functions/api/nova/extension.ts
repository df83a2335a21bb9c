import type { Context } from 'hono';
import type { flavors, instances } from '../../../schema/tables/index.ts';
import type { AppEnv } from '../context.ts';
import type { Route } from '../route.ts';

/** What every v3 extension declares about itself; `GET /v3/extensions` lists these. */
export interface ExtensionInfo {
  alias: string;
  name: string;
  description: string;
  /** Goes up whenever the extension's contract changes. */
  version: number;
  /** Core extensions cannot be disabled. */
  core: boolean;
}

/**
 * A v3 extension: its identity, the routes it adds, the attributes it adds to other resources' views,
 * and the contract history of its versions. Every version listed in `history` is still served: a
 * client pins one with the `X-Compute-Extension-Versions` header
 * (functions/api/middleware/extension-versions.ts).
 */
export interface Extension extends ExtensionInfo {
  /** One line per version, oldest first; the last entry's version equals `version`. */
  history: ReadonlyArray<{ version: number; change: string }>;
  routes: Route[];
  /**
   * Attributes added to every server view while the extension is enabled (Havana's response
   * extensions), namespaced `alias:field`. Reads the row already loaded: no query of its own.
   */
  serverAttributes?(c: Context<AppEnv>, instance: typeof instances.$inferSelect): Record<string, unknown>;
  /** Attributes added to every flavor view while the extension is enabled. */
  flavorAttributes?(flavor: typeof flavors.$inferSelect): Record<string, unknown>;
}

export function defineExtension(extension: Extension): Extension {
  const last = extension.history.at(-1);
  if (last?.version !== extension.version) {
    throw new Error(`extension ${extension.alias}: history must end at its version ${extension.version}`);
  }
  return extension;
}

/** The attributes the enabled extensions add to a view, merged in registry order. */
export function extensionAttributes(
  extensions: readonly Extension[],
  attributes: (extension: Extension) => Record<string, unknown> | undefined,
): Record<string, unknown> {
  return Object.assign({}, ...extensions.map((extension) => attributes(extension) ?? {}));
}
