import { randomUUID } from 'node:crypto';
import { inArray } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrations } from '../../schema/tables/index.ts';
import {
  type ApiResponse,
  call,
  createServer,
  login,
  primaryDb,
  replicaCaughtUp,
  waitForServer,
} from '../helpers/api.ts';
import {
  expectSettled,
  guestsOn,
  instanceRow,
  latestMigration,
  type MigrationRow,
  type MoveHost,
  serverAction,
  startMoveHost,
  waitForMigration,
} from '../helpers/moves.ts';
import { v21Call } from '../helpers/v21.ts';
import { eventually } from '../helpers/wait.ts';

// The microversions of the /v2.1 move actions and their records: force on evacuate (2.29) and
// os-migrateLive (2.30) until 2.68 takes it away, live-migration pre-checks that no longer answer 400
// (2.34), cold migration to a named host (2.56), who started a migration (2.80), why an action event
// failed (2.84) and evacuated servers that end stopped (2.95), each at its version and the one below.
// Two hosts of this file's own zone and one of another: the servers name their zone at boot, so the
// scheduler's policy keeps them in it, and only a forced move reaches the other zone's host.
const suffix = randomUUID().slice(0, 8);
const ZONE = `az-v21-moves-${suffix}`;
const OTHER_ZONE = `az-v21-moves-other-${suffix}`;
const HOST_A = `v21-moves-a-${suffix}`;
const HOST_B = `v21-moves-b-${suffix}`;
const HOST_C = `v21-moves-c-${suffix}`;
const HOSTS = [HOST_A, HOST_B, HOST_C];
/** Nova's power_state for a guest that is shut down. */
const POWER_SHUTDOWN = 4;

type Json = Record<string, unknown>;

let admin: string;
const hosts = new Map<string, MoveHost>();

beforeAll(async () => {
  admin = await login();
  for (const [host, availabilityZone] of [
    [HOST_A, ZONE],
    [HOST_B, ZONE],
    [HOST_C, OTHER_ZONE],
  ] as const) {
    hosts.set(host, await startMoveHost({ host, availabilityZone, vcpus: 16, memoryMb: 16_384 }));
  }
});

afterAll(async () => {
  await Promise.all([...hosts.values()].map((host) => host.stop()));
});

function action(minor: number, id: string, body: unknown): Promise<ApiResponse<Json>> {
  return v21Call(minor, 'POST', `/v2.1/servers/${id}/action`, { token: admin, body });
}

function v21Get<T = Json>(minor: number, path: string): Promise<ApiResponse<T>> {
  return v21Call<T>(minor, 'GET', path, { token: admin });
}

/** A server of the zone, ACTIVE, and the host it landed on. */
async function boot(name: string): Promise<{ id: string; source: string }> {
  const id = await createServer(admin, { name: `${name}-${suffix}`, availability_zone: ZONE });
  await waitForServer(admin, id, ['ACTIVE']);
  return { id, source: (await instanceRow(id)).host ?? '' };
}

function zoneHostOtherThan(host: string): string {
  return host === HOST_A ? HOST_B : HOST_A;
}

async function setServiceDisabled(host: string, disabled: boolean): Promise<void> {
  const answer = await call('PUT', `/v3/os-services/${disabled ? 'disable' : 'enable'}`, {
    token: admin,
    body: { service: { host, binary: 'nova-compute' } },
  });
  expect(answer.status).toBe(200);
}

async function forceDown(host: string, forced: boolean): Promise<void> {
  const answer = await call('PUT', '/v3/os-services/force-down', {
    token: admin,
    body: { service: { host, binary: 'nova-compute', forced_down: forced } },
  });
  expect(answer.status).toBe(200);
}

/** Waits for the server's newest migration to end, and for the server to leave its task state. */
async function settled(id: string, statuses: string[]): Promise<MigrationRow> {
  const migration = await waitForMigration(id, statuses);
  await eventually(async () => expect((await instanceRow(id)).task_state).toBeNull(), {
    timeoutMs: 20_000,
    intervalMs: 100,
  });
  return migration;
}

