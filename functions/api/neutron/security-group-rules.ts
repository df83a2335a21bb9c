import type { Route } from '../route.ts';

export const securityGroupRulesRoutes: Route[] = [];
