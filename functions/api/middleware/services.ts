import { createMiddleware } from 'hono/factory';
import { createDatabase } from '../../../schema/db.ts';
import { createSfnClient, createSqsClient } from '../../shared/aws.ts';
import { ApiEnv, parseConfig } from '../../shared/config.ts';
import type { AppEnv } from '../context.ts';

// Handlers are stateless: configuration is parsed from the bindings and the clients (HTTP-based,
// nothing to open) are made per request.
export const services = createMiddleware<AppEnv>(async (c, next) => {
  const config = parseConfig(ApiEnv, c.env);
  c.set('config', config);
  c.set('db', createDatabase({ primary: config.DATABASE_URL, replicas: config.DATABASE_REPLICA_URLS }));
  c.set('sqs', createSqsClient(config));
  c.set('sfn', createSfnClient(config));
  await next();
});
