import type { Route } from '../route.ts';

export const networksRoutes: Route[] = [];