describe('os-migrateLive', () => {
  it('forces a named host below 2.30, and from 2.30 only with force, which 2.68 refuses', async () => {
    const { id, source } = await boot('live-force');
    const live = (body: Json) => ({ 'os-migrateLive': { block_migration: false, ...body } });

    expect((await action(29, id, live({ host: HOST_C, force: true }))).status).toBe(400);
    expect((await action(30, id, live({ host: null, force: true }))).status).toBe(400);
    expect(await latestMigration(id)).toBeUndefined();

    // Not forced, the other zone's host fails the scheduler's zone rule; below 2.34 that is the answer.
    const refused = await action(30, id, live({ host: HOST_C }));
    expect(refused.status).toBe(400);
    expect(JSON.stringify(refused.body)).toMatch(/No valid host.*AvailabilityZoneFilter/);
    expect(await latestMigration(id)).toMatchObject({ status: 'error', dest_node: null });
    expect(await instanceRow(id)).toMatchObject({ host: source, vm_state: 'active', task_state: null });

    expect((await action(30, id, live({ host: HOST_C, force: true }))).status).toBe(202);
    expect(await settled(id, ['done', 'error'])).toMatchObject({ status: 'done', dest_compute: HOST_C });
    expect((await instanceRow(id)).host).toBe(HOST_C);

    // 2.68 has no force; a named host of the server's zone passes the scheduler's policy.
    expect((await action(68, id, live({ host: source, force: false }))).status).toBe(400);
    expect((await action(68, id, live({ host: source }))).status).toBe(202);
    expect(await settled(id, ['done', 'error'])).toMatchObject({ status: 'done', dest_compute: source });

    // Before 2.30 Nova forced any named host.
    expect((await action(29, id, live({ host: HOST_C }))).status).toBe(202);
    expect(await settled(id, ['done', 'error'])).toMatchObject({ status: 'done', dest_compute: HOST_C });
    await expectSettled(id, HOSTS);
  });

  it('from 2.34 turns a failed pre-check into a migration in error, an action event and the server ACTIVE; below, a 400', async () => {
    const { id, source } = await boot('live-checks');
    const live = (host: string) => ({ 'os-migrateLive': { host, block_migration: false } });

    const own = await action(33, id, live(source));
    expect(own.status).toBe(400);
    expect(JSON.stringify(own.body)).toMatch(/current host/);
    // An unknown host is refused at once at every version.
    expect((await action(34, id, live(`no-such-host-${suffix}`))).status).toBe(400);
    expect(await latestMigration(id)).toBeUndefined();

    expect((await action(34, id, live(source))).status).toBe(202);
    const toItself = await settled(id, ['error', 'done']);
    expect(toItself).toMatchObject({ status: 'error', dest_compute: source });
    expect(toItself.error_message).toMatch(/moving from/);

    expect((await action(34, id, live(HOST_C))).status).toBe(202);
    const elsewhere = await settled(id, ['error', 'done']);
    expect(elsewhere).toMatchObject({ status: 'error', dest_compute: HOST_C });
    expect(elsewhere.error_message).toMatch(/No valid host/);
    expect((await waitForServer(admin, id, ['ACTIVE']))?.status).toBe('ACTIVE');
    expect((await instanceRow(id)).host).toBe(source);
    await expectSettled(id, HOSTS);

    // 2.84: the failed event says why, to admins; events that succeeded have no details.
    await replicaCaughtUp();
    type Action = { action: string; request_id: string };
    type Event = { event: string; result: string; details?: string | null };
    const listed = await v21Get<{ instanceActions: Action[] }>(84, `/v2.1/servers/${id}/os-instance-actions`);
    const [latest] = listed.body.instanceActions;
    expect(latest?.action).toBe('live-migration');
    const path = `/v2.1/servers/${id}/os-instance-actions/${latest?.request_id}`;
    const shown = await v21Get<{ instanceAction: { events: Event[] } }>(84, path);
    const failed = shown.body.instanceAction.events.filter((event) => event.result === 'Error');
    expect(failed).toContainEqual(
      expect.objectContaining({ details: (elsewhere.error_message ?? '').slice(0, 255) }),
    );
    const before = await v21Get<{ instanceAction: { events: Event[] } }>(83, path);
    expect(before.body.instanceAction.events.length).toBe(shown.body.instanceAction.events.length);
    expect(before.body.instanceAction.events.every((event) => !('details' in event))).toBe(true);

    const created = listed.body.instanceActions.find((entry) => entry.action === 'create');
    const creation = await v21Get<{ instanceAction: { events: Event[] } }>(
      84,
      `/v2.1/servers/${id}/os-instance-actions/${created?.request_id}`,
    );
    expect(creation.body.instanceAction.events.length).toBeGreaterThan(0);
    expect(creation.body.instanceAction.events.every((event) => event.details === null)).toBe(true);
  });
});

