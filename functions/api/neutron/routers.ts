import type { Route } from '../route.ts';

export const routersRoutes: Route[] = [];
