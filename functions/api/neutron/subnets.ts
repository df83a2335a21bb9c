import type { Route } from '../route.ts';

export const subnetsRoutes: Route[] = [];
