import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keepAliveFetch } from '../../functions/shared/keep-alive-fetch.ts';

describe('keepAliveFetch', () => {
  let server: Server;
  let base: string;
  const connections = new Set<unknown>();

  beforeAll(async () => {
    server = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        if (request.url === '/fail') {
          response.writeHead(503, 'Service Unavailable', { 'x-reason': 'down' });
          response.end('{"error":{"code":"UNAVAILABLE","message":"down"}}');
          return;
        }
        response.writeHead(200, { 'content-type': 'application/json' });
        response.end(
          JSON.stringify({
            method: request.method,
            body,
            length: request.headers['content-length'],
            authorization: request.headers.authorization,
          }),
        );
      });
    });
    server.on('connection', (socket) => connections.add(socket));
    await new Promise<void>((listening) => server.listen(0, '127.0.0.1', listening));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((closed) => server.close(closed));
  });

  it('posts the body with its byte length and headers, and answers status and text', async () => {
    const body = JSON.stringify({ query: 'SELECT "é"' });
    const response = await keepAliveFetch(`${base}/execute`, {
      method: 'POST',
      body,
      headers: { authorization: 'Basic dTpw' },
    });
    expect(response).toMatchObject({ ok: true, status: 200 });
    expect(response.headers.get('content-type')).toBe('application/json');
    expect(JSON.parse(await response.text())).toEqual({
      method: 'POST',
      body,
      length: String(Buffer.byteLength(body)),
      authorization: 'Basic dTpw',
    });
  });

  it('reuses one connection for sequential requests', async () => {
    const before = connections.size;
    for (let i = 0; i < 5; i++) await keepAliveFetch(`${base}/again`, { method: 'POST', body: '{}' });
    expect(connections.size - before).toBeLessThanOrEqual(1);
  });

  it('answers an error status as not ok, with its status text, headers and body', async () => {
    const response = await keepAliveFetch(`${base}/fail`, { method: 'POST', body: '{}' });
    expect(response).toMatchObject({ ok: false, status: 503, statusText: 'Service Unavailable' });
    expect(response.headers.get('x-reason')).toBe('down');
    expect(await response.text()).toContain('UNAVAILABLE');
  });

  it('rejects when nothing listens, and for a protocol other than http or https', async () => {
    const closed = createServer();
    await new Promise<void>((listening) => closed.listen(0, '127.0.0.1', listening));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((done) => closed.close(done));
    await expect(keepAliveFetch(`http://127.0.0.1:${port}/`, { method: 'POST', body: '{}' })).rejects.toThrow(
      /ECONNREFUSED/,
    );
    await expect(keepAliveFetch('file:///etc/hostname')).rejects.toThrow('unsupported protocol file:');
  });

  describe('a kept-alive connection the server resets', () => {
    // Resets a connection on its second request, before answering: what a client sees when the
    // server's idle timeout closes a connection just as the client reuses it.
    let resetting: Server;
    let resettingBase: string;
    const seen: string[] = [];

    beforeAll(async () => {
      const requestsOn = new WeakMap<object, number>();
      resetting = createServer((request, response) => {
        const count = (requestsOn.get(request.socket) ?? 0) + 1;
        requestsOn.set(request.socket, count);
        request.resume();
        request.on('end', () => {
          seen.push(`${request.url} #${count}`);
          if (count === 2 || request.url === '/always-reset') request.socket.resetAndDestroy();
          else response.end('ok');
        });
      });
      await new Promise<void>((listening) => resetting.listen(0, '127.0.0.1', listening));
      resettingBase = `http://127.0.0.1:${(resetting.address() as AddressInfo).port}`;
    });

    afterAll(async () => {
      resetting.closeAllConnections();
      await new Promise((closed) => resetting.close(closed));
    });

    it('sends the request again on a new connection', async () => {
      expect((await keepAliveFetch(`${resettingBase}/first`, { method: 'POST', body: '{}' })).status).toBe(
        200,
      );
      const again = await keepAliveFetch(`${resettingBase}/second`, { method: 'POST', body: '{}' });
      expect(again.status).toBe(200);
      expect(await again.text()).toBe('ok');
      expect(seen).toEqual(['/first #1', '/second #2', '/second #1']);
    });

    it('does not send again what a new connection failed', async () => {
      seen.length = 0;
      resetting.closeAllConnections();
      await expect(
        keepAliveFetch(`${resettingBase}/always-reset`, { method: 'POST', body: '{}' }),
      ).rejects.toThrow(/ECONNRESET|socket hang up/);
      expect(seen).toEqual(['/always-reset #1']);
    });
  });
});
