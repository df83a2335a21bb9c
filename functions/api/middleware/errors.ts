import type { Context, ErrorHandler, NotFoundHandler } from 'hono';
import { HTTPException } from 'hono/http-exception';
import { ConfigError } from '../../shared/config.ts';
import { ComputeError, duplicateKeyMessage, isDuplicateKey } from '../../shared/errors.ts';
import type { AppEnv } from '../context.ts';

// The one place errors become responses: Nova's body `{"<fault>": {"code", "message"}}`. Anything
// that is not a typed error is a real fault: logged with the request id, answered without internals.
function faultBody(c: Context<AppEnv>, status: number, fault: string, message: string) {
  const requestId = c.get('requestId');
  if (requestId) c.header('x-openstack-request-id', requestId);
  return c.json({ [fault]: { code: status, message } }, status as 400);
}

const HTTP_FAULTS: Record<number, string> = {
  400: 'badRequest',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'itemNotFound',
  405: 'badMethod',
  409: 'conflictingRequest',
  413: 'overLimit',
  415: 'badMediaType',
};

export const onError: ErrorHandler<AppEnv> = (error, c) => {
  if (error instanceof ComputeError) return faultBody(c, error.status, error.fault, error.message);
  // A unique constraint lost to a concurrent request: the resource exists now, which is a conflict.
  if (isDuplicateKey(error)) return faultBody(c, 409, 'conflictingRequest', duplicateKeyMessage(error));
  if (error instanceof HTTPException && HTTP_FAULTS[error.status]) {
    return faultBody(c, error.status, HTTP_FAULTS[error.status] ?? 'badRequest', error.message);
  }
  console.error(
    JSON.stringify({
      level: 'error',
      request_id: c.get('requestId'),
      kind: error instanceof ConfigError ? 'configuration' : 'unexpected',
      name: error.name,
      message: error.message,
      // Drizzle wraps the driver's error ("Failed query: ..."): the cause says what the database said.
      cause: error.cause instanceof Error ? error.cause.message : undefined,
      stack: error.stack,
    }),
  );
  return faultBody(
    c,
    500,
    'computeFault',
    'The server has either erred or is incapable of performing the requested operation.',
  );
};

export const onNotFound: NotFoundHandler<AppEnv> = (c) =>
  faultBody(
    c,
    404,
    'itemNotFound',
    `The resource could not be found: ${c.req.method} ${new URL(c.req.url).pathname}`,
  );
