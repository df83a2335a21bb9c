import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';

// The database driver speaks HTTP, one POST per statement, so a Node process (the conductor, the
// scheduler step) pays its HTTP client's overhead on every round trip. Node's global fetch (undici)
// cost about 0.4 ms of CPU per request on the development machine, node:http with a keep-alive agent
// about 0.08 ms (a one-off measurement when this was written; no bench figure repeats it). This is the part of fetch the PlanetScale driver uses: a
// POST with a string body, answered with status, headers and text (its `Config.fetch`). Workers keep
// their own fetch.

export interface KeepAliveFetchInit {
  method?: string;
  headers?: Record<string, string>;
  body?: string;
}

export interface KeepAliveResponse {
  ok: boolean;
  status: number;
  statusText: string;
  headers: Headers;
  text(): Promise<string>;
}

const agents = {
  'http:': new HttpAgent({ keepAlive: true }),
  'https:': new HttpsAgent({ keepAlive: true }),
};

function readBody(response: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    response.on('data', (chunk: Buffer) => chunks.push(chunk));
    response.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    response.on('error', reject);
  });
}

function responseHeaders(response: IncomingMessage): Headers {
  const headers = new Headers();
  for (const [name, value] of Object.entries(response.headers)) {
    if (value === undefined) continue;
    for (const one of Array.isArray(value) ? value : [value]) headers.append(name, one);
  }
  return headers;
}

/**
 * Errors of a request sent on a kept-alive connection that the server closed as it went out (its idle
 * timeout racing the reuse, Node's own guidance for `request.reusedSocket`): the server closed the
 * connection without reading the request, so it is sent again on another. A server that read a
 * request and then reset the connection without any answer would see it twice: the local bridge answers
 * every request it reads; whether PlanetScale's front end ever resets after reading is not known here.
 */
const STALE_CONNECTION_CODES = new Set(['ECONNRESET', 'EPIPE']);

/** A fetch for http: and https: URLs over keep-alive connections; the body is read before it resolves. */
export function keepAliveFetch(input: string, init: KeepAliveFetchInit = {}): Promise<KeepAliveResponse> {
  const url = new URL(input);
  const protocol = url.protocol;
  if (protocol !== 'http:' && protocol !== 'https:') {
    return Promise.reject(new TypeError(`keepAliveFetch: unsupported protocol ${protocol}`));
  }
  const request = protocol === 'https:' ? httpsRequest : httpRequest;
  const body = Buffer.from(init.body ?? '', 'utf8');
  const send = (): Promise<KeepAliveResponse> =>
    new Promise((resolve, reject) => {
      let answered = false;
      const outgoing = request(
        url,
        {
          method: init.method ?? 'GET',
          agent: agents[protocol],
          headers: { ...init.headers, 'content-length': String(body.length) },
        },
        (response) => {
          answered = true;
          readBody(response).then((text) => {
            const status = response.statusCode ?? 0;
            resolve({
              ok: status >= 200 && status < 300,
              status,
              statusText: response.statusMessage ?? '',
              headers: responseHeaders(response),
              text: () => Promise.resolve(text),
            });
          }, reject);
        },
      );
      outgoing.on('error', (error: NodeJS.ErrnoException) => {
        // Each stale connection is dropped as it fails, so the resends end at the latest on a new one.
        const stale = outgoing.reusedSocket && !answered && STALE_CONNECTION_CODES.has(error.code ?? '');
        if (stale) send().then(resolve, reject);
        else reject(error);
      });
      outgoing.end(body);
    });
  return send();
}
