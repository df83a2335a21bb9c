import { createApp } from '../../functions/api/app.ts';
import { MAX_MICROVERSION } from '../../functions/api/nova-v21/registry.ts';
import { type ApiResponse, type CallOptions, call, callRequest, callResponse, stackInfo } from './api.ts';

// /v2.1 calls at any microversion. The stack advertises the highest microversion up to which every
// change is implemented; faces implement some later ones too. A call for a microversion above the
// advertised maximum goes to an in-process app (the same createApp, with the stack's configuration,
// database and tokens) whose ceiling is Nova's latest, so those later microversions are tested now
// with the same route code; every other call goes over HTTP to the stack.
const LATEST = 104;
const VERSION_HEADER = 'X-OpenStack-Nova-API-Version';

let beyondAdvertised: ReturnType<typeof createApp> | undefined;

/** `call`, except that a request for a microversion the stack does not advertise yet is served in-process. */
export async function callAnyMicroversion<T = Record<string, unknown>>(
  method: string,
  path: string,
  options: CallOptions = {},
): Promise<ApiResponse<T>> {
  const requested = Number(options.headers?.[VERSION_HEADER]?.split('.')[1] ?? 1);
  if (requested <= MAX_MICROVERSION) return call<T>(method, path, options);
  beyondAdvertised ??= createApp({ microversionCeiling: LATEST });
  // The stack's own origin, so that links the app writes are the ones the stack would write.
  const response = await beyondAdvertised.request(
    `${stackInfo().apiUrl}${path}`,
    callRequest(method, options),
    stackInfo().env,
  );
  return callResponse<T>(response);
}

/** A /v2.1 call at 2.`minor`. */
export function v21Call<T = Record<string, unknown>>(
  minor: number,
  method: string,
  path: string,
  options: CallOptions,
): Promise<ApiResponse<T>> {
  return callAnyMicroversion<T>(method, path, {
    ...options,
    headers: { ...options.headers, [VERSION_HEADER]: `2.${minor}` },
  });
}
