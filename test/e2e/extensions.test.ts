import { eq } from 'drizzle-orm';
import { beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../functions/api/app.ts';
import { openApiPath } from '../../functions/api/nova/openapi.ts';
import { ALL_EXTENSIONS } from '../../functions/api/nova/registry.ts';
import { instances } from '../../schema/tables/index.ts';
import { call, IMAGE, login, primaryDb, stackInfo, waitForServer } from '../helpers/api.ts';

interface OpenApi {
  openapi: string;
  paths: Record<
    string,
    Record<string, { requestBody?: { content: Record<string, { schema: { properties?: object } }> } }>
  >;
}

describe('the extension framework', () => {
  let token: string;
  beforeAll(async () => {
    token = await login();
  });

  it('lists every loaded extension with alias, name, description and an integer version', async () => {
    const list = await call<{ extensions: Array<{ alias: string; version: number }> }>(
      'GET',
      '/v3/extensions',
      { token },
    );
    expect(list.body.extensions.map((extension) => extension.alias).sort()).toEqual(
      ALL_EXTENSIONS.map((extension) => extension.alias).sort(),
    );
    for (const extension of list.body.extensions) {
      expect(Object.keys(extension).sort()).toEqual(['alias', 'description', 'name', 'version']);
      expect(Number.isInteger(extension.version)).toBe(true);
    }
    const servers = await call('GET', '/v3/extensions/servers', { token });
    expect(servers.body).toMatchObject({ extension: { alias: 'servers', version: 4 } });
    expect((await call('GET', '/v3/extensions/no-such', { token })).status).toBe(404);
  });

  it('serves an older contract version when the client pins it', async () => {
    const body = {
      server: { name: 'versioned', image_ref: IMAGE, flavor_ref: '1', availability_zone: 'az-2' },
    };
    const current = await call<{ server: Record<string, unknown> }>('POST', '/v3/servers', { token, body });
    expect(current.body.server).toHaveProperty('admin_password');
    expect(current.body.server).not.toHaveProperty('admin_pass');
    const pinned = await call<{ server: Record<string, unknown> }>('POST', '/v3/servers', {
      token,
      body,
      headers: { 'x-compute-extension-versions': 'servers=1' },
    });
    expect(pinned.body.server).toHaveProperty('admin_pass');
    expect(pinned.body.server).not.toHaveProperty('admin_password');
    for (const id of [current.body.server.id, pinned.body.server.id] as string[]) {
      await waitForServer(token, id, ['ACTIVE']);
      await call('DELETE', `/v3/servers/${id}`, { token });
    }
  });

  it.each([
    ['an unknown extension', 'nothing=1'],
    ['a version the extension never had', 'servers=7'],
    ['a malformed pin', 'servers'],
  ])('answers 400 for %s', async (_case, header) => {
    const response = await call('GET', '/v3/servers', {
      token,
      headers: { 'x-compute-extension-versions': header },
    });
    expect(response.status).toBe(400);
    expect(response.body).toHaveProperty('badRequest.code', 400);
  });

  it('documents every registered route in the OpenAPI document, with the request schemas', async () => {
    const document = await call<OpenApi>('GET', '/v3/openapi.json', { token: null });
    expect(document.body.openapi).toBe('3.1.0');
    for (const extension of ALL_EXTENSIONS) {
      for (const route of extension.routes) {
        expect(document.body.paths[openApiPath(route.path)], `${route.method} ${route.path}`).toHaveProperty(
          route.method,
        );
      }
    }
    const create = document.body.paths['/v3/servers']?.post?.requestBody?.content['application/json']?.schema;
    expect(create?.properties).toHaveProperty('server');
    const page = await fetch(`${stackInfo().apiUrl}/v3/api-reference`);
    expect(page.headers.get('content-type')).toContain('text/html');
    expect(await page.text()).toContain('POST /v3/servers');
  });

  it('drops the attributes of a disabled view extension from server and flavor views', async () => {
    const created = await call<{ server: { id: string } }>('POST', '/v3/servers', {
      token,
      body: { server: { name: 'views', image_ref: IMAGE, flavor_ref: '1', availability_zone: 'az-2' } },
    });
    const id = created.body.server.id;
    await waitForServer(token, id, ['ACTIVE']);
    const app = createApp();
    const headers = { 'x-auth-token': token };
    const show = async (path: string, disabled: string) =>
      (await (
        await app.request(path, { headers }, { ...stackInfo().env, DISABLED_EXTENSIONS: disabled })
      ).json()) as Record<string, Record<string, unknown>>;
    const full = await show(`/v3/servers/${id}`, '');
    expect(full.server).toHaveProperty(['os-extended-status:vm_state'], 'active');
    expect(full.server).toHaveProperty(['os-extended-server-attributes:host']);
    const trimmed = await show(`/v3/servers/${id}`, 'os-extended-status,os-extended-server-attributes');
    expect(
      Object.keys(trimmed.server ?? {}).filter((key) => /^os-extended-(status|server-attributes):/.test(key)),
    ).toEqual([]);
    expect(trimmed.server).toHaveProperty(['os-extended-availability-zone:availability_zone'], 'az-2');
    expect((await show('/v3/flavors/1', '')).flavor).toHaveProperty('rxtx_factor');
    const flavor = await show('/v3/flavors/1', 'os-flavor-rxtx,os-flavor-access');
    expect(flavor.flavor).not.toHaveProperty('rxtx_factor');
    expect(flavor.flavor).not.toHaveProperty(['os-flavor-access:is_public']);
    await call('DELETE', `/v3/servers/${id}`, { token });
    await waitForServer(token, id, ['DELETED']);
  });

  it('ignores the create attributes of a disabled os-multiple-create: one server, no reservation answer', async () => {
    const app = createApp();
    const create = async (disabled: string) => {
      const response = await app.request(
        '/v3/servers',
        {
          method: 'POST',
          headers: { 'x-auth-token': token, 'content-type': 'application/json' },
          body: JSON.stringify({
            server: {
              name: `multi-${disabled || 'enabled'}`,
              image_ref: IMAGE,
              flavor_ref: '1',
              availability_zone: 'az-2',
              'os-multiple-create:min_count': 2,
              'os-multiple-create:return_reservation_id': true,
            },
          }),
        },
        { ...stackInfo().env, DISABLED_EXTENSIONS: disabled },
      );
      expect(response.status).toBe(202);
      return (await response.json()) as Record<string, { id?: string; reservation_id?: string }>;
    };
    const single = await create('os-multiple-create');
    expect(single.server?.id).toBeDefined();
    expect(single).not.toHaveProperty('servers_reservation');
    const several = await create('');
    const reservationId = several.servers_reservation?.reservation_id;
    const listed = await call<{ servers: Array<{ id: string }> }>(
      'GET',
      `/v3/servers?reservation_id=${reservationId}`,
      { token },
    );
    expect(listed.body.servers).toHaveLength(2);
    const ids = [single.server?.id ?? '', ...listed.body.servers.map((server) => server.id)];
    await Promise.all(ids.map((id) => waitForServer(token, id, ['ACTIVE', 'ERROR'])));
    await Promise.all(ids.map((id) => call('DELETE', `/v3/servers/${id}`, { token })));
    await Promise.all(ids.map((id) => waitForServer(token, id, ['DELETED'])));
  });

  it('ignores the scheduler hints of a disabled os-scheduler-hints: no 400 for a hint no policy honours', async () => {
    const app = createApp();
    const create = (disabled: string) =>
      app.request(
        '/v3/servers',
        {
          method: 'POST',
          headers: { 'x-auth-token': token, 'content-type': 'application/json' },
          body: JSON.stringify({
            server: {
              name: `hints-${disabled || 'enabled'}`,
              image_ref: IMAGE,
              flavor_ref: '1',
              availability_zone: 'az-2',
              'os-scheduler-hints:scheduler_hints': { no_such_hint: 'x' },
            },
          }),
        },
        { ...stackInfo().env, DISABLED_EXTENSIONS: disabled },
      );
    const refused = await create('');
    expect(refused.status).toBe(400);
    expect(await refused.text()).toContain('no_such_hint');
    const accepted = await create('os-scheduler-hints');
    expect(accepted.status).toBe(202);
    const id = ((await accepted.json()) as { server: { id: string } }).server.id;
    const [row] = await primaryDb()
      .select({ hints: instances.scheduler_hints })
      .from(instances)
      .where(eq(instances.uuid, id));
    expect(row?.hints).toEqual({});
    await waitForServer(token, id, ['ACTIVE', 'ERROR']);
    await call('DELETE', `/v3/servers/${id}`, { token });
    await waitForServer(token, id, ['DELETED']);
  });

  it('stops serving an extension a deployment disables, and refuses to disable a core one', async () => {
    const app = createApp();
    const env = { ...stackInfo().env, DISABLED_EXTENSIONS: 'os-database-replicas' };
    const headers = { 'x-auth-token': token };
    const replicas = await app.request('/v3/os-database-replicas', { headers }, env);
    expect(replicas.status).toBe(404);
    const list = (await (await app.request('/v3/extensions', { headers }, env)).json()) as {
      extensions: Array<{ alias: string }>;
    };
    expect(list.extensions.map((extension) => extension.alias)).not.toContain('os-database-replicas');
    const core = await app.request('/v3/servers', { headers }, { ...env, DISABLED_EXTENSIONS: 'servers' });
    expect(core.status).toBe(500);
    expect(await core.json()).toHaveProperty('computeFault');
  });
});
