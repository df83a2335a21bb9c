import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../functions/api/app.ts';
import { call, createServer, login, stackInfo, waitForServer } from '../helpers/api.ts';
import { createMember } from '../helpers/identity.ts';

describe('admin resources: services, hosts, hypervisors, zones, aggregates, migrations, instance actions', () => {
  let admin: string;
  let member: string;
  let serverId: string;
  const suffix = crypto.randomUUID().slice(0, 8);
  beforeAll(async () => {
    admin = await login();
    await createMember(`adm-member-${suffix}`, 'secret-password');
    member = await login(`adm-member-${suffix}`, 'secret-password');
    serverId = await createServer(member, { name: `actions-${suffix}`, availability_zone: 'az-1' });
    await waitForServer(member, serverId, ['ACTIVE']);
  });
  afterAll(async () => {
    await call('DELETE', `/v3/servers/${serverId}`, { token: member });
  });

  it.each([
    ['GET', '/v3/os-services'],
    ['GET', '/v3/os-hosts'],
    ['GET', '/v3/os-hypervisors'],
    ['GET', '/v3/os-hypervisors/statistics'],
    ['GET', '/v3/os-aggregates'],
    ['GET', '/v3/os-migrations'],
    ['GET', '/v3/os-availability-zone/detail'],
  ])('refuses members %s %s with 403', async (method, path) => {
    const response = await call(method, path, { token: member });
    expect(response.status).toBe(403);
    expect(response.body).toHaveProperty('forbidden.code', 403);
  });

  it('lists services up, and disables, re-enables and forces one down', async () => {
    const list = await call<{ services: Array<Record<string, unknown>> }>(
      'GET',
      '/v3/os-services?host=compute-1',
      { token: admin },
    );
    const compute = list.body.services.find((service) => service.binary === 'nova-compute');
    expect(compute).toMatchObject({
      host: 'compute-1',
      zone: 'az-1',
      status: 'enabled',
      state: 'up',
      id: expect.any(Number),
    });
    const ref = { host: 'compute-1', binary: 'nova-compute' };
    const disabled = await call('PUT', '/v3/os-services/disable-log-reason', {
      token: admin,
      body: { service: { ...ref, disabled_reason: 'testing' } },
    });
    expect(disabled.body).toEqual({ service: { ...ref, disabled_reason: 'testing', status: 'disabled' } });
    const after = await call<{ services: Array<Record<string, unknown>> }>(
      'GET',
      '/v3/os-services?host=compute-1&binary=nova-compute',
      { token: admin },
    );
    expect(after.body.services[0]).toMatchObject({ status: 'disabled', disabled_reason: 'testing' });
    expect(
      (await call('PUT', '/v3/os-services/enable', { token: admin, body: { service: ref } })).body,
    ).toEqual({ service: { ...ref, status: 'enabled' } });
    await call('PUT', '/v3/os-services/force-down', {
      token: admin,
      body: { service: { ...ref, forced_down: true } },
    });
    const down = await call<{ services: Array<Record<string, unknown>> }>(
      'GET',
      '/v3/os-services?host=compute-1&binary=nova-compute',
      { token: admin },
    );
    expect(down.body.services[0]).toMatchObject({ state: 'down', forced_down: true });
    await call('PUT', '/v3/os-services/force-down', {
      token: admin,
      body: { service: { ...ref, forced_down: false } },
    });
    expect(
      (
        await call('PUT', '/v3/os-services/enable', {
          token: admin,
          body: { service: { host: 'nowhere', binary: 'nova-compute' } },
        })
      ).status,
    ).toBe(404);
    const bad = await call<{ badRequest: { message: string } }>('PUT', '/v3/os-services/disable', {
      token: admin,
      body: { service: { host: 'compute-1' } },
    });
    expect(bad.status).toBe(400);
    expect(bad.body.badRequest.message).toContain('service.binary');
  });

  it('shows hypervisors, their servers and statistics', async () => {
    const list = await call<{ hypervisors: Array<{ id: number; hypervisor_hostname: string }> }>(
      'GET',
      '/v3/os-hypervisors/detail',
      { token: admin },
    );
    expect(list.body.hypervisors.length).toBeGreaterThanOrEqual(3);
    const first = list.body.hypervisors[0] as unknown as Record<string, unknown>;
    for (const key of [
      'cpu_info',
      'current_workload',
      'disk_available_least',
      'free_disk_gb',
      'free_ram_mb',
      'hypervisor_hostname',
      'hypervisor_type',
      'hypervisor_version',
      'id',
      'local_gb',
      'local_gb_used',
      'memory_mb',
      'memory_mb_used',
      'running_vms',
      'service',
      'vcpus',
      'vcpus_used',
    ]) {
      expect(first).toHaveProperty(key);
    }
    const stats = await call<{ hypervisor_statistics: { count: number; vcpus: number } }>(
      'GET',
      '/v3/os-hypervisors/statistics',
      { token: admin },
    );
    expect(stats.body.hypervisor_statistics.count).toBe(list.body.hypervisors.length);
    const server = await call<{ server: Record<string, string> }>('GET', `/v3/servers/${serverId}`, {
      token: admin,
    });
    const host = server.body.server['os-extended-server-attributes:host'];
    const search = await call<{ hypervisors: Array<{ id: number }> }>(
      'GET',
      `/v3/os-hypervisors/search?query=${host}`,
      { token: admin },
    );
    expect(search.status).toBe(200);
    const servers = await call<{ hypervisor: { servers: Array<{ id: string; name: string }> } }>(
      'GET',
      `/v3/os-hypervisors/${search.body.hypervisors[0]?.id}/servers`,
      { token: admin },
    );
    expect(servers.body.hypervisor.servers).toContainEqual({ id: serverId, name: `actions-${suffix}` });
    expect((await call('GET', '/v3/os-hypervisors/999999', { token: admin })).status).toBe(404);
    expect(
      (await call('GET', '/v3/os-hypervisors/search?query=no-such-host-anywhere', { token: admin })).status,
    ).toBe(404);
  });

  it('lists hosts, shows per-project resources and disables a host', async () => {
    const list = await call<{ hosts: Array<Record<string, string>> }>('GET', '/v3/os-hosts?zone=az-2', {
      token: admin,
    });
    expect(list.body.hosts).toContainEqual({ host_name: 'compute-3', service: 'compute', zone: 'az-2' });
    const show = await call<{ host: Array<{ resource: Record<string, unknown> }> }>(
      'GET',
      '/v3/os-hosts/compute-3',
      { token: admin },
    );
    expect(show.body.host.slice(0, 3).map((row) => row.resource.project)).toEqual([
      '(total)',
      '(used_now)',
      '(used_max)',
    ]);
    expect(show.body.host[0]?.resource).toMatchObject({
      host: 'compute-3',
      cpu: 16,
      memory_mb: expect.any(Number),
      disk_gb: expect.any(Number),
    });
    expect(
      (await call('PUT', '/v3/os-hosts/compute-3', { token: admin, body: { host: { status: 'disable' } } }))
        .body,
    ).toEqual({ host: { host: 'compute-3', status: 'disabled' } });
    expect(
      (await call('PUT', '/v3/os-hosts/compute-3', { token: admin, body: { host: { status: 'enable' } } }))
        .body,
    ).toEqual({ host: { host: 'compute-3', status: 'enabled' } });
    expect((await call('GET', '/v3/os-hosts/no-such-host', { token: admin })).status).toBe(404);
  });

  it('manages aggregates as availability zones', async () => {
    const name = `agg-${suffix}`;
    const created = await call<{ aggregate: Record<string, unknown> & { id: number } }>(
      'POST',
      '/v3/os-aggregates',
      { token: admin, body: { aggregate: { name, availability_zone: `zone-${suffix}` } } },
    );
    expect(created.status).toBe(201);
    expect(created.body.aggregate).toMatchObject({
      name,
      availability_zone: `zone-${suffix}`,
      deleted: 0,
      id: expect.any(Number),
    });
    expect(
      (await call('POST', '/v3/os-aggregates', { token: admin, body: { aggregate: { name } } })).status,
    ).toBe(409);
    const id = created.body.aggregate.id;
    const added = await call<{ aggregate: { hosts: string[] } }>('POST', `/v3/os-aggregates/${id}/action`, {
      token: admin,
      body: { add_host: { host: 'compute-2' } },
    });
    expect(added.status).toBe(202);
    expect(added.body.aggregate.hosts).toEqual(['compute-2']);
    expect(
      (
        await call('POST', `/v3/os-aggregates/${id}/action`, {
          token: admin,
          body: { add_host: { host: 'compute-2' } },
        })
      ).status,
    ).toBe(409);
    expect(
      (
        await call('POST', `/v3/os-aggregates/${id}/action`, {
          token: admin,
          body: { add_host: { host: 'nowhere' } },
        })
      ).status,
    ).toBe(404);
    const zones = await call<{ availability_zone_info: Array<{ zone_name: string; hosts: unknown }> }>(
      'GET',
      '/v3/os-availability-zone',
      { token: member },
    );
    expect(zones.body.availability_zone_info).toContainEqual({
      zone_name: `zone-${suffix}`,
      zone_state: { available: true },
      hosts: null,
    });
    const meta = await call<{ aggregate: { metadata: Record<string, string> } }>(
      'POST',
      `/v3/os-aggregates/${id}/action`,
      { token: admin, body: { set_metadata: { metadata: { ssd: 'true' } } } },
    );
    expect(meta.status).toBe(200);
    expect(meta.body.aggregate.metadata).toEqual({ availability_zone: `zone-${suffix}`, ssd: 'true' });
    expect((await call('DELETE', `/v3/os-aggregates/${id}`, { token: admin })).status).toBe(400);
    await call('POST', `/v3/os-aggregates/${id}/action`, {
      token: admin,
      body: { remove_host: { host: 'compute-2' } },
    });
    const renamed = await call<{ aggregate: { name: string } }>('PUT', `/v3/os-aggregates/${id}`, {
      token: admin,
      body: { aggregate: { name: `${name}-2` } },
    });
    expect(renamed.body.aggregate.name).toBe(`${name}-2`);
    expect((await call('DELETE', `/v3/os-aggregates/${id}`, { token: admin })).status).toBe(204);
    expect((await call('GET', `/v3/os-aggregates/${id}`, { token: admin })).status).toBe(404);
    const bad = await call<{ badRequest: { message: string } }>('POST', '/v3/os-aggregates', {
      token: admin,
      body: { aggregate: {} },
    });
    expect(bad.body.badRequest.message).toContain('aggregate.name');
  });

  it('lists migrations with filters and rejects a bad filter', async () => {
    const list = await call<{ migrations: unknown[] }>(
      'GET',
      '/v3/os-migrations?host=compute-1&migration_type=resize',
      { token: admin },
    );
    expect(list.status).toBe(200);
    expect(Array.isArray(list.body.migrations)).toBe(true);
    expect((await call('GET', '/v3/os-migrations?instance_uuid=nope', { token: admin })).status).toBe(400);
  });

  it("shows a server's actions to its owner, hides them from other projects", async () => {
    const list = await call<{ instance_actions: Array<Record<string, string>> }>(
      'GET',
      `/v3/servers/${serverId}/os-instance-actions`,
      { token: member },
    );
    expect(list.status).toBe(200);
    const create = list.body.instance_actions.find((action) => action.action === 'create');
    expect(create).toMatchObject({
      instance_uuid: serverId,
      request_id: expect.any(String),
      start_time: expect.any(String),
    });
    const shown = await call<{ instance_action: { events: Array<Record<string, unknown>> } }>(
      'GET',
      `/v3/servers/${serverId}/os-instance-actions/${create?.request_id}`,
      { token: member },
    );
    expect(shown.status).toBe(200);
    for (const event of shown.body.instance_action.events) expect(event).not.toHaveProperty('traceback');
    const asAdmin = await call<{ instance_action: { events: Array<Record<string, unknown>> } }>(
      'GET',
      `/v3/servers/${serverId}/os-instance-actions/${create?.request_id}`,
      { token: admin },
    );
    for (const event of asAdmin.body.instance_action.events) expect(event).toHaveProperty('traceback');
    await createMember(`other-${suffix}`, 'secret-password');
    const other = await login(`other-${suffix}`, 'secret-password');
    expect((await call('GET', `/v3/servers/${serverId}/os-instance-actions`, { token: other })).status).toBe(
      404,
    );
    expect(
      (await call('GET', `/v3/servers/${serverId}/os-instance-actions/req-none`, { token: member })).status,
    ).toBe(404);
  });

  it('applies POLICY_OVERRIDES from configuration, and refuses unknown rule names', async () => {
    const app = createApp();
    const request = (overrides: string) =>
      app.request(
        '/v3/os-hypervisors',
        { headers: { 'x-auth-token': member } },
        { ...stackInfo().env, POLICY_OVERRIDES: overrides },
      );
    expect((await request('{}')).status).toBe(403);
    expect(
      (await request(JSON.stringify({ 'compute_extension:os-hypervisors': 'admin_or_owner' }))).status,
    ).toBe(200);
    expect((await request(JSON.stringify({ 'compute_extension:no-such-rule': 'admin_api' }))).status).toBe(
      500,
    );
    const tightened = await app.request(
      '/v3/keypairs',
      { headers: { 'x-auth-token': member } },
      { ...stackInfo().env, POLICY_OVERRIDES: JSON.stringify({ 'compute_extension:keypairs': 'admin_api' }) },
    );
    expect(tightened.status).toBe(403);
  });
});
