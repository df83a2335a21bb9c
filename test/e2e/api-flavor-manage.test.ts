import { beforeAll, describe, expect, it } from 'vitest';
import { call, IMAGE, login, waitForServer } from '../helpers/api.ts';
import { createMember } from '../helpers/identity.ts';

describe('flavor-manage, flavor-extra-specs and os-flavor-access', () => {
  let admin: string;
  let member: string;
  let memberProject: string;
  const suffix = crypto.randomUUID().slice(0, 8);
  beforeAll(async () => {
    admin = await login();
    ({ projectId: memberProject } = await createMember(`fl-member-${suffix}`, 'secret-password'));
    member = await login(`fl-member-${suffix}`, 'secret-password');
  });

  it('creates a private flavor only projects with access (and admins) can see, then deletes it', async () => {
    const id = `private-${suffix}`;
    const body = {
      flavor: { name: id, id, ram: 1024, vcpus: 2, disk: 10, 'os-flavor-access:is_public': false },
    };
    expect((await call('POST', '/v3/flavors', { token: member, body })).status).toBe(403);
    const created = await call<{ flavor: Record<string, unknown> }>('POST', '/v3/flavors', {
      token: admin,
      body,
    });
    expect(created.status).toBe(200);
    expect(created.body.flavor).toMatchObject({
      id,
      name: id,
      ram: 1024,
      vcpus: 2,
      disk: 10,
      ephemeral: '',
      swap: '',
      disabled: false,
      'os-flavor-access:is_public': false,
    });
    expect((await call('POST', '/v3/flavors', { token: admin, body })).status).toBe(409);

    const memberIds = async () =>
      (
        await call<{ flavors: Array<{ id: string }> }>('GET', '/v3/flavors', { token: member })
      ).body.flavors.map((f) => f.id);
    expect(await memberIds()).not.toContain(id);
    expect((await call('GET', `/v3/flavors/${id}`, { token: member })).status).toBe(404);

    const added = await call<{ flavor_access: unknown[] }>('POST', `/v3/flavors/${id}/action`, {
      token: admin,
      body: { add_tenant_access: { tenant_id: memberProject } },
    });
    expect(added.status).toBe(200);
    expect(added.body.flavor_access).toEqual([{ flavor_id: id, tenant_id: memberProject }]);
    expect(
      (
        await call('POST', `/v3/flavors/${id}/action`, {
          token: admin,
          body: { add_tenant_access: { tenant_id: memberProject } },
        })
      ).status,
    ).toBe(409);
    expect(await memberIds()).toContain(id);
    expect((await call('GET', `/v3/flavors/${id}`, { token: member })).status).toBe(200);
    const listed = await call('GET', `/v3/flavors/${id}/os-flavor-access`, { token: admin });
    expect(listed.body).toEqual({ flavor_access: [{ flavor_id: id, tenant_id: memberProject }] });
    expect((await call('GET', `/v3/flavors/${id}/os-flavor-access`, { token: member })).status).toBe(403);

    expect(
      (
        await call('POST', `/v3/flavors/${id}/action`, {
          token: admin,
          body: { remove_tenant_access: { tenant_id: memberProject } },
        })
      ).status,
    ).toBe(200);
    expect(await memberIds()).not.toContain(id);
    expect(
      (
        await call('POST', `/v3/flavors/${id}/action`, {
          token: admin,
          body: { remove_tenant_access: { tenant_id: memberProject } },
        })
      ).status,
    ).toBe(404);

    expect((await call('DELETE', `/v3/flavors/${id}`, { token: member })).status).toBe(403);
    expect((await call('DELETE', `/v3/flavors/${id}`, { token: admin })).status).toBe(204);
    expect((await call('GET', `/v3/flavors/${id}`, { token: admin })).status).toBe(404);
    expect((await call('DELETE', `/v3/flavors/${id}`, { token: admin })).status).toBe(404);
  });

  it('boots a private flavor only for projects with access (and admins), as GET /v3/flavors shows them', async () => {
    const id = `private-boot-${suffix}`;
    const flavor = { name: id, id, ram: 512, vcpus: 1, disk: 1, 'os-flavor-access:is_public': false };
    expect((await call('POST', '/v3/flavors', { token: admin, body: { flavor } })).status).toBe(200);
    const boot = (token: string, name: string) =>
      call<{ server?: { id: string } }>('POST', '/v3/servers', {
        token,
        body: { server: { name, image_ref: IMAGE, flavor_ref: id, availability_zone: 'az-2' } },
      });
    const booted: Array<[string, string]> = [];

    const refused = await boot(member, 'no-access');
    expect(refused.status).toBe(400);
    expect(refused.body).toHaveProperty('badRequest.message', expect.stringContaining(`flavor ${id}`));

    const byAdmin = await boot(admin, 'admin-sees-all');
    expect(byAdmin.status).toBe(202);
    booted.push([admin, byAdmin.body.server?.id ?? '']);

    await call('POST', `/v3/flavors/${id}/action`, {
      token: admin,
      body: { add_tenant_access: { tenant_id: memberProject } },
    });
    const granted = await boot(member, 'with-access');
    expect(granted.status).toBe(202);
    booted.push([member, granted.body.server?.id ?? '']);

    for (const [token, serverId] of booted) {
      expect((await waitForServer(token, serverId, ['ACTIVE', 'ERROR']))?.status).toBe('ACTIVE');
      await call('DELETE', `/v3/servers/${serverId}`, { token });
    }
    await Promise.all(booted.map(([token, serverId]) => waitForServer(token, serverId, ['DELETED'])));
    expect((await call('DELETE', `/v3/flavors/${id}`, { token: admin })).status).toBe(204);
  });

  it('answers 400 naming the field for a bad flavor or action body', async () => {
    const bad = await call<{ badRequest: { message: string } }>('POST', '/v3/flavors', {
      token: admin,
      body: { flavor: { name: `bad-${suffix}`, ram: -1, vcpus: 1, disk: 1 } },
    });
    expect(bad.status).toBe(400);
    expect(bad.body.badRequest.message).toContain('flavor.ram');
    const twoActions = await call('POST', '/v3/flavors/1/action', {
      token: admin,
      body: { add_tenant_access: { tenant_id: 'a' }, remove_tenant_access: { tenant_id: 'a' } },
    });
    expect(twoActions.status).toBe(400);
  });

  it('sets, shows, updates and deletes extra specs; members read but cannot write', async () => {
    const id = `specs-${suffix}`;
    await call('POST', '/v3/flavors', {
      token: admin,
      body: { flavor: { name: id, id, ram: 512, vcpus: 1, disk: 1 } },
    });
    const base = `/v3/flavors/${id}/flavor-extra-specs`;
    const set = await call('POST', base, {
      token: admin,
      body: { extra_specs: { key1: 'value1', key2: 'value2' } },
    });
    expect(set.status).toBe(201);
    expect(set.body).toEqual({ extra_specs: { key1: 'value1', key2: 'value2' } });
    expect((await call('POST', base, { token: member, body: { extra_specs: { k: 'v' } } })).status).toBe(403);
    expect((await call('GET', base, { token: member })).body).toEqual({
      extra_specs: { key1: 'value1', key2: 'value2' },
    });
    const updated = await call('PUT', `${base}/key1`, { token: admin, body: { key1: 'new' } });
    expect(updated.body).toEqual({ key1: 'new' });
    expect((await call('GET', `${base}/key1`, { token: admin })).body).toEqual({ key1: 'new' });
    expect((await call('PUT', `${base}/key1`, { token: admin, body: { other: 'x' } })).status).toBe(400);
    const badValue = await call<{ badRequest: { message: string } }>('POST', base, {
      token: admin,
      body: { extra_specs: { key3: 'x'.repeat(300) } },
    });
    expect(badValue.status).toBe(400);
    expect(badValue.body.badRequest.message).toContain('extra_specs');
    expect((await call('DELETE', `${base}/key1`, { token: admin })).status).toBe(204);
    expect((await call('GET', `${base}/key1`, { token: admin })).status).toBe(404);
    expect((await call('DELETE', `${base}/key1`, { token: admin })).status).toBe(404);
    expect(
      (await call('GET', '/v3/flavors/no-such-flavor/flavor-extra-specs', { token: admin })).status,
    ).toBe(404);
    await call('DELETE', `/v3/flavors/${id}`, { token: admin });
  });
});
