import type { Hono } from 'hono';
import type { AppEnv } from '../context.ts';
import { mountRoutes, type Route } from '../route.ts';
import { floatingipsRoutes } from './floatingips.ts';
import { networksRoutes } from './networks.ts';
import { portsRoutes } from './ports.ts';
import { quotasRoutes } from './quotas.ts';
import { routersRoutes } from './routers.ts';
import { securityGroupRulesRoutes } from './security-group-rules.ts';
import { securityGroupsRoutes } from './security-groups.ts';
import { subnetsRoutes } from './subnets.ts';
import { networkVersionRoutes } from './versions.ts';

/**
 * The networking service, Neutron's v2.0 API at /network/v2.0 (functions/network/ holds its logic).
 * Errors under /network answer with Neutron's body (functions/api/middleware/errors.ts).
 */
export const NETWORK_ROUTES: Route[] = [
  ...networkVersionRoutes,
  ...networksRoutes,
  ...subnetsRoutes,
  ...portsRoutes,
  ...routersRoutes,
  ...floatingipsRoutes,
  ...securityGroupsRoutes,
  ...securityGroupRulesRoutes,
  ...quotasRoutes,
];

export function mountNetworking(app: Hono<AppEnv>): void {
  mountRoutes(app, NETWORK_ROUTES);
}