describe('migrate to a named host (2.56) and who started each move (2.80)', () => {
  it('takes the host the scheduler accepts, refuses an unknown one or its own, and records the caller', async () => {
    const { id, source } = await boot('cold-host');
    const dest = zoneHostOtherThan(source);
    expect((await action(55, id, { migrate: { host: dest } })).status).toBe(400);
    const unknown = await action(56, id, { migrate: { host: `no-such-host-${suffix}` } });
    expect(unknown.status).toBe(400);
    expect(JSON.stringify(unknown.body)).toMatch(/could not be found/);
    expect((await action(56, id, { migrate: { host: source } })).status).toBe(400);
    expect(await latestMigration(id)).toBeUndefined();

    expect((await action(56, id, { migrate: { host: HOST_C } })).status).toBe(202);
    const refused = await settled(id, ['error', 'finished']);
    expect(refused.status).toBe('error');
    expect(refused.error_message).toMatch(/No valid host.*AvailabilityZoneFilter/);
    expect(await instanceRow(id)).toMatchObject({ host: source, vm_state: 'active' });

    expect((await action(56, id, { migrate: { host: dest } })).status).toBe(202);
    expect(await settled(id, ['finished', 'error'])).toMatchObject({
      status: 'finished',
      dest_compute: dest,
    });
    expect((await serverAction(admin, id, { confirm_resize: null })).status).toBe(204);
    await settled(id, ['confirmed', 'error']);
    expect((await instanceRow(id)).host).toBe(dest);

    // 2.80: both moves name who asked for them, as the server's instance actions do.
    await replicaCaughtUp();
    const actions = await v21Get<{
      instanceActions: Array<{ action: string; user_id: string; project_id: string }>;
    }>(80, `/v2.1/servers/${id}/os-instance-actions`);
    const migrate = actions.body.instanceActions.find((entry) => entry.action === 'migrate');
    const caller = { user_id: migrate?.user_id, project_id: migrate?.project_id };
    expect(caller.user_id).toEqual(expect.any(String));
    type Listed = { migrations: Array<Json & { uuid: string }> };
    const listed = await v21Get<Listed>(80, `/v2.1/os-migrations?instance_uuid=${id}`);
    expect(listed.body.migrations).toHaveLength(2);
    for (const migration of listed.body.migrations) expect(migration).toMatchObject(caller);
    const below = await v21Get<Listed>(79, `/v2.1/os-migrations?instance_uuid=${id}`);
    expect(below.body.migrations).toHaveLength(2);
    for (const migration of below.body.migrations) {
      expect(migration).not.toHaveProperty('user_id');
      expect(migration).not.toHaveProperty('project_id');
    }

    const mine = `/v2.1/os-migrations?instance_uuid=${id}&user_id=${caller.user_id}&project_id=${caller.project_id}`;
    expect((await v21Get<Listed>(80, mine)).body.migrations).toHaveLength(2);
    const theirs = await v21Get<Listed>(80, `/v2.1/os-migrations?instance_uuid=${id}&user_id=someone-else`);
    expect(theirs).toMatchObject({ status: 200, body: { migrations: [] } });
    expect(
      (await v21Get(79, `/v2.1/os-migrations?instance_uuid=${id}&user_id=${caller.user_id}`)).status,
    ).toBe(400);
  });

  it('shows the uuid (2.59) and who started them (2.80, null when not recorded) on a server in-progress migrations', async () => {
    const { id, source } = await boot('owner');
    const now = Date.now();
    const row = (user_id: string | null, project_id: string | null, ago: number) => ({
      instance_uuid: id,
      migration_type: 'live-migration',
      status: 'migrating',
      source_compute: source,
      dest_compute: zoneHostOtherThan(source),
      user_id,
      project_id,
      created_at: new Date(now - ago),
    });
    const db = primaryDb();
    // Rows of the test's own, written as a live migration in flight: one from before the owner was
    // recorded, one recorded.
    const seeded = await db
      .insert(migrations)
      .values([row(null, null, 2000), row('mover-user', 'mover-project', 1000)])
      .$returningId();
    const ids = seeded.map((entry) => entry.id);
    try {
      await replicaCaughtUp();
      type Shown = Json & { id: number };
      const list = (minor: number) =>
        v21Get<{ migrations: Shown[] }>(minor, `/v2.1/servers/${id}/migrations`).then(
          (answer) => answer.body,
        );
      const byId = (body: { migrations: Shown[] }) =>
        Object.fromEntries(body.migrations.map((migration) => [migration.id, migration]));
      const [older, newer] = ids;
      const at80 = byId(await list(80));
      expect(at80[String(newer)]).toMatchObject({
        uuid: expect.any(String),
        user_id: 'mover-user',
        project_id: 'mover-project',
      });
      expect(at80[String(older)]).toMatchObject({ user_id: null, project_id: null });
      const at79 = byId(await list(79));
      expect(at79[String(newer)]).toHaveProperty('uuid');
      expect(at79[String(newer)]).not.toHaveProperty('user_id');
      expect(byId(await list(58))[String(newer)]).not.toHaveProperty('uuid');

      const shown = await v21Get<{ migration: Shown }>(80, `/v2.1/servers/${id}/migrations/${newer}`);
      expect(shown.body.migration).toMatchObject({
        id: newer,
        user_id: 'mover-user',
        project_id: 'mover-project',
      });
      const all = await v21Get<{ migrations: Shown[] }>(80, `/v2.1/os-migrations?instance_uuid=${id}`);
      expect(all.body.migrations.find((migration) => migration.id === older)).toMatchObject({
        user_id: null,
        project_id: null,
      });
    } finally {
      await db.delete(migrations).where(inArray(migrations.id, ids));
    }
  });
});

