import { setTimeout as sleep } from 'node:timers/promises';
import { inspect } from 'node:util';

// The tests' one way to wait for the cloud to get somewhere. Each wait keeps its own timeout and
// interval, and one that runs out says what it waited for, for how long and what it saw last
// (vitest's vi.waitUntil only says "Timed out in waitUntil!").

export interface WaitOptions {
  /** How long to keep trying: one more try runs once this has passed, then the wait gives up. */
  timeoutMs: number;
  /** The pause between tries; 0 for a probe that blocks by itself, such as a long poll. */
  intervalMs: number;
}

type NotYet = undefined | null | false;

function describeValue(value: unknown): string {
  return inspect(value, { depth: 4, breakLength: Number.POSITIVE_INFINITY, maxArrayLength: 20 });
}

/**
 * Runs `probe` until `until` accepts its value, and returns that value as the type `until` guards:
 * with `until`, every value a probe returns can show up in the timeout message, not only a falsy one.
 */
export function waitUntil<T, Accepted extends T>(
  what: string,
  probe: () => Promise<T> | T,
  options: WaitOptions & { until: (value: T) => value is Accepted },
): Promise<Accepted>;
/** Runs `probe` until `until` accepts its value, and returns that value. */
export function waitUntil<T>(
  what: string,
  probe: () => Promise<T> | T,
  options: WaitOptions & { until: (value: T) => boolean },
): Promise<T>;
/** Runs `probe` until it returns something truthy, and returns that. */
export function waitUntil<T>(
  what: string,
  probe: () => Promise<T | NotYet> | T | NotYet,
  options: WaitOptions,
): Promise<T>;
// A probe that throws ends the wait at once (a broken query should not spin until the timeout); an
// expectation that has to come true is what `eventually` is for.
export async function waitUntil<T>(
  what: string,
  probe: () => Promise<T> | T,
  { timeoutMs, intervalMs, until = Boolean }: WaitOptions & { until?: (value: T) => boolean },
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (let tries = 1; ; tries++) {
    const value = await probe();
    if (until(value)) return value;
    if (Date.now() >= deadline)
      throw new Error(
        `timed out after ${timeoutMs} ms waiting for ${what} (${tries} tries, ${intervalMs} ms apart); ` +
          `last seen: ${describeValue(value)}`,
      );
    await sleep(intervalMs);
  }
}

/**
 * Runs `check` until it stops throwing, and returns what it returned: for an expectation that must
 * come to hold. On timeout it rethrows the last error itself, so an assertion keeps its diff, with
 * how long it kept failing put in front of its message.
 */
export async function eventually<T>(
  check: () => Promise<T> | T,
  { timeoutMs, intervalMs }: WaitOptions,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (let tries = 1; ; tries++) {
    try {
      return await check();
    } catch (error) {
      if (Date.now() < deadline) {
        await sleep(intervalMs);
        continue;
      }
      if (error instanceof Error)
        error.message = `still failing after ${timeoutMs} ms (${tries} tries, ${intervalMs} ms apart): ${error.message}`;
      throw error;
    }
  }
}
