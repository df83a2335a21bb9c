import type { Route } from '../route.ts';

export const securityGroupsRoutes: Route[] = [];
