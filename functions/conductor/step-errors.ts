import * as v from 'valibot';

// How a failed state reaches the step that handles it: `{Error, Cause}` from a Catch. A Lambda error's
// Cause is a JSON document with errorMessage; an agent's SendTaskFailure cause is its own message.
export const CaughtError = v.object({ Error: v.string(), Cause: v.optional(v.string(), '') });
export type CaughtError = v.InferOutput<typeof CaughtError>;

export function describeCaughtError(error: CaughtError): string {
  try {
    const parsed: unknown = JSON.parse(error.Cause);
    if (
      parsed &&
      typeof parsed === 'object' &&
      'errorMessage' in parsed &&
      typeof parsed.errorMessage === 'string'
    ) {
      return parsed.errorMessage;
    }
  } catch {
    // Not JSON: the cause is already a plain message.
  }
  if (error.Error === 'States.Timeout') return 'The compute host did not answer in time';
  if (error.Error === 'States.HeartbeatTimeout') return 'The compute host stopped sending heartbeats';
  return error.Cause || error.Error;
}

/**
 * Drizzle reports a failed statement as "Failed query: <sql> params: ..." and keeps the reason (the
 * driver's or the database's error) only in `cause`, which a Lambda error does not carry: a step's
 * error names both, so a server's fault says why. The error keeps its class, which Catch rules match.
 */
export function withCauseInMessage(error: unknown): unknown {
  if (
    error instanceof Error &&
    error.cause instanceof Error &&
    !error.message.includes(error.cause.message)
  ) {
    error.message = `${error.message}\ncaused by: ${error.cause.message}`;
  }
  return error;
}
