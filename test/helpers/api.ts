import { inject } from 'vitest';
import { createDatabase } from '../../schema/db.ts';

export function stackInfo() {
  return inject('stack');
}

/** The primary, for checking what a request wrote (tests never read a stale replica). */
export function primaryDb() {
  const { database } = stackInfo();
  return createDatabase({ primary: database.primaryUrl, replicas: [] }).$primary;
}

export async function login(
  user = stackInfo().admin.username,
  password = stackInfo().admin.password,
  project?: string,
) {
  const response = await fetch(`${stackInfo().apiUrl}/identity/v3/auth/tokens`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      auth: {
        identity: { methods: ['password'], password: { user: { name: user, password } } },
        ...(project ? { scope: { project: { name: project } } } : {}),
      },
    }),
  });
  const token = response.headers.get('x-subject-token');
  if (response.status !== 201 || !token)
    throw new Error(`login failed: ${response.status} ${await response.text()}`);
  return token;
}

// Like a client SDK session: every read sends the newest consistency token this test process has
// been given, so it always sees its own writes even while a replica lags.
let consistencyToken: string | undefined;

export interface ApiResponse<T = Record<string, unknown>> {
  status: number;
  headers: Headers;
  body: T;
}

/** A JSON call to the API; `token` null sends no X-Auth-Token. */
export async function call<T = Record<string, unknown>>(
  method: string,
  path: string,
  options: { token?: string | null; body?: unknown; headers?: Record<string, string> } = {},
): Promise<ApiResponse<T>> {
  const headers: Record<string, string> = { ...options.headers };
  if (options.token) headers['x-auth-token'] = options.token;
  if (consistencyToken && (method === 'GET' || method === 'HEAD'))
    headers['x-consistency-token'] = consistencyToken;
  if (options.body !== undefined) headers['content-type'] = 'application/json';
  const response = await fetch(`${stackInfo().apiUrl}${path}`, {
    method,
    headers,
    body:
      options.body === undefined
        ? undefined
        : typeof options.body === 'string'
          ? options.body
          : JSON.stringify(options.body),
  });
  consistencyToken = response.headers.get('x-consistency-token') ?? consistencyToken;
  const text = await response.text();
  return { status: response.status, headers: response.headers, body: (text ? JSON.parse(text) : {}) as T };
}

export const IMAGE = '70a599e0-31e7-49b7-b260-868f441e862b';

export async function createServer(
  token: string,
  server: { name: string; flavor_ref?: string; availability_zone?: string },
): Promise<string> {
  const response = await call<{ server: { id: string } }>('POST', '/v3/servers', {
    token,
    body: { server: { image_ref: IMAGE, flavor_ref: '1', ...server } },
  });
  if (response.status !== 202)
    throw new Error(`create failed: ${response.status} ${JSON.stringify(response.body)}`);
  return response.body.server.id;
}

export interface ServerView {
  id: string;
  status: string;
  fault?: { code: number; message: string };
  'os-extended-server-attributes:host'?: string | null;
  [key: string]: unknown;
}

/** Polls until the server reaches one of `statuses` (or is gone, for 'DELETED'). */
export async function waitForServer(
  token: string,
  id: string,
  statuses: string[],
  timeoutMs = 30_000,
): Promise<ServerView | null> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    const response = await call<{ server: ServerView }>('GET', `/v3/servers/${id}`, { token });
    if (response.status === 404 && statuses.includes('DELETED')) return null;
    last = response.body;
    if (response.status === 200 && statuses.includes(response.body.server.status))
      return response.body.server;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(
    `server ${id} did not reach ${statuses.join('/')} in ${timeoutMs} ms; last: ${JSON.stringify(last)}`,
  );
}
