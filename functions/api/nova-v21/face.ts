import type { Context } from 'hono';
import type * as v from 'valibot';
import type { AppEnv } from '../context.ts';
import { type HttpMethod, type Route, route } from '../route.ts';
import { answerWith, callV3 } from './v3-call.ts';

/** One microversion an extension's v2.1 face implements: what changed, on which of its routes. */
export interface MicroversionChange {
  minor: number;
  change: string;
  routes: string[];
}

/**
 * The v2.1 face of one v3 extension: the routes v2.1 clients call, served by the extension's own
 * handlers (translated at the edge, see `translatedRoute`), and the microversions it implements.
 * A disabled extension's face is disabled with it.
 */
export interface V21Face {
  alias: string;
  routes: Route[];
  microversions: MicroversionChange[];
}

export function defineFace(face: V21Face): V21Face {
  const minors = face.microversions.map((entry) => entry.minor);
  if (new Set(minors).size !== minors.length) {
    throw new Error(`v2.1 face ${face.alias}: a microversion is declared twice`);
  }
  return face;
}

/** What a translated route answers: a new status and body, or the v3 answer's own. */
export interface Translated {
  status?: number;
  body?: unknown;
}

interface TranslatedRouteSpec<TBody extends v.GenericSchema | undefined> {
  method: HttpMethod;
  /** The v2.1 path, with the same parameter names as the v3 route's. */
  path: string;
  summary: string;
  /** The v2.1 body, validated first so that errors name v2.1 fields. */
  body?: TBody;
  /** The v3 route that does the work. */
  target: Route;
  /** The first microversion at which the route exists (below it: 404). */
  since?: number;
  responses: Record<number, string>;
  /** The v3 body for the v2.1 one; the target's own schema then validates it. */
  request?(
    c: Context<AppEnv>,
    body: TBody extends v.GenericSchema ? v.InferOutput<TBody> : undefined,
  ): unknown;
  /** Reshapes the v3 answer (its parsed JSON body, or null when it had none). */
  response?(c: Context<AppEnv>, body: unknown, status: number): Translated;
}

/**
 * A v2.1 route served by a v3 route's handler (callV3): the v2.1 body is validated, translated to the
 * v3 body and validated again by the target's schema, the handler runs, and its answer is reshaped
 * into v2.1 names. Query strings pass through to the target's schema unchanged.
 */
export function translatedRoute<TBody extends v.GenericSchema | undefined = undefined>(
  spec: TranslatedRouteSpec<TBody>,
): Route {
  return route({
    method: spec.method,
    path: spec.path,
    summary: spec.summary,
    body: spec.body,
    since: spec.since,
    responses: spec.responses,
    handler: async (c, { body }) => {
      const answer = await callV3(c, spec.target, {
        body: spec.request ? spec.request(c, body as never) : body,
      });
      if (!spec.response) return answerWith(c, answer.status, answer.body);
      const translated = spec.response(c, answer.body, answer.status);
      return answerWith(c, translated.status ?? answer.status, translated.body);
    },
  });
}

/** The v3 route a v2.1 route is served by; a missing one fails at load, not on a request. */
export function v3Route(
  extension: { alias: string; routes: Route[] },
  method: HttpMethod,
  path: string,
): Route {
  const found = extension.routes.find((candidate) => candidate.method === method && candidate.path === path);
  if (!found) throw new Error(`extension ${extension.alias} has no route ${method.toUpperCase()} ${path}`);
  return found;
}
