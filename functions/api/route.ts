import type { Context, Hono } from 'hono';
import type * as v from 'valibot';
import { NotFound } from '../shared/errors.ts';
import type { AppEnv } from './context.ts';
import { authenticate } from './middleware/auth.ts';
import { readJson, readQuery } from './middleware/validate.ts';

// A route is data: method, path, the valibot schemas of its body and query, and its handler. The
// same declaration mounts the route (validating input before the handler runs) and describes it in
// the OpenAPI document (functions/api/nova/openapi.ts), so the two cannot disagree.
export type HttpMethod = 'get' | 'post' | 'put' | 'delete';

type Infer<TSchema, TFallback> = TSchema extends v.GenericSchema ? v.InferOutput<TSchema> : TFallback;

export interface RouteSpec<
  TBody extends v.GenericSchema | undefined,
  TQuery extends v.GenericSchema | undefined,
> {
  method: HttpMethod;
  /** From the root, Hono syntax: `/v3/servers/:server_id`. */
  path: string;
  summary: string;
  /** `none` only for discovery documents; everything else needs a token. */
  auth?: 'token' | 'none';
  body?: TBody;
  query?: TQuery;
  /**
   * On the v2.1 face: the first microversion (its minor number) at which the route exists. Below it
   * the route answers 404 before its body is read, as Nova's version-gated routes do.
   */
  since?: number;
  /** Success status → what the response holds. */
  responses: Record<number, string>;
  handler(
    c: Context<AppEnv>,
    input: { body: Infer<TBody, undefined>; query: Infer<TQuery, Record<string, string>> },
  ): Response | Promise<Response>;
}

export type Route = RouteSpec<v.GenericSchema | undefined, v.GenericSchema | undefined>;

export function route<
  TBody extends v.GenericSchema | undefined = undefined,
  TQuery extends v.GenericSchema | undefined = undefined,
>(spec: RouteSpec<TBody, TQuery>): Route {
  return spec as unknown as Route;
}

/** Mounts `routes`; `guard` runs first on every request (e.g. to refuse a disabled extension). */
export function mountRoutes(
  app: Hono<AppEnv>,
  routes: Route[],
  guard: (c: Context<AppEnv>) => void = () => {},
): void {
  for (const spec of routes) {
    const handler = async (c: Context<AppEnv>) => {
      guard(c);
      if (spec.since !== undefined && c.var.microversion < spec.since) {
        throw new NotFound('The resource could not be found.');
      }
      const body = spec.body ? await readJson(c, spec.body) : undefined;
      const query = spec.query ? readQuery(c, spec.query) : c.req.query();
      return spec.handler(c, { body, query });
    };
    if (spec.auth === 'none') app.on(spec.method.toUpperCase(), spec.path, handler);
    else app.on(spec.method.toUpperCase(), spec.path, authenticate, handler);
  }
}
