import type { Context } from 'hono';
import { BadRequest } from '../../shared/errors.ts';
import type { AppEnv } from '../context.ts';
import { parseOrBadRequest } from '../middleware/validate.ts';
import type { Route } from '../route.ts';

/** What a v3 handler answered: its status and parsed JSON body (null when it had none). */
export interface V3Answer<T = unknown> {
  status: number;
  body: T;
}

/** The v3 names a v3 handler's 400 may mention, and what a v2.1 client sent instead. */
const V21_NAMES: Readonly<Record<string, string>> = {
  image_ref: 'imageRef',
  flavor_ref: 'flavorRef',
  admin_password: 'adminPass',
  on_shared_storage: 'onSharedStorage',
  'os-user-data:user_data': 'user_data',
  'os-multiple-create:min_count': 'min_count',
  'os-multiple-create:max_count': 'max_count',
  migrate_live: 'os-migrateLive',
  reset_state: 'os-resetState',
};
const V3_NAME = new RegExp(`(?<![\\w:-])(${Object.keys(V21_NAMES).join('|')})(?![\\w:-])`, 'g');

/**
 * Runs a v3 route's handler for a v2.1 request this face has already validated and translated: the
 * one way the v2.1 face calls v3, whether through face.ts's translatedRoute or from a route of its own
 * (v2.1 query names, the request's own values in the answer, errors v2.1 reports differently). The
 * target's schemas validate the translated body and query, as they would a v3 request's, and a 400
 * from either is told in v2.1's field names. Headers the handler sets on the context (Location,
 * Retry-After) stay on it for the face's own answer.
 */
export async function callV3<T = unknown>(
  c: Context<AppEnv>,
  target: Route,
  input: { body?: unknown; query?: Record<string, string> } = {},
): Promise<V3Answer<T>> {
  const rawQuery = input.query ?? c.req.query();
  let answer: Response;
  try {
    const body = target.body ? parseOrBadRequest(target.body, input.body) : undefined;
    const query = target.query ? parseOrBadRequest(target.query, rawQuery) : rawQuery;
    answer = await target.handler(c, { body, query });
  } catch (error) {
    // A refusal names the field the client sent, not the v3 name it was translated to.
    const renamed =
      error instanceof BadRequest ? error.message.replace(V3_NAME, (name) => V21_NAMES[name] ?? name) : '';
    if (!renamed || renamed === (error as Error).message) throw error;
    throw new BadRequest(renamed);
  }
  const text = await answer.text();
  return { status: answer.status, body: (text ? JSON.parse(text) : null) as T };
}

/** An answer with no body keeps the status alone; anything else is JSON. */
export function answerWith(c: Context<AppEnv>, status: number, body: unknown): Response {
  return body === null || body === undefined || status === 204
    ? c.body(null, status as 202)
    : c.json(body, status as 200);
}
