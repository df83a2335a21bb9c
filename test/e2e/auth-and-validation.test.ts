import { count, eq } from 'drizzle-orm';
import { beforeAll, describe, expect, it } from 'vitest';
import { instances } from '../../schema/tables/index.ts';
import { call, createServer, IMAGE, login, primaryDb, stackInfo, waitForServer } from '../helpers/api.ts';
import { createMember } from '../helpers/identity.ts';

describe('identity and authorization', () => {
  it('issues a Keystone-shaped token with the compute endpoint in the catalog', async () => {
    const response = await call<{
      token: {
        roles: Array<{ name: string }>;
        catalog: Array<{ type: string; endpoints: Array<{ url: string }> }>;
        expires_at: string;
      };
    }>('POST', '/identity/v3/auth/tokens', {
      token: null,
      body: {
        auth: {
          identity: {
            methods: ['password'],
            password: {
              user: {
                name: 'admin',
                password: stackInfo().admin.password,
              },
            },
          },
        },
      },
    });
    expect(response.status).toBe(201);
    expect(response.headers.get('x-subject-token')).toMatch(/^v1\./);
    expect(response.body.token.roles.map((role) => role.name).sort()).toEqual(['admin', 'member']);
    const compute = response.body.token.catalog.find((entry) => entry.type === 'compute');
    expect(compute?.endpoints[0]?.url).toMatch(/\/v2\.1$/);
    expect(Date.parse(response.body.token.expires_at)).toBeGreaterThan(Date.now());
  });

  it('rejects a wrong password with 401 and the same message as an unknown user', async () => {
    const attempt = (name: string) =>
      call('POST', '/identity/v3/auth/tokens', {
        token: null,
        body: {
          auth: { identity: { methods: ['password'], password: { user: { name, password: 'wrong' } } } },
        },
      });
    const wrongPassword = await attempt('admin');
    const unknownUser = await attempt('nobody-here');
    expect(wrongPassword.status).toBe(401);
    expect(unknownUser.status).toBe(401);
    expect(wrongPassword.body).toEqual(unknownUser.body);
  });

  it('answers 401 without a token, with a forged token, and with a tampered one', async () => {
    expect((await call('GET', '/v3/servers', { token: null })).status).toBe(401);
    expect((await call('GET', '/v3/servers', { token: 'v1.e30.AAAA' })).status).toBe(401);
    const token = await login();
    const [version, payload, signature] = token.split('.');
    const claims = JSON.parse(Buffer.from(payload ?? '', 'base64url').toString());
    claims.project_id = 'someone-else';
    const tampered = `${version}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.${signature}`;
    const response = await call('GET', '/v3/servers', { token: tampered });
    expect(response.status).toBe(401);
    expect(response.body).toHaveProperty('unauthorized.code', 401);
  });

  it("answers 403 when a member asks for an admin-only action, and 404 for another project's server", async () => {
    await createMember('auth-test-member', 'member-password');
    const memberToken = await login('auth-test-member', 'member-password');
    const forbidden = await call('POST', '/compute-agent/v1/credentials', {
      token: memberToken,
      body: { host: 'sneaky' },
    });
    expect(forbidden.status).toBe(403);
    expect(forbidden.body).toHaveProperty('forbidden.code', 403);
    const allTenants = await call('GET', '/v3/servers?all_tenants=1', { token: memberToken });
    expect(allTenants.status).toBe(403);

    const adminToken = await login();
    const id = await createServer(adminToken, { name: 'admins-only', availability_zone: 'az-2' });
    expect((await call('GET', `/v3/servers/${id}`, { token: memberToken })).status).toBe(404);
    expect((await call('DELETE', `/v3/servers/${id}`, { token: memberToken })).status).toBe(404);
    await waitForServer(adminToken, id, ['ACTIVE']);
    await call('DELETE', `/v3/servers/${id}`, { token: adminToken });
    await waitForServer(adminToken, id, ['DELETED']);
  });
});

describe('bad input', () => {
  let token: string;
  beforeAll(async () => {
    token = await login();
  });

  async function instanceCount() {
    const [row] = await primaryDb().select({ n: count() }).from(instances).where(eq(instances.deleted, 0));
    return row?.n ?? 0;
  }

  it.each([
    ['a missing name', { server: { image_ref: IMAGE, flavor_ref: '1' } }, 'server.name'],
    [
      'a non-uuid image_ref',
      { server: { name: 'x', image_ref: 'not-an-image', flavor_ref: '1' } },
      'server.image_ref',
    ],
    [
      'metadata that is not a map of strings',
      { server: { name: 'x', image_ref: IMAGE, flavor_ref: '1', metadata: { a: 1 } } },
      'server.metadata',
    ],
    ['no server object', { name: 'x' }, 'server'],
  ])('answers 400 naming the field for %s, and writes nothing', async (_case, body, field) => {
    const before = await instanceCount();
    const response = await call<{ badRequest: { code: number; message: string } }>('POST', '/v3/servers', {
      token,
      body,
    });
    expect(response.status).toBe(400);
    expect(response.body.badRequest.message).toContain(`'${field}`);
    expect(response.headers.get('x-openstack-request-id')).toMatch(/^req-/);
    expect(await instanceCount()).toBe(before);
  });

  it('answers 400 for malformed JSON and for an unknown flavor or zone, writing nothing', async () => {
    const before = await instanceCount();
    const malformed = await call('POST', '/v3/servers', { token, body: '{"server": ' });
    expect(malformed.status).toBe(400);
    expect(malformed.body).toHaveProperty(
      'badRequest.message',
      'Malformed request body: expected a JSON document',
    );
    const flavor = await call('POST', '/v3/servers', {
      token,
      body: { server: { name: 'x', image_ref: IMAGE, flavor_ref: '999' } },
    });
    expect(flavor.status).toBe(400);
    const zone = await call('POST', '/v3/servers', {
      token,
      body: { server: { name: 'x', image_ref: IMAGE, flavor_ref: '1', availability_zone: 'nowhere' } },
    });
    expect(zone.status).toBe(400);
    expect(zone.body).toHaveProperty(
      'badRequest.message',
      "The requested availability zone 'nowhere' is not available",
    );
    expect(await instanceCount()).toBe(before);
  });

  it('answers unknown routes and servers with itemNotFound', async () => {
    const route = await call('GET', '/v3/no-such-thing', { token });
    expect(route.status).toBe(404);
    expect(route.body).toHaveProperty('itemNotFound.code', 404);
    const server = await call('GET', `/v3/servers/${crypto.randomUUID()}`, { token });
    expect(server.status).toBe(404);
  });
});
