import { inject } from 'vitest';
import { keepAliveFetch } from '../../functions/shared/keep-alive-fetch.ts';
import { primaryPosition, replicaHasReached } from '../../schema/consistency.ts';
import { createDatabase } from '../../schema/db.ts';
import { waitUntil } from './wait.ts';

export function stackInfo() {
  return inject('stack');
}

/**
 * The primary, for checking what a request wrote (tests never read a stale replica). Through the
 * conductor's keep-alive client: it sends a query again when the bridge closed the reused connection
 * as the query went out (its idle timeout racing the reuse), which the global fetch reports as a
 * failure ("other side closed") once a file polls the database from many cases at once.
 */
export function primaryDb() {
  const { database } = stackInfo();
  return createDatabase({ primary: database.primaryUrl, replicas: [] }, { fetch: keepAliveFetch }).$primary;
}

/**
 * Waits until the replica has applied every write the primary has had so far. A test that writes
 * rows straight to the primary and then reads them through the API carries no consistency token, so
 * the API may read the replica before replication (or read-your-writes.test.ts, which pauses it) lets
 * the rows arrive.
 */
export async function replicaCaughtUp(): Promise<void> {
  const { database } = stackInfo();
  const replica = createDatabase({ primary: database.replicaUrl, replicas: [] }).$primary;
  const position = await primaryPosition(primaryDb(), 'mariadb');
  await waitUntil(
    "the replica to apply the primary's writes",
    () => replicaHasReached(replica, 'mariadb', position),
    { timeoutMs: 30_000, intervalMs: 50 },
  );
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

export interface CallOptions {
  token?: string | null;
  body?: unknown;
  headers?: Record<string, string>;
}

/** The request a call sends: `token` as X-Auth-Token (none when null), `body` as JSON unless a string. */
export function callRequest(
  method: string,
  options: CallOptions,
): RequestInit & { headers: Record<string, string> } {
  const headers: Record<string, string> = { ...options.headers };
  if (options.token) headers['x-auth-token'] = options.token;
  if (options.body !== undefined) headers['content-type'] = 'application/json';
  const body =
    options.body === undefined || typeof options.body === 'string'
      ? options.body
      : JSON.stringify(options.body);
  return { method, headers, body };
}

/** A call's answer, its JSON body parsed ({} when it has none). */
export async function callResponse<T>(response: Response): Promise<ApiResponse<T>> {
  const text = await response.text();
  return { status: response.status, headers: response.headers, body: (text ? JSON.parse(text) : {}) as T };
}

/** A JSON call to the API; `token` null sends no X-Auth-Token. */
export async function call<T = Record<string, unknown>>(
  method: string,
  path: string,
  options: CallOptions = {},
): Promise<ApiResponse<T>> {
  const request = callRequest(method, options);
  if (consistencyToken && (method === 'GET' || method === 'HEAD'))
    request.headers['x-consistency-token'] = consistencyToken;
  const response = await fetch(`${stackInfo().apiUrl}${path}`, request);
  consistencyToken = response.headers.get('x-consistency-token') ?? consistencyToken;
  return callResponse<T>(response);
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
  const gone = (status: number) => status === 404 && statuses.includes('DELETED');
  const answer = await waitUntil(
    `server ${id} to reach ${statuses.join('/')}`,
    // Status and body only: the timeout message shows the last answer, and headers would say nothing.
    async () => {
      const response = await call<{ server: ServerView }>('GET', `/v3/servers/${id}`, { token });
      return { status: response.status, body: response.body };
    },
    {
      timeoutMs,
      intervalMs: 100,
      until: ({ status, body }) => gone(status) || (status === 200 && statuses.includes(body.server.status)),
    },
  );
  return gone(answer.status) ? null : answer.body.server;
}
