import type { Route } from '../route.ts';

export const portsRoutes: Route[] = [];
