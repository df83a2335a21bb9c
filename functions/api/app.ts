import { Hono } from 'hono';
import { commandRoutes } from './agent/commands.ts';
import { credentialRoutes } from './agent/credentials.ts';
import { authenticateHost } from './agent/host-auth.ts';
import { registrationRoutes } from './agent/registration.ts';
import { extensionRoutes } from './compute/extensions.ts';
import { flavorRoutes } from './compute/flavors.ts';
import { databaseReplicaRoutes } from './compute/os-database-replicas.ts';
import { serverRoutes } from './compute/servers.ts';
import { versionRoutes } from './compute/versions.ts';
import type { AppEnv } from './context.ts';
import { tokenRoutes } from './identity/tokens.ts';
import { authenticate } from './middleware/auth.ts';
import { readYourWrites } from './middleware/consistency.ts';
import { onError, onNotFound } from './middleware/errors.ts';
import { requestId } from './middleware/request-id.ts';
import { services } from './middleware/services.ts';

/** Composes the API: identity, the v3 compute API, and the agent-facing host API. */
export function createApp() {
  const app = new Hono<AppEnv>();
  app.use(requestId);
  app.onError(onError);
  app.notFound(onNotFound);
  app.use(services);
  app.use(readYourWrites);

  app.route('/', versionRoutes);
  app.route('/identity/v3', tokenRoutes);

  const v3 = new Hono<AppEnv>();
  v3.use(authenticate);
  v3.route('/extensions', extensionRoutes);
  v3.route('/flavors', flavorRoutes);
  v3.route('/servers', serverRoutes);
  v3.route('/os-database-replicas', databaseReplicaRoutes);
  app.route('/v3', v3);

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
