import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrations } from '../../schema/tables/index.ts';
import { call, createServer, login, primaryDb, waitForServer } from '../helpers/api.ts';
import { startRegisteredTestAgent } from '../helpers/hosts.ts';
import { createMember } from '../helpers/identity.ts';

const action = (token: string, id: string, body: unknown) =>
  call('POST', `/v3/servers/${id}/action`, { token, body });

describe('server actions', () => {
  let admin: string;
  let member: string;
  let memberServer: string;

  beforeAll(async () => {
    admin = await login();
    const name = `actions-${crypto.randomUUID().slice(0, 8)}`;
    await createMember(name, 'secret-pw');
    member = await login(name, 'secret-pw');
    memberServer = await createServer(member, { name: 'power', availability_zone: 'az-1' });
    await waitForServer(member, memberServer, ['ACTIVE']);
  });

  afterAll(async () => {
    if (memberServer) {
      await action(admin, memberServer, { unlock: null });
      await call('DELETE', `/v3/servers/${memberServer}`, { token: admin });
      await waitForServer(admin, memberServer, ['DELETED']);
    }
  });

  it('runs every power action on the host and shows Havana statuses', async () => {
    const id = memberServer;
    const steps: Array<[unknown, string, number]> = [
      [{ stop: null }, 'SHUTOFF', 4],
      [{ start: null }, 'ACTIVE', 1],
      [{ pause: null }, 'PAUSED', 3],
      [{ unpause: null }, 'ACTIVE', 1],
      [{ suspend: null }, 'SUSPENDED', 7],
      [{ resume: null }, 'ACTIVE', 1],
      [{ reboot: { type: 'SOFT' } }, 'ACTIVE', 1],
      [{ reboot: { type: 'HARD' } }, 'ACTIVE', 1],
    ];
    for (const [body, status, powerState] of steps) {
      const response = await action(member, id, body);
      expect(response.status, JSON.stringify(body)).toBe(202);
      const server = await waitForServer(member, id, [status, 'ERROR']);
      expect(server?.status, JSON.stringify(body)).toBe(status);
      expect(server?.['os-extended-status:task_state']).toBeNull();
      expect(server?.['os-extended-status:power_state'], JSON.stringify(body)).toBe(powerState);
    }
  });

  it('answers 409 naming the state when the action does not fit it', async () => {
    const response = await action(member, memberServer, { start: null });
    expect(response.status).toBe(409);
    expect(JSON.stringify(response.body)).toMatch(/conflictingRequest.*vm_state active/);
    const unpause = await action(member, memberServer, { unpause: null });
    expect(unpause.status).toBe(409);
  });

  it('rejects malformed bodies with 400', async () => {
    const twoKeys = await action(member, memberServer, { stop: null, start: null });
    expect(twoKeys.status).toBe(400);
    expect(JSON.stringify(twoKeys.body)).toMatch(/Malformed request body/);
    const unknown = await action(member, memberServer, { fly: null });
    expect(unknown.status).toBe(400);
    expect(JSON.stringify(unknown.body)).toMatch(/There is no such action: fly/);
    const badReboot = await action(member, memberServer, { reboot: { type: 'GENTLE' } });
    expect(badReboot.status).toBe(400);
    expect(JSON.stringify(badReboot.body)).toMatch(/reboot\.type/);
    const badLive = await action(admin, memberServer, { migrate_live: { host: 'compute-2' } });
    expect(badLive.status).toBe(400);
    expect(JSON.stringify(badLive.body)).toMatch(/migrate_live\.block_migration/);
    const notJson = await call('POST', `/v3/servers/${memberServer}/action`, { token: member, body: '{' });
    expect(notJson.status).toBe(400);
  });

  it('another project cannot see the server: 404', async () => {
    const name = `other-${crypto.randomUUID().slice(0, 8)}`;
    await createMember(name, 'secret-pw');
    const other = await login(name, 'secret-pw');
    expect((await action(other, memberServer, { stop: null })).status).toBe(404);
  });

  it('a lock stops the owner but not an admin, and only an admin lifts an admin lock', async () => {
    expect((await action(member, memberServer, { lock: null })).status).toBe(202);
    const shown = await call<{ server: Record<string, unknown> }>('GET', `/v3/servers/${memberServer}`, {
      token: member,
    });
    expect(shown.body.server['os-extended-status:locked_by']).toBe('owner');
    const refused = await action(member, memberServer, { stop: null });
    expect(refused.status).toBe(409);
    expect(JSON.stringify(refused.body)).toMatch(/locked/);
    expect((await action(member, memberServer, { unlock: null })).status).toBe(202);

    expect((await action(admin, memberServer, { lock: null })).status).toBe(202);
    expect((await action(member, memberServer, { pause: null })).status).toBe(409);
    expect((await action(member, memberServer, { unlock: null })).status).toBe(403);
    // The admin is not bound by the lock.
    expect((await action(admin, memberServer, { pause: null })).status).toBe(202);
    expect((await waitForServer(admin, memberServer, ['PAUSED', 'ERROR']))?.status).toBe('PAUSED');
    expect((await action(admin, memberServer, { unpause: null })).status).toBe(202);
    expect((await waitForServer(admin, memberServer, ['ACTIVE', 'ERROR']))?.status).toBe('ACTIVE');
    expect((await action(admin, memberServer, { unlock: null })).status).toBe(202);
    expect((await action(member, memberServer, { lock: null })).status).toBe(202);
    expect((await action(member, memberServer, { unlock: null })).status).toBe(202);
  });

  it('a locked server refuses deletion by its owner until unlocked; an admin may delete it', async () => {
    const ids = await Promise.all(
      ['locked-1', 'locked-2'].map((name) => createServer(member, { name, availability_zone: 'az-1' })),
    );
    await Promise.all(ids.map((id) => waitForServer(member, id, ['ACTIVE'])));
    const [unlockedLater = '', deletedByAdmin = ''] = ids;
    for (const id of ids) expect((await action(member, id, { lock: null })).status).toBe(202);

    const refused = await call('DELETE', `/v3/servers/${unlockedLater}`, { token: member });
    expect(refused.status).toBe(409);
    expect(refused.body).toHaveProperty('conflictingRequest.message', expect.stringMatching(/is locked/));
    expect((await waitForServer(member, unlockedLater, ['ACTIVE']))?.status).toBe('ACTIVE');
    expect((await action(member, unlockedLater, { unlock: null })).status).toBe(202);
    expect((await call('DELETE', `/v3/servers/${unlockedLater}`, { token: member })).status).toBe(204);

    expect((await call('DELETE', `/v3/servers/${deletedByAdmin}`, { token: admin })).status).toBe(204);
    await Promise.all(ids.map((id) => waitForServer(member, id, ['DELETED'])));
  });

  it('reset_state is for admins only', async () => {
    expect((await action(member, memberServer, { reset_state: { state: 'error' } })).status).toBe(403);
    expect((await action(admin, memberServer, { reset_state: { state: 'error' } })).status).toBe(202);
    expect((await waitForServer(admin, memberServer, ['ERROR']))?.status).toBe('ERROR');
    expect((await action(admin, memberServer, { reset_state: { state: 'active' } })).status).toBe(202);
    expect((await waitForServer(admin, memberServer, ['ACTIVE']))?.status).toBe('ACTIVE');
    expect((await action(admin, memberServer, { reset_state: { state: 'broken' } })).status).toBe(400);
  });

  it('migration actions validate before they write anything (the moves themselves: migrations.test.ts)', async () => {
    expect((await action(member, memberServer, { migrate: null })).status).toBe(403);
    const unknownFlavor = await action(member, memberServer, { resize: { flavor_ref: 'no-such-flavor' } });
    expect(unknownFlavor.status).toBe(400);
    const notResized = await action(member, memberServer, { confirm_resize: null });
    expect(notResized.status).toBe(409);
    const toUnknownHost = await action(admin, memberServer, {
      migrate_live: { host: 'no-such-host', block_migration: false, disk_over_commit: false },
    });
    expect(toUnknownHost.status).toBe(400);
    expect(JSON.stringify(toUnknownHost.body)).toMatch(/no-such-host could not be found/);
    const rows = await primaryDb()
      .select()
      .from(migrations)
      .where(eq(migrations.instance_uuid, memberServer));
    expect(rows).toEqual([]);
    const server = await waitForServer(admin, memberServer, ['ACTIVE']);
    expect(server?.['os-extended-status:task_state']).toBeNull();
  });

  it('rebuild answers the server and brings it back ACTIVE with its new name', async () => {
    const response = await call<{ server: { name: string } }>('POST', `/v3/servers/${memberServer}/action`, {
      token: member,
      body: { rebuild: { image_ref: '70a599e0-31e7-49b7-b260-868f441e862b', name: 'rebuilt' } },
    });
    expect(response.status).toBe(202);
    expect(response.body.server.name).toBe('rebuilt');
    const server = await waitForServer(member, memberServer, ['ACTIVE', 'ERROR']);
    expect(server).toMatchObject({ status: 'ACTIVE', name: 'rebuilt' });
  });

  it('PUT /v3/servers/{id} renames the server', async () => {
    const response = await call<{ server: { name: string } }>('PUT', `/v3/servers/${memberServer}`, {
      token: member,
      body: { server: { name: 'renamed' } },
    });
    expect(response.status).toBe(200);
    expect(response.body.server.name).toBe('renamed');
    const empty = await call('PUT', `/v3/servers/${memberServer}`, {
      token: member,
      body: { server: { name: ' ' } },
    });
    expect(empty.status).toBe(400);
  });

  it('ips: no addresses yet, unknown label is a 404', async () => {
    const ips = await call('GET', `/v3/servers/${memberServer}/ips`, { token: member });
    expect(ips).toMatchObject({ status: 200, body: { addresses: {} } });
    expect((await call('GET', `/v3/servers/${memberServer}/ips/private`, { token: member })).status).toBe(
      404,
    );
  });
});

