import { Hono } from 'hono';
import type { AppEnv } from '../context.ts';
import { authRoutes } from './auth.ts';
import { catalogRoutes } from './catalog.ts';
import { domainRoutes } from './domains.ts';
import { grantRoutes } from './grants.ts';
import { projectRoutes } from './projects.ts';
import { roleRoutes } from './roles.ts';
import { userRoutes } from './users.ts';
import { versionRoutes } from './versions.ts';

/**
 * The Keystone v3 identity service, mounted at /identity. Its handlers read from the primary: Keystone
 * clients never carry our consistency token, and the next command of a script (a separate `openstack`
 * process) routinely looks up what the previous one just created.
 */
export const identityRoutes = new Hono<AppEnv>()
  .route('/', versionRoutes)
  .route('/v3', authRoutes)
  .route('/v3', projectRoutes)
  .route('/v3', userRoutes)
  .route('/v3', roleRoutes)
  .route('/v3', grantRoutes)
  .route('/v3', domainRoutes)
  .route('/v3', catalogRoutes);
