import type { Route } from '../route.ts';

export const quotasRoutes: Route[] = [];