// A host whose fake driver fails every power-off, alone in its zone so only this test's server lands there.
const HOST = 'failing-power-off-1';
const ZONE = 'az-failing-power-off';

describe('a host that fails to power off', () => {
  let token: string;
  let stopAgent: () => Promise<void>;

  beforeAll(async () => {
    token = await login();
    const agent = await startRegisteredTestAgent({
      host: HOST,
      availabilityZone: ZONE,
      env: { AGENT_FAKE_FAIL: 'power_off' },
    });
    stopAgent = () => agent.stop();
  });

  afterAll(async () => {
    await stopAgent?.();
  });

  it('leaves the server in ERROR with a fault naming the failure', async () => {
    const id = await createServer(token, { name: 'stubborn', availability_zone: ZONE });
    expect((await waitForServer(token, id, ['ACTIVE', 'ERROR']))?.status).toBe('ACTIVE');
    expect((await action(token, id, { stop: null })).status).toBe(202);
    const server = await waitForServer(token, id, ['ERROR', 'SHUTOFF']);
    expect(server?.status).toBe('ERROR');
    expect(server?.fault).toMatchObject({ code: 500 });
    expect(server?.fault?.message).toMatch(/Injected power_off failure/);
    expect((await call('DELETE', `/v3/servers/${id}`, { token })).status).toBe(204);
    await waitForServer(token, id, ['DELETED']);
  });
});
