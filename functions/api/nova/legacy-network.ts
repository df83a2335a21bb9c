import type { Context, Hono, MiddlewareHandler } from 'hono';
import { createMiddleware } from 'hono/factory';
import { refuseLegacyWriteWhileFrozen } from '../../network/migration/freeze.ts';
import { networkApiMode } from '../../network/mode.ts';
import { NotFound } from '../../shared/errors.ts';
import type { AppEnv } from '../context.ts';

// nova-network's API (os-networks, os-fixed-ips, os-floating-ips, os-floating-ip-pools,
// os-floating-ips-bulk and the add/remove floating IP server actions) is kept for deployments that
// still run it, and deprecated: every answer of those routes, on /v3 and /v2.1 and errors included,
// says so in headers (RFC 9745's Deprecation, and a Warning naming the replacement). A deployment that
// runs the networking service answers them 404, pointing at it. One middleware per face does both, in
// front of the routes, so no handler repeats it.

/**
 * When this control plane deprecated nova-network: the release that added the networking service
 * (issue 14), 2026-12-01T00:00:00Z. RFC 9745 writes it as `@<unix seconds>`.
 */
export const NOVA_NETWORK_DEPRECATED_AT = new Date('2026-12-01T00:00:00Z');

export const DEPRECATION_HEADER = `@${NOVA_NETWORK_DEPRECATED_AT.getTime() / 1000}`;

/** RFC 7234's 299 ("miscellaneous persistent warning"), naming what replaces these routes. */
export const DEPRECATION_WARNING =
  '299 - "nova-network is deprecated: use the networking service at /network/v2.0"';

export const NEUTRON_MODE_MESSAGE =
  'nova-network is not served: this deployment runs the networking service at /network/v2.0';

/** The aliases (and collection names) of the legacy extensions. */
export const LEGACY_NETWORK_COLLECTIONS = [
  'os-networks',
  'os-fixed-ips',
  'os-floating-ips',
  'os-floating-ip-pools',
  'os-floating-ips-bulk',
] as const;

/** The server actions that belong to nova-network (os-floating-ips). */
export const LEGACY_NETWORK_ACTIONS = ['addFloatingIp', 'removeFloatingIp'] as const;

function deprecate(c: Context<AppEnv>): void {
  c.header('Deprecation', DEPRECATION_HEADER);
  c.header('Warning', DEPRECATION_WARNING);
}

/**
 * Marks the answer deprecated and, under the networking service, refuses the route. The headers are
 * set on the context before anything else runs, so the answer built for an error (the auth check's,
 * a body's 400, this 404) carries them as well as the handlers' own.
 */
const legacyNetworkRoute = createMiddleware<AppEnv>(async (c, next) => {
  deprecate(c);
  if ((await networkApiMode(c.var.db.$primary, c.var.config)) === 'neutron')
    throw new NotFound(NEUTRON_MODE_MESSAGE);
  // A migration to the networking service copies the legacy state: no write may change it meanwhile.
  if (c.req.method !== 'GET' && c.req.method !== 'HEAD')
    await refuseLegacyWriteWhileFrozen(c.var.db.$primary);
  await next();
  // An answer made as a Response of its own (not through the context) gets them here.
  c.res.headers.set('Deprecation', DEPRECATION_HEADER);
  c.res.headers.set('Warning', DEPRECATION_WARNING);
});

/** Whether a server action request names a nova-network action (its body is read once and cached). */
async function isLegacyAction(c: Context<AppEnv>): Promise<boolean> {
  let body: unknown;
  try {
    body = await c.req.json();
  } catch {
    return false;
  }
  if (typeof body !== 'object' || body === null) return false;
  return Object.keys(body).some((name) => (LEGACY_NETWORK_ACTIONS as readonly string[]).includes(name));
}

const legacyNetworkAction: MiddlewareHandler<AppEnv> = async (c, next) =>
  (await isLegacyAction(c)) ? legacyNetworkRoute(c, next) : next();

/**
 * Puts the legacy middleware in front of a face's nova-network routes. Call it before the face's
 * routes are mounted: Hono runs handlers in the order they were added.
 */
export function mountLegacyNetworkGuard(app: Hono<AppEnv>, prefix: '/v3' | '/v2.1'): void {
  // `<collection>/*` matches the collection itself too, and not `os-floating-ips-bulk` for `os-floating-ips`.
  for (const collection of LEGACY_NETWORK_COLLECTIONS)
    app.use(`${prefix}/${collection}/*`, legacyNetworkRoute);
  app.use(`${prefix}/servers/:server_id/action`, legacyNetworkAction);
}
