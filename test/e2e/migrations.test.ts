import { and, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { quotaUsages } from '../../schema/tables/index.ts';
import { call, createServer, login, primaryDb, waitForServer } from '../helpers/api.ts';
import { createMember } from '../helpers/identity.ts';
import {
  expectNodeUsageMatchesClaims,
  expectSettled,
  guestsOn,
  instanceRow,
  latestMigration,
  type MoveHost,
  serverAction,
  startMoveHost,
  waitForMigration,
} from '../helpers/moves.ts';
import { eventually } from '../helpers/wait.ts';

// Every path of the migrate-server workflow end to end, on two hosts of the test's own zone.
const ZONE = 'az-moves';
const HOSTS = ['move-a', 'move-b'];

describe('unified migrations', () => {
  let token: string;
  const hosts: MoveHost[] = [];

  beforeAll(async () => {
    token = await login();
    for (const host of HOSTS) hosts.push(await startMoveHost({ host, availabilityZone: ZONE }));
  });

  afterAll(async () => {
    await Promise.all(hosts.map((host) => host.stop()));
  });

  async function bootActive(name: string, flavor = '1') {
    const id = await createServer(token, { name, availability_zone: ZONE, flavor_ref: flavor });
    await waitForServer(token, id, ['ACTIVE']);
    return { id, source: (await instanceRow(id)).host ?? '' };
  }

  async function checkNodes() {
    for (const host of HOSTS) await expectNodeUsageMatchesClaims(host);
  }

  it('cold migrates to the other host, waits in VERIFY_RESIZE, and confirms', async () => {
    const { id, source } = await bootActive('cold');
    expect((await serverAction(token, id, { migrate: null })).status).toBe(202);
    const server = await waitForServer(token, id, ['VERIFY_RESIZE', 'ERROR']);
    expect(server?.status).toBe('VERIFY_RESIZE');
    const waiting = await waitForMigration(id, ['finished']);
    expect(waiting).toMatchObject({ migration_type: 'migration', source_compute: source });
    expect(waiting.dest_compute).not.toBe(source);
    expect((await instanceRow(id)).host).toBe(waiting.dest_compute);
    await expectSettled(id, HOSTS, { allowVerifyResize: true });

    expect((await serverAction(token, id, { confirm_resize: null })).status).toBe(204);
    await waitForServer(token, id, ['ACTIVE']);
    expect((await waitForMigration(id, ['confirmed'])).status).toBe('confirmed');
    await expectSettled(id, HOSTS);
    expect(await guestsOn(source)).not.toContain(id);
    await checkNodes();
  });

  it('resizes to a bigger flavor and reverts to the old one on the source', async () => {
    const { id, source } = await bootActive('resize-revert', '1');
    expect((await serverAction(token, id, { resize: { flavor_ref: '2' } })).status).toBe(202);
    await waitForServer(token, id, ['VERIFY_RESIZE']);
    const resized = await instanceRow(id);
    expect(resized.flavor.flavorid).toBe('2');
    expect(resized.host).not.toBe(source);

    expect((await serverAction(token, id, { revert_resize: null })).status).toBe(202);
    await waitForServer(token, id, ['ACTIVE']);
    const reverted = await instanceRow(id);
    expect({ host: reverted.host, flavor: reverted.flavor.flavorid }).toEqual({ host: source, flavor: '1' });
    expect((await waitForMigration(id, ['reverted'])).status).toBe('reverted');
    await expectSettled(id, HOSTS);
    await checkNodes();
  });

  it('resizes and confirms: the server keeps the new flavor and only the destination claim', async () => {
    const { id } = await bootActive('resize-confirm', '1');
    expect((await serverAction(token, id, { resize: { flavor_ref: '2' } })).status).toBe(202);
    await waitForServer(token, id, ['VERIFY_RESIZE']);
    // A second resize while one waits for its decision is a conflict naming the state.
    const again = await serverAction(token, id, { resize: { flavor_ref: '3' } });
    expect(again.status).toBe(409);
    expect(JSON.stringify(again.body)).toMatch(/resized/);
    // Deleting it now would leave the source's copy behind: confirm or revert first.
    const deleted = await call('DELETE', `/v3/servers/${id}`, { token });
    expect(deleted.status).toBe(409);
    expect(JSON.stringify(deleted.body)).toMatch(/vm_state resized/);
    expect((await serverAction(token, id, { confirm_resize: null })).status).toBe(204);
    await waitForServer(token, id, ['ACTIVE']);
    expect((await instanceRow(id)).flavor.flavorid).toBe('2');
    await waitForMigration(id, ['confirmed']);
    await expectSettled(id, HOSTS);
    await checkNodes();
  });

  it('of a concurrent confirm and revert exactly one wins; the other is a 409 and changes nothing', async () => {
    const { id } = await bootActive('decide-race');
    expect((await serverAction(token, id, { migrate: null })).status).toBe(202);
    await waitForServer(token, id, ['VERIFY_RESIZE']);
    const [confirm, revert] = await Promise.all([
      serverAction(token, id, { confirm_resize: null }),
      serverAction(token, id, { revert_resize: null }),
    ]);
    const statuses = [confirm.status, revert.status].sort();
    expect([
      [204, 409],
      [202, 409],
    ]).toContainEqual(statuses);
    const winner = confirm.status === 204 ? 'confirmed' : 'reverted';
    expect((await waitForMigration(id, ['confirmed', 'reverted', 'error'])).status).toBe(winner);
    await waitForServer(token, id, ['ACTIVE']);
    await expectSettled(id, HOSTS);
  });

  it("a resize takes its growth from the project's quota; over quota it writes nothing, a revert gives it back", async () => {
    const { projectId } = await createMember('resize-quota-user', 'resize-quota-password');
    const member = await login('resize-quota-user', 'resize-quota-password');
    const setRam = (ram: number) =>
      call('PUT', `/v3/os-quota-sets/${projectId}`, { token, body: { quota_set: { ram } } });
    const ramUsed = async () => {
      const [row] = await primaryDb()
        .select({ in_use: quotaUsages.in_use })
        .from(quotaUsages)
        .where(and(eq(quotaUsages.project_id, projectId), eq(quotaUsages.resource, 'ram')));
      return row?.in_use;
    };
    expect((await setRam(1024)).status).toBe(200);
    const id = await createServer(member, { name: 'resize-quota', availability_zone: ZONE, flavor_ref: '1' });
    await waitForServer(member, id, ['ACTIVE']);
    expect(await ramUsed()).toBe(512);
    // m1.small needs 1536 MB more than m1.tiny: over the 1024 MB limit.
    const refused = await serverAction(member, id, { resize: { flavor_ref: '2' } });
    expect(refused.status).toBe(413);
    expect(await latestMigration(id)).toBeUndefined();
    expect((await instanceRow(id)).task_state).toBeNull();

    expect((await setRam(4096)).status).toBe(200);
    expect((await serverAction(member, id, { resize: { flavor_ref: '2' } })).status).toBe(202);
    await waitForServer(member, id, ['VERIFY_RESIZE']);
    expect(await ramUsed()).toBe(2048);
    expect((await serverAction(member, id, { revert_resize: null })).status).toBe(202);
    await waitForMigration(id, ['reverted']);
    expect(await ramUsed()).toBe(512);
    await expectSettled(id, HOSTS);
  });

  it('confirms a resize nobody confirmed once the window passes', async () => {
    const { id } = await bootActive('auto-confirm');
    expect((await serverAction(token, id, { migrate: null })).status).toBe(202);
    await waitForServer(token, id, ['VERIFY_RESIZE']);
    // The test stack's RESIZE_CONFIRM_WINDOW_SECONDS is 20.
    await waitForMigration(id, ['confirmed'], 50_000);
    await waitForServer(token, id, ['ACTIVE']);
    await expectSettled(id, HOSTS);
  }, 80_000);

  it('live migrates to a named host; the migration shows its progress and ends done', async () => {
    const { id, source } = await bootActive('live');
    const dest = HOSTS.find((host) => host !== source) ?? '';
    const response = await serverAction(token, id, {
      migrate_live: { host: dest, block_migration: false, disk_over_commit: false },
    });
    expect(response.status).toBe(202);
    const done = await waitForMigration(id, ['done', 'error']);
    expect(done).toMatchObject({ status: 'done', migration_type: 'live-migration', progress: 100 });
    await waitForServer(token, id, ['ACTIVE']);
    expect((await instanceRow(id)).host).toBe(dest);
    await expectSettled(id, HOSTS);
    await checkNodes();

    const listed = await call<{ migrations: { id: number; status: string }[] }>(
      'GET',
      `/v3/servers/${id}/migrations`,
      { token },
    );
    expect(listed.body.migrations[0]).toMatchObject({ id: done.id, status: 'done' });
    const filtered = await call<{ migrations: { id: number }[] }>(
      'GET',
      `/v3/os-migrations?instance_uuid=${id}&migration_type=live-migration&status=done`,
      { token },
    );
    expect(filtered.body.migrations.map((row) => row.id)).toEqual([done.id]);
  });

  it('refuses moves that cannot start, writing nothing', async () => {
    const { id, source } = await bootActive('refused');
    const self = await serverAction(token, id, {
      migrate_live: { host: source, block_migration: false, disk_over_commit: false },
    });
    expect(self.status).toBe(400);
    // Evacuate needs the source host down.
    const evacuate = await serverAction(token, id, { evacuate: { on_shared_storage: false } });
    expect(evacuate.status).toBe(409);
    expect(JSON.stringify(evacuate.body)).toMatch(/still in use/);
    expect(await latestMigration(id)).toBeUndefined();
    const confirm = await serverAction(token, id, { confirm_resize: null });
    expect(confirm.status).toBe(409);
  });

  it('evacuates from a down host; the old host cleans up only its own copy when it returns', async () => {
    const { id, source } = await bootActive('evacuate');
    const dest = HOSTS.find((host) => host !== source) ?? '';
    const sourceHost = hosts.find((host) => host.host === source);
    await sourceHost?.stop();
    const forceDown = (forced: boolean) =>
      call('PUT', '/v3/os-services/force-down', {
        token,
        body: { service: { host: source, binary: 'nova-compute', forced_down: forced } },
      });
    expect((await forceDown(true)).status).toBe(200);
    try {
      const response = await serverAction(token, id, { evacuate: { on_shared_storage: false } });
      expect(response.status).toBe(200);
      await waitForMigration(id, ['done']);
      await waitForServer(token, id, ['ACTIVE']);
      expect((await instanceRow(id)).host).toBe(dest);
      // The dead host's disk still has its copy until it comes back.
      expect(await guestsOn(source)).toContain(id);
    } finally {
      expect((await forceDown(false)).status).toBe(200);
      await sourceHost?.restart();
    }
    await eventually(async () => expect(await guestsOn(source)).not.toContain(id), {
      timeoutMs: 20_000,
      intervalMs: 200,
    });
    expect(await guestsOn(dest)).toContain(id);
    await expectSettled(id, HOSTS);
    await checkNodes();
  }, 60_000);
});

describe('an admin steering a live migration in flight', () => {
  // The memory copy would take 5 minutes on these hosts, longer than the workflow allows it (the test
  // stack's 50 s): a migration that ends well, ends because an admin steered it. Removing a guest takes
  // a second, so a migration that read `cancelled` before the destination dropped its copy would be
  // caught doing so.
  const SLOW_ZONE = 'az-moves-slow';
  const SLOW_HOSTS = ['move-slow-a', 'move-slow-b'];
  let token: string;
  const hosts: MoveHost[] = [];

  beforeAll(async () => {
    token = await login();
    for (const host of SLOW_HOSTS) {
      hosts.push(
        await startMoveHost({
          host,
          availabilityZone: SLOW_ZONE,
          env: { AGENT_FAKE_LATENCY_MS: 'live_migration=300000,terminate=1000' },
        }),
      );
    }
  });

  afterAll(async () => {
    await Promise.all(hosts.map((host) => host.stop()));
  });

  async function startLive(name: string) {
    const id = await createServer(token, { name, availability_zone: SLOW_ZONE });
    await waitForServer(token, id, ['ACTIVE']);
    const source = (await instanceRow(id)).host ?? '';
    const dest = SLOW_HOSTS.find((host) => host !== source) ?? '';
    const response = await serverAction(token, id, {
      migrate_live: { host: dest, block_migration: false, disk_over_commit: false },
    });
    expect(response.status).toBe(202);
    const migration = await waitForMigration(id, ['migrating']);
    return { id, source, dest, migration };
  }

  it('cancels: the guest stays on the source, the destination drops its copy and claim, then the migration is cancelled', async () => {
    const { id, source, migration } = await startLive('live-cancel');
    const force = (body: unknown) =>
      call('POST', `/v3/servers/${id}/migrations/${migration.id}/action`, { token, body });
    expect((await force({ force_complete: 'now' })).status).toBe(400);
    const cancelled = await call('DELETE', `/v3/servers/${id}/migrations/${migration.id}`, { token });
    expect(cancelled.status).toBe(202);
    expect((await waitForMigration(id, ['cancelled', 'done', 'error'])).status).toBe('cancelled');
    await waitForServer(token, id, ['ACTIVE']);
    expect((await instanceRow(id)).host).toBe(source);
    await expectSettled(id, SLOW_HOSTS);
    // A finished migration can no longer be cancelled.
    const late = await call('DELETE', `/v3/servers/${id}/migrations/${migration.id}`, { token });
    expect(late.status).toBe(409);
  });

  it('forces completion: the copy ends at once and the guest runs on the destination', async () => {
    const { id, dest, migration } = await startLive('live-force');
    const forced = await call('POST', `/v3/servers/${id}/migrations/${migration.id}/action`, {
      token,
      body: { force_complete: null },
    });
    expect(forced.status).toBe(202);
    const done = await waitForMigration(id, ['done', 'error', 'cancelled']);
    expect(done).toMatchObject({ status: 'done', progress: 100 });
    expect((await instanceRow(id)).host).toBe(dest);
    await expectSettled(id, SLOW_HOSTS);
    const member = await call('GET', `/v3/servers/${id}/migrations`, { token: null });
    expect(member.status).toBe(401);
  });
});