describe('evacuate', () => {
  it('forces a named host below 2.29 and from 2.29 only with force (refused from 2.68); from 2.95 the server ends stopped', async () => {
    // Every server on A, whose agent is then stopped: the zone's disabled host B takes none meanwhile.
    await setServiceDisabled(HOST_B, true);
    const servers: string[] = [];
    try {
      for (const name of ['evac-294', 'evac-295', 'evac-228', 'evac-229']) {
        const { id, source } = await boot(name);
        expect(source).toBe(HOST_A);
        servers.push(id);
      }
    } finally {
      await setServiceDisabled(HOST_B, false);
    }
    const [running, stopped, forcedBefore229, scheduled] = servers as [string, string, string, string];
    const evacuate = (minor: number, id: string, body: Json = {}) => action(minor, id, { evacuate: body });

    const hostA = hosts.get(HOST_A);
    await hostA?.stop();
    await forceDown(HOST_A, true);
    try {
      expect((await evacuate(28, scheduled, { host: HOST_C, force: true })).status).toBe(400);
      expect((await evacuate(29, scheduled, { force: true })).status).toBe(400);
      expect((await evacuate(68, scheduled, { host: HOST_C, force: true })).status).toBe(400);
      expect(await latestMigration(scheduled)).toBeUndefined();

      expect((await evacuate(94, running)).status).toBe(200);
      expect(await settled(running, ['done', 'error'])).toMatchObject({
        status: 'done',
        dest_compute: HOST_B,
      });
      expect(await instanceRow(running)).toMatchObject({ host: HOST_B, vm_state: 'active' });

      expect((await evacuate(95, stopped)).status).toBe(200);
      expect(await settled(stopped, ['done', 'error'])).toMatchObject({
        status: 'done',
        dest_compute: HOST_B,
      });
      expect(await instanceRow(stopped)).toMatchObject({
        host: HOST_B,
        vm_state: 'stopped',
        power_state: POWER_SHUTDOWN,
      });
      expect((await waitForServer(admin, stopped, ['SHUTOFF']))?.status).toBe('SHUTOFF');

      expect((await evacuate(28, forcedBefore229, { host: HOST_C })).status).toBe(200);
      expect(await settled(forcedBefore229, ['done', 'error'])).toMatchObject({
        status: 'done',
        dest_compute: HOST_C,
      });

      expect((await evacuate(29, scheduled, { host: HOST_C })).status).toBe(200);
      const refused = await settled(scheduled, ['error', 'done']);
      expect(refused.error_message).toMatch(/No valid host.*AvailabilityZoneFilter/);
      expect((await instanceRow(scheduled)).host).toBe(HOST_A);
      expect((await evacuate(29, scheduled, { host: HOST_C, force: 'True' })).status).toBe(200);
      expect(await settled(scheduled, ['done', 'error'])).toMatchObject({
        status: 'done',
        dest_compute: HOST_C,
      });
    } finally {
      await forceDown(HOST_A, false);
      await hostA?.restart();
    }
    // Back, A drops the copies of the servers that left it.
    await eventually(
      async () => expect((await guestsOn(HOST_A)).filter((uuid) => servers.includes(uuid))).toEqual([]),
      { timeoutMs: 20_000, intervalMs: 200 },
    );
    for (const id of servers) await expectSettled(id, HOSTS);
  }, 120_000);
});
