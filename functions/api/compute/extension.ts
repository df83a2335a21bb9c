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
 * A v3 extension: its identity, the routes it adds, and the contract history of its versions.
 * Every version listed in `history` is still served: a client pins one with the
 * `X-Compute-Extension-Versions` header (functions/api/middleware/extension-versions.ts).
 */
export interface Extension extends ExtensionInfo {
  /** One line per version, oldest first; the last entry's version equals `version`. */
  history: ReadonlyArray<{ version: number; change: string }>;
  routes: Route[];
}

export function defineExtension(extension: Extension): Extension {
  const last = extension.history.at(-1);
  if (last?.version !== extension.version) {
    throw new Error(`extension ${extension.alias}: history must end at its version ${extension.version}`);
  }
  return extension;
}
