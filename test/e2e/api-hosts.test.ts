import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, createServer, login, waitForServer } from '../helpers/api.ts';
import { startRegisteredTestAgent } from '../helpers/hosts.ts';
import { createMember } from '../helpers/identity.ts';

// A host of this test's own, alone in its zone: maintenance mode decides whether boots into the zone
// can land anywhere, without touching the hosts other tests boot onto.
const HOST = 'hosts-maintenance-1';
const ZONE = 'az-hosts-maintenance';

interface ServiceView {
  host: string;
  status: string;
  disabled_reason: string | null;
}

describe('os-hosts: maintenance mode and host power actions', () => {
  let admin: string;
  let member: string;
  let stopAgent: () => Promise<void>;
  const servers: string[] = [];

  const putHost = (body: unknown, token = admin) => call('PUT', `/v3/os-hosts/${HOST}`, { token, body });
  const service = async () => {
    const list = await call<{ services: ServiceView[] }>('GET', `/v3/os-services?host=${HOST}`, {
      token: admin,
    });
    return list.body.services[0];
  };

  beforeAll(async () => {
    admin = await login();
    const name = `hosts-member-${crypto.randomUUID().slice(0, 8)}`;
    await createMember(name, 'secret-password');
    member = await login(name, 'secret-password');
    const agent = await startRegisteredTestAgent({ host: HOST, availabilityZone: ZONE });
    stopAgent = () => agent.stop();
  });

  afterAll(async () => {
    await putHost({ host: { status: 'enable' } });
    await Promise.all(servers.map((id) => call('DELETE', `/v3/servers/${id}`, { token: admin })));
    await Promise.all(servers.map((id) => waitForServer(admin, id, ['DELETED'])));
    await stopAgent?.();
  });

  it('puts a host in maintenance: its service is disabled with the reason and nothing new lands there', async () => {
    const entered = await putHost({ host: { maintenance_mode: 'enable' } });
    expect(entered.status).toBe(200);
    expect(entered.body).toEqual({ host: { host: HOST, maintenance_mode: 'on_maintenance' } });
    expect(await service()).toMatchObject({ status: 'disabled', disabled_reason: 'maintenance mode' });

    const refused = await createServer(admin, { name: 'during-maintenance', availability_zone: ZONE });
    servers.push(refused);
    const failed = await waitForServer(admin, refused, ['ERROR', 'ACTIVE']);
    expect(failed?.status).toBe('ERROR');
    expect(failed?.fault?.message).toMatch(/No valid host/i);

    const left = await putHost({ host: { status: 'enable', maintenance_mode: 'disable' } });
    expect(left.body).toEqual({
      host: { host: HOST, status: 'enabled', maintenance_mode: 'off_maintenance' },
    });
    expect(await service()).toMatchObject({ status: 'enabled', disabled_reason: null });
    const booted = await createServer(admin, { name: 'after-maintenance', availability_zone: ZONE });
    servers.push(booted);
    expect((await waitForServer(admin, booted, ['ERROR', 'ACTIVE']))?.status).toBe('ACTIVE');
  });

  it('leaves a host disabled for another reason disabled when maintenance ends', async () => {
    expect((await putHost({ host: { status: 'disable' } })).body).toEqual({
      host: { host: HOST, status: 'disabled' },
    });
    const ended = await putHost({ host: { maintenance_mode: 'disable' } });
    expect(ended.body).toEqual({ host: { host: HOST, maintenance_mode: 'off_maintenance' } });
    expect(await service()).toMatchObject({ status: 'disabled', disabled_reason: null });
    expect((await putHost({ host: { status: 'enable' } })).body).toEqual({
      host: { host: HOST, status: 'enabled' },
    });
  });

  it('refuses contradictory, empty and unknown requests, and members', async () => {
    const contradictory = await putHost({ host: { status: 'enable', maintenance_mode: 'enable' } });
    expect(contradictory.status).toBe(400);
    expect(contradictory.body).toHaveProperty('badRequest.message', expect.stringMatching(/contradicts/));
    expect((await putHost({ host: {} })).status).toBe(400);
    expect((await putHost({ host: { maintenance_mode: 'sometimes' } })).status).toBe(400);
    const unknown = await call('PUT', '/v3/os-hosts/no-such-host', {
      token: admin,
      body: { host: { maintenance_mode: 'enable' } },
    });
    expect(unknown.status).toBe(404);
    expect((await putHost({ host: { maintenance_mode: 'enable' } }, member)).status).toBe(403);
    expect(await service()).toMatchObject({ status: 'enabled' });
  });

  it.each(['startup', 'shutdown', 'reboot'])(
    'answers %s with 501: the fake driver cannot power its host',
    async (action) => {
      const response = await call('GET', `/v3/os-hosts/${HOST}/${action}`, { token: admin });
      expect(response.status).toBe(501);
      expect(response.body).toHaveProperty('notImplemented.code', 501);
      expect(response.body).toHaveProperty('notImplemented.message', expect.stringContaining(action));
      expect((await call('GET', `/v3/os-hosts/no-such-host/${action}`, { token: admin })).status).toBe(404);
      expect((await call('GET', `/v3/os-hosts/${HOST}/${action}`, { token: member })).status).toBe(403);
    },
  );
});
