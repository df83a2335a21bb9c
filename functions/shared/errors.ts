// Typed errors raised anywhere in the control plane. The API turns them into Nova's error body in
// one place (functions/api/middleware/errors.ts); workflows see their `name` as the state's Error.
export abstract class ComputeError extends Error {
  abstract readonly status: 400 | 401 | 403 | 404 | 406 | 409 | 413 | 501 | 503;
  /** The key of Nova's error body, e.g. `itemNotFound`. */
  abstract readonly fault: string;
}

export class BadRequest extends ComputeError {
  override readonly name = 'BadRequest';
  readonly status = 400;
  readonly fault = 'badRequest';
}

export class Unauthorized extends ComputeError {
  override readonly name = 'Unauthorized';
  readonly status = 401;
  readonly fault = 'unauthorized';
}

export class Forbidden extends ComputeError {
  override readonly name = 'Forbidden';
  readonly status = 403;
  readonly fault = 'forbidden';
}

export class NotFound extends ComputeError {
  override readonly name = 'NotFound';
  readonly status = 404;
  readonly fault = 'itemNotFound';
}

/** A microversion outside the range the API serves (Nova names no fault for 406). */
export class NotAcceptable extends ComputeError {
  override readonly name = 'NotAcceptable';
  readonly status = 406;
  readonly fault = 'computeFault';
}

export class Conflict extends ComputeError {
  override readonly name = 'Conflict';
  readonly status = 409;
  readonly fault = 'conflictingRequest';
}

export class OverQuota extends ComputeError {
  override readonly name = 'OverQuota';
  readonly status = 413;
  readonly fault = 'overLimit';
}

/** The operation exists in the API but nothing behind it can carry it out (Havana's 501). */
export class NotImplemented extends ComputeError {
  override readonly name = 'NotImplemented';
  readonly status = 501;
  readonly fault = 'notImplemented';
}

export class ServiceUnavailable extends ComputeError {
  override readonly name = 'ServiceUnavailable';
  readonly status = 503;
  readonly fault = 'serviceUnavailable';
}

/** No host can take the request; surfaces as the instance's fault, never as an API status. */
export class NoValidHost extends Error {
  override readonly name = 'NoValidHost';
}

/** A conditional write lost against a concurrent change. */
export class StateConflict extends Conflict {}

/** MySQL's duplicate-key error (1062), as the PlanetScale driver reports it (Drizzle may wrap it as `cause`). */
export function isDuplicateKey(error: unknown): boolean {
  for (let current: unknown = error; current instanceof Error; current = current.cause) {
    if (/Duplicate entry|errno 1062/.test(current.message)) return true;
  }
  return false;
}

/** Names the constraint that was hit without echoing the SQL or the values. */
export function duplicateKeyMessage(error: Error): string {
  let text = error.message;
  for (let current: unknown = error; current instanceof Error; current = current.cause)
    text += ` ${current.message}`;
  const key = /for key '(?:[^.']*\.)?([^']+)'/.exec(text)?.[1];
  return key
    ? `A resource with the same unique key already exists (${key})`
    : 'A resource with the same unique key already exists';
}
