import { Hono } from 'hono';
import { commandRoutes } from './compute-agent/commands.ts';
import { credentialRoutes } from './compute-agent/credentials.ts';
import { authenticateHost } from './compute-agent/host-auth.ts';
import { registrationRoutes } from './compute-agent/registration.ts';
import type { AppEnv } from './context.ts';
import { identityRoutes } from './keystone/routes.ts';
import { readYourWrites } from './middleware/consistency.ts';
import { onError, onNotFound } from './middleware/errors.ts';
import { extensionVersions } from './middleware/extension-versions.ts';
import { requestId } from './middleware/request-id.ts';
import { services } from './middleware/services.ts';
import { mountNetworking } from './neutron/routes.ts';
import { ALL_EXTENSIONS, enabledExtensions, mountExtensions } from './nova/registry.ts';
import { mountV21 } from './nova-v21/registry.ts';

/**
 * Composes the API: identity, networking, the compute API's v2.1 and v3 faces, and the agent-facing host API.
 * `microversionCeiling` replaces the advertised maximum (tests reach the microversions faces
 * implement beyond it); deployments never set it.
 */
export function createApp(options: { microversionCeiling?: number } = {}) {
  const app = new Hono<AppEnv>();
  app.use(requestId);
  app.onError(onError);
  app.notFound(onNotFound);
  app.use(services);
  app.use(async (c, next) => {
    c.set('extensions', enabledExtensions(c.var.config.DISABLED_EXTENSIONS));
    c.set('computeFace', 'v3');
    c.set('microversion', 1);
    await next();
  });
  app.use(extensionVersions(ALL_EXTENSIONS));
  app.use(readYourWrites);

  app.route('/identity', identityRoutes);
  mountNetworking(app);
  mountV21(app, options.microversionCeiling);
  mountExtensions(app);

  app.route('/compute-agent/v1/credentials', credentialRoutes);
  // Host credentials guard exactly the agent's own routes (the credentials route above takes an admin token).
  for (const path of [
    '/compute-agent/v1/register',
    '/compute-agent/v1/report',
    '/compute-agent/v1/commands/*',
  ]) {
    app.use(path, authenticateHost);
  }
  app.route('/compute-agent/v1', registrationRoutes);
  app.route('/compute-agent/v1/commands', commandRoutes);
  return app;
}
