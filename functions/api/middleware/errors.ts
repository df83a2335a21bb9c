import type { Context, ErrorHandler, NotFoundHandler } from 'hono';
import { HTTPException } from 'hono/http-exception';
import { NetworkError } from '../../network/errors.ts';
import { ConfigError } from '../../shared/config.ts';
import { ComputeError, duplicateKeyMessage, isDuplicateKey } from '../../shared/errors.ts';
import type { AppEnv } from '../context.ts';

// The one place errors become responses, in the body of the service the path belongs to: Keystone's
// `{"error": {"code", "title", "message"}}` under /identity, Neutron's `{"NeutronError": {"type",
// "message", "detail"}}` under /network, Nova's `{"<fault>": {"code", "message"}}` everywhere else. Anything that is not a typed error is a real fault: logged with the request id,
// answered without internals.
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

// Keystone's `title` is the HTTP reason phrase.
const REASON_PHRASES: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  409: 'Conflict',
  413: 'Request Entity Too Large',
  415: 'Unsupported Media Type',
  500: 'Internal Server Error',
  501: 'Not Implemented',
  503: 'Service Unavailable',
};

const INTERNAL_ERROR = 'The server has either erred or is incapable of performing the requested operation.';

function isServicePath(c: Context<AppEnv>, root: string): boolean {
  const path = new URL(c.req.url).pathname;
  return path === root || path.startsWith(`${root}/`);
}

// Neutron's exception names for errors raised outside the networking code (validation, auth, routing).
const NEUTRON_TYPES: Record<number, string> = {
  400: 'BadRequest',
  401: 'NotAuthorized',
  403: 'PolicyNotAuthorized',
  404: 'HTTPNotFound',
  405: 'HTTPMethodNotAllowed',
  409: 'Conflict',
  413: 'HTTPRequestEntityTooLarge',
  415: 'HTTPUnsupportedMediaType',
  500: 'HTTPInternalServerError',
  501: 'HTTPNotImplemented',
  503: 'ServiceUnavailable',
};

function errorResponse(
  c: Context<AppEnv>,
  status: number,
  fault: string,
  message: string,
  neutronType?: string,
) {
  const requestId = c.get('requestId');
  if (requestId) c.header('x-openstack-request-id', requestId);
  if (isServicePath(c, '/network')) {
    const type = neutronType ?? NEUTRON_TYPES[status] ?? 'HTTPError';
    return c.json({ NeutronError: { type, message, detail: '' } }, status as 400);
  }
  if (!isServicePath(c, '/identity')) return c.json({ [fault]: { code: status, message } }, status as 400);
  // keystoneauth reads this header to learn where to authenticate after a 401.
  if (status === 401) c.header('WWW-Authenticate', `Keystone uri="${new URL(c.req.url).origin}/identity/v3"`);
  return c.json(
    { error: { code: status, title: REASON_PHRASES[status] ?? 'Error', message } },
    status as 400,
  );
}

export const onError: ErrorHandler<AppEnv> = (error, c) => {
  if (error instanceof NetworkError) {
    return errorResponse(c, error.status, error.fault, error.message, error.neutronType);
  }
  if (error instanceof ComputeError) return errorResponse(c, error.status, error.fault, error.message);
  // A unique constraint lost to a concurrent request: the resource exists now, which is a conflict.
  if (isDuplicateKey(error)) return errorResponse(c, 409, 'conflictingRequest', duplicateKeyMessage(error));
  if (error instanceof HTTPException && HTTP_FAULTS[error.status]) {
    return errorResponse(c, error.status, HTTP_FAULTS[error.status] ?? 'badRequest', error.message);
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
  return errorResponse(c, 500, 'computeFault', INTERNAL_ERROR);
};

export const onNotFound: NotFoundHandler<AppEnv> = (c) =>
  errorResponse(
    c,
    404,
    'itemNotFound',
    `The resource could not be found: ${c.req.method} ${new URL(c.req.url).pathname}`,
  );
