import type { Route } from '../route.ts';

export const floatingipsRoutes: Route[] = [];
