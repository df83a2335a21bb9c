import type { Context, Hono } from 'hono';
import { NotFound } from '../../shared/errors.ts';
import type { AppEnv } from '../context.ts';
import { mountLegacyNetworkGuard } from '../nova/legacy-network.ts';
import { mountRoutes } from '../route.ts';
import { extensionsFace } from './extensions.ts';
import type { V21Face } from './face.ts';
import { flavorExtraSpecsFace } from './flavor-extra-specs.ts';
import { flavorManageFace } from './flavor-manage.ts';
import { flavorsFace } from './flavors.ts';
import { ipsFace } from './ips.ts';
import { keypairsFace } from './keypairs.ts';
import { limitsFace } from './limits.ts';
import { LEGACY_HEADER, microversions, STANDARD_HEADER } from './microversion.ts';
import { advertisedMaximum, declarations } from './microversion-table.ts';
import { adminActionsFace } from './os-admin-actions.ts';
import { aggregatesFace } from './os-aggregates.ts';
import { availabilityZoneFace } from './os-availability-zone.ts';
import { evacuateFace } from './os-evacuate.ts';
import { fixedIpsFace } from './os-fixed-ips.ts';
import { flavorAccessFace } from './os-flavor-access.ts';
import { floatingIpPoolsFace } from './os-floating-ip-pools.ts';
import { floatingIpsFace } from './os-floating-ips.ts';
import { floatingIpsBulkFace } from './os-floating-ips-bulk.ts';
import { hostsFace } from './os-hosts.ts';
import { hypervisorsFace } from './os-hypervisors.ts';
import { instanceActionsFace } from './os-instance-actions.ts';
import { osInterfaceFace } from './os-interface.ts';
import { migrationsFace } from './os-migrations.ts';
import { networksFace } from './os-networks.ts';
import { quotaClassSetsFace } from './os-quota-class-sets.ts';
import { quotaSetsFace } from './os-quota-sets.ts';
import { servicesFace } from './os-services.ts';
import { simpleTenantUsageFace } from './os-simple-tenant-usage.ts';
import { serverMetadataFace } from './server-metadata.ts';
import { serverMigrationsFace } from './server-migrations.ts';
import { serversFace } from './servers.ts';
import { versionRoutes, versionsFace } from './versions.ts';

/** Every v2.1 face, listed explicitly; each belongs to the v3 extension with the same alias. */
export const ALL_FACES: V21Face[] = [
  versionsFace,
  keypairsFace,
  serversFace,
  serverMetadataFace,
  ipsFace,
  osInterfaceFace,
  adminActionsFace,
  evacuateFace,
  instanceActionsFace,
  serverMigrationsFace,
  flavorsFace,
  flavorManageFace,
  flavorExtraSpecsFace,
  flavorAccessFace,
  limitsFace,
  quotaSetsFace,
  quotaClassSetsFace,
  availabilityZoneFace,
  extensionsFace,
  hypervisorsFace,
  servicesFace,
  aggregatesFace,
  migrationsFace,
  simpleTenantUsageFace,
  hostsFace,
  networksFace,
  fixedIpsFace,
  floatingIpsFace,
  floatingIpPoolsFace,
  floatingIpsBulkFace,
];

/** The microversion `GET /v2.1` advertises: every change up to it is implemented or not served. */
export const MAX_MICROVERSION = advertisedMaximum(declarations(ALL_FACES));

/**
 * Mounts the version documents, the microversion middleware and every face's routes. A face whose
 * extension this deployment disabled answers 404, like the extension's v3 routes.
 */
export function mountV21(app: Hono<AppEnv>, max = MAX_MICROVERSION): void {
  // Hono runs handlers in the order they were added: the middleware first, and the version documents
  // before the /v2/* re-dispatch so that GET /v2/ is the v2.0 document.
  // `/v2.1/*` matches `/v2.1` itself too.
  app.use('/v2.1/*', microversions(max));
  mountLegacyNetworkGuard(app, '/v2.1');
  mountRoutes(app, versionRoutes(max));
  // The legacy /v2 prefix is the same API fixed at 2.1 that names no version (Nova's
  // LegacyV2CompatibleWrapper): served by re-dispatching to /v2.1 without the version headers.
  app.all('/v2/*', async (c) => {
    const url = new URL(c.req.url);
    url.pathname = url.pathname.replace(/^\/v2\//, '/v2.1/');
    const headers = new Headers(c.req.raw.headers);
    headers.delete(STANDARD_HEADER);
    headers.delete(LEGACY_HEADER);
    const answer = await app.fetch(
      new Request(url, { method: c.req.method, headers, body: c.req.raw.body }),
      c.env,
    );
    const stripped = new Response(answer.body, answer);
    stripped.headers.delete('OpenStack-API-Version');
    stripped.headers.delete('X-OpenStack-Nova-API-Version');
    stripped.headers.delete('Vary');
    return stripped;
  });
  for (const face of ALL_FACES) {
    mountRoutes(app, face.routes, (c: Context<AppEnv>) => {
      if (!c.var.extensions.some((extension) => extension.alias === face.alias)) {
        throw new NotFound(`The resource could not be found: extension ${face.alias} is disabled`);
      }
    });
  }
}
