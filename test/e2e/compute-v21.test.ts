import { beforeAll, describe, expect, it } from 'vitest';
import { call, login, stackInfo } from '../helpers/api.ts';

// The /v2.1 face: version discovery and microversion negotiation as Debian 12's novaclient and
// openstacksdk do them, and v2.1's names served by the v3 handlers.
let token: string;

beforeAll(async () => {
  token = await login();
});

interface VersionDocument {
  id: string;
  status: string;
  version: string;
  min_version: string;
  links: Array<{ rel: string; href: string }>;
}

async function maxVersion(): Promise<string> {
  const doc = await call<{ version: VersionDocument }>('GET', '/v2.1/', { token: null });
  return doc.body.version.version;
}

describe('version discovery', () => {
  it('lists v2.0, v2.1 and v3 at the root without a token, each linking to its own base', async () => {
    const root = await call<{ versions: VersionDocument[] }>('GET', '/', { token: null });
    expect(root.status).toBe(200);
    const base = stackInfo().apiUrl;
    expect(root.body.versions.map(({ id, status, links }) => ({ id, status, href: links[0]?.href }))).toEqual(
      [
        { id: 'v2.0', status: 'SUPPORTED', href: `${base}/v2/` },
        { id: 'v2.1', status: 'CURRENT', href: `${base}/v2.1/` },
        { id: 'v3.0', status: 'EXPERIMENTAL', href: `${base}/v3/` },
      ],
    );
    const v21 = root.body.versions[1];
    expect(v21?.min_version).toBe('2.1');
    expect(v21?.version).toMatch(/^2\.\d+$/);
  });

  it('describes v2.1 at /v2.1 and /v2.1/ with its range, naming the version it answered at', async () => {
    for (const path of ['/v2.1', '/v2.1/']) {
      const doc = await call<{ version: VersionDocument & { 'media-types': unknown[] } }>('GET', path, {
        token: null,
      });
      expect(doc.status).toBe(200);
      expect(doc.body.version).toMatchObject({ id: 'v2.1', status: 'CURRENT', min_version: '2.1' });
      expect(doc.body.version.links[0]).toEqual({ rel: 'self', href: `${stackInfo().apiUrl}/v2.1/` });
      expect(doc.headers.get('openstack-api-version')).toBe('compute 2.1');
      expect(doc.headers.get('x-openstack-nova-api-version')).toBe('2.1');
      expect(doc.headers.get('vary')).toBe('OpenStack-API-Version, X-OpenStack-Nova-API-Version');
    }
    const v20 = await call<{ version: VersionDocument }>('GET', '/v2', { token: null });
    expect(v20.body.version).toMatchObject({ id: 'v2.0', version: '', min_version: '' });
  });
});

describe('microversion negotiation', () => {
  it('reads either header, the standard one first, and resolves latest to the maximum', async () => {
    const max = await maxVersion();
    const asked = async (headers: Record<string, string>) =>
      (await call('GET', '/v2.1/os-keypairs', { token, headers })).headers.get(
        'x-openstack-nova-api-version',
      );
    expect(await asked({})).toBe('2.1');
    expect(await asked({ 'X-OpenStack-Nova-API-Version': '2.2' })).toBe('2.2');
    expect(await asked({ 'OpenStack-API-Version': 'volume 3.0, compute 2.2' })).toBe('2.2');
    expect(
      await asked({ 'OpenStack-API-Version': 'compute 2.1', 'X-OpenStack-Nova-API-Version': '2.2' }),
    ).toBe('2.1');
    expect(await asked({ 'OpenStack-API-Version': 'compute latest' })).toBe(max);
  });

  it('refuses a malformed version with 400 and one outside the range with 406, in Nova bodies', async () => {
    const malformed = await call('GET', '/v2.1/os-keypairs', {
      token,
      headers: { 'X-OpenStack-Nova-API-Version': '2.01' },
    });
    expect(malformed.status).toBe(400);
    expect(malformed.body).toEqual({
      badRequest: {
        code: 400,
        message: 'API Version String 2.01 is of invalid format. Must be of format MajorNum.MinorNum.',
      },
    });
    const max = await maxVersion();
    for (const version of ['2.0', '3.0', '2.1000']) {
      const answer = await call('GET', '/v2.1/os-keypairs', {
        token,
        headers: { 'OpenStack-API-Version': `compute ${version}` },
      });
      expect(answer.status).toBe(406);
      expect(answer.body).toEqual({
        computeFault: {
          code: 406,
          message: `Version ${version} is not supported by the API. Minimum is 2.1 and maximum is ${max}.`,
        },
      });
    }
  });

  it('serves the legacy /v2 prefix at 2.1 without version headers', async () => {
    const answer = await call('GET', '/v2/os-keypairs', {
      token,
      headers: { 'X-OpenStack-Nova-API-Version': '2.2' },
    });
    expect(answer.status).toBe(200);
    expect(answer.headers.get('x-openstack-nova-api-version')).toBeNull();
    expect(answer.headers.get('vary')).toBeNull();
  });
});

describe('os-keypairs', () => {
  it('creates, lists, shows and deletes with 2.1 codes, and with 2.2 codes and types', async () => {
    const name = `v21-key-${Date.now()}`;
    const created = await call<{ keypair: Record<string, unknown> }>('POST', '/v2.1/os-keypairs', {
      token,
      body: { keypair: { name } },
    });
    expect(created.status).toBe(200);
    expect(created.body.keypair).toMatchObject({ name, user_id: expect.any(String) });
    expect(created.body.keypair.private_key).toMatch(/PRIVATE KEY/);
    expect(created.body.keypair.type).toBeUndefined();
    const listed = await call<{ keypairs: Array<{ keypair: { name: string } }> }>(
      'GET',
      '/v2.1/os-keypairs',
      {
        token,
      },
    );
    expect(listed.body.keypairs.map((item) => item.keypair.name)).toContain(name);
    const shown = await call<{ keypair: Record<string, unknown> }>('GET', `/v2.1/os-keypairs/${name}`, {
      token,
      headers: { 'X-OpenStack-Nova-API-Version': '2.2' },
    });
    expect(shown.body.keypair).toMatchObject({ name, type: 'ssh' });
    expect((await call('DELETE', `/v2.1/os-keypairs/${name}`, { token })).status).toBe(202);

    const typed = await call<{ keypair: Record<string, unknown> }>('POST', '/v2.1/os-keypairs', {
      token,
      body: { keypair: { name, type: 'ssh' } },
      headers: { 'OpenStack-API-Version': 'compute 2.2' },
    });
    expect(typed.status).toBe(201);
    expect(typed.body.keypair.type).toBe('ssh');
    const deleted = await call('DELETE', `/v2.1/os-keypairs/${name}`, {
      token,
      headers: { 'OpenStack-API-Version': 'compute 2.2' },
    });
    expect(deleted.status).toBe(204);
    const gone = await call('GET', `/v2.1/os-keypairs/${name}`, { token });
    expect(gone.status).toBe(404);
    expect(gone.body).toMatchObject({ itemNotFound: { code: 404 } });
  });
});
