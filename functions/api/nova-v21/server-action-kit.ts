import type { Context } from 'hono';
import * as v from 'valibot';
import type { AppEnv } from '../context.ts';
import { serversExtension } from '../nova/servers.ts';
import { v3Route } from './face.ts';
import { answerWith, callV3, type V3Answer } from './v3-call.ts';

// What the v2.1 server actions (`POST /v2.1/servers/{id}/action`, clients-and-microversions.md §4.3)
// are built from. Each face declares its actions (servers, os-admin-actions, os-evacuate) and the
// servers face dispatches them. Most are a v3 action under another name: the v3 dispatcher
// (functions/api/nova/server-actions.ts) then checks the extension, policy, lock and state as it does
// for /v3.
export interface V21Action {
  /** The key of the action body, e.g. `os-start` in `{"os-start": null}`. */
  name: string;
  /** The first microversion the action exists at; below it Nova answers 404. */
  since?: number;
  /** The action's value as the request's microversion defines it. */
  body(c: Context<AppEnv>): v.GenericSchema;
  run(c: Context<AppEnv>, value: unknown): Promise<Response>;
}

export function defineV21Action<TBody extends v.GenericSchema>(action: {
  name: string;
  since?: number;
  body(c: Context<AppEnv>): TBody;
  run(c: Context<AppEnv>, value: v.InferOutput<TBody>): Promise<Response>;
}): V21Action {
  return action as V21Action;
}

/** Actions without parameters take exactly `null` in v2.1's schemas. */
export const NullBody = v.null('this action takes null');

const V3_ACTION_ROUTE = v3Route(serversExtension, 'post', '/v3/servers/:server_id/action');

/**
 * A v2.1 action carried out by the v3 action `v3Name`: its value translated by `v3Value` (null when
 * absent), and the v3 answer passed on as it is unless `respond` reshapes it.
 */
export function v3Action<TBody extends v.GenericSchema>(spec: {
  name: string;
  since?: number;
  body(c: Context<AppEnv>): TBody;
  v3Name: string;
  v3Value?(c: Context<AppEnv>, value: v.InferOutput<TBody>): unknown;
  respond?(c: Context<AppEnv>, answer: V3Answer, value: v.InferOutput<TBody>): Response | Promise<Response>;
}): V21Action {
  return defineV21Action({
    name: spec.name,
    since: spec.since,
    body: spec.body,
    run: async (c, value) => {
      const answer = await callV3(c, V3_ACTION_ROUTE, {
        body: { [spec.v3Name]: spec.v3Value ? spec.v3Value(c, value) : null },
      });
      return spec.respond ? spec.respond(c, answer, value) : answerWith(c, answer.status, answer.body);
    },
  });
}
