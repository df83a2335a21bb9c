import { createMiddleware } from 'hono/factory';
import type { AppEnv } from '../context.ts';

// Every response, errors included, carries the id under which the request is logged and recorded
// in instance actions.
export const requestId = createMiddleware<AppEnv>(async (c, next) => {
  const id = `req-${crypto.randomUUID()}`;
  c.set('requestId', id);
  c.header('x-openstack-request-id', id);
  c.header('x-compute-request-id', id);
  await next();
});
