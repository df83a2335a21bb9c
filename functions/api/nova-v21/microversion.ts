import type { Context } from 'hono';
import { createMiddleware } from 'hono/factory';
import { BadRequest, NotAcceptable, NotFound } from '../../shared/errors.ts';
import type { AppEnv } from '../context.ts';
import type { Route } from '../route.ts';

// Nova's microversions (clients-and-microversions.md §1.4–1.6): the version is `2.X`; clients send it
// in `OpenStack-API-Version: compute 2.X` (examined first, last compute element wins) or the legacy
// `X-OpenStack-Nova-API-Version: 2.X`; none means 2.1 and `latest` the maximum. Every answer names
// the version it ran at, with `Vary` on both headers.
export const MIN_MICROVERSION = 1;

export const STANDARD_HEADER = 'openstack-api-version';
export const LEGACY_HEADER = 'x-openstack-nova-api-version';
const VERSION = /^([1-9]\d*)\.([1-9]\d*|0)$/;

/** `2.X` for a minor number. */
export function formatMicroversion(minor: number): string {
  return `2.${minor}`;
}

function requestedVersionString(c: Context<AppEnv>): string | undefined {
  const standard = c.req.header(STANDARD_HEADER);
  if (standard) {
    for (const element of standard.split(',').reverse()) {
      const [service, value] = element.trim().split(/\s+/, 2);
      if (service?.toLowerCase() === 'compute' && value) return value;
    }
  }
  return c.req.header(LEGACY_HEADER)?.split(',').at(-1)?.trim();
}

/** The minor number a request asks for; 400 when malformed, 406 when outside the served range. */
export function resolveMicroversion(requested: string | undefined, max: number): number {
  if (requested === undefined) return MIN_MICROVERSION;
  if (requested === 'latest') return max;
  const match = VERSION.exec(requested);
  if (!match) {
    throw new BadRequest(
      `API Version String ${requested} is of invalid format. Must be of format MajorNum.MinorNum.`,
    );
  }
  const major = Number(match[1]);
  const minor = Number(match[2]);
  if (major !== 2 || minor < MIN_MICROVERSION || minor > max) {
    throw new NotAcceptable(
      `Version ${requested} is not supported by the API. Minimum is ${formatMicroversion(MIN_MICROVERSION)} and maximum is ${formatMicroversion(max)}.`,
    );
  }
  return minor;
}

/** Resolves the microversion of a `/v2.1` request and names it on the answer, errors included. */
export function microversions(max: number) {
  return createMiddleware<AppEnv>(async (c, next) => {
    c.set('computeFace', 'v2.1');
    const minor = resolveMicroversion(requestedVersionString(c), max);
    c.set('microversion', minor);
    await next();
    const version = formatMicroversion(minor);
    c.res.headers.set('OpenStack-API-Version', `compute ${version}`);
    c.res.headers.set('X-OpenStack-Nova-API-Version', version);
    c.res.headers.append('Vary', 'OpenStack-API-Version');
    c.res.headers.append('Vary', 'X-OpenStack-Nova-API-Version');
  });
}

/** Whether the request runs at 2.`minor` or later. */
export function atLeast(c: Context<AppEnv>, minor: number): boolean {
  return c.var.microversion >= minor;
}

/**
 * What exists only from 2.`minor` within a route that is older (a server action): below it, Nova
 * answers as if there were no such route. A whole route takes its `since` instead (route.ts).
 */
export function requireMicroversion(c: Context<AppEnv>, minor: number): void {
  if (!atLeast(c, minor)) throw new NotFound('The resource could not be found.');
}

/** A route Nova served up to 2.(`minor` - 1): from 2.`minor` on it is not there. */
export function removedAt(minor: number, served: Route): Route {
  return {
    ...served,
    handler: (c, input) => {
      if (atLeast(c, minor)) throw new NotFound('The resource could not be found.');
      return served.handler(c, input);
    },
  };
}
