import { and, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { COMPUTE_COMMAND_NAMES } from '../../schema/objects/compute-command.ts';
import { instanceActionEvents, instanceActions } from '../../schema/tables/index.ts';
import { call, createServer, login, primaryDb, type ServerView, waitForServer } from '../helpers/api.ts';
import { hostClient, issueHostCredential } from '../helpers/hosts.ts';
import {
  expectNodeUsageMatchesClaims,
  expectSettled,
  instanceRow,
  latestMigration,
  type MoveHost,
  serverAction,
  startMoveHost,
  waitForMigration,
} from '../helpers/moves.ts';
import { eventually } from '../helpers/wait.ts';

// Nova's zone rule for moves: a server whose boot request named an availability zone stays in it; one
// that named none may be moved to any zone, and then shows the zone it is in. Each zone here has one
// host of its own. The test's flavor asks for an aggregate only these hosts are in, so the servers
// booted without a zone land (and move) on them and nowhere else in the shared cloud.
const ZONE_A = 'az-zonefree-a';
const ZONE_B = 'az-zonefree-b';
const HOST_A = 'zonefree-a';
const HOST_B = 'zonefree-b';
const HOSTS = [HOST_A, HOST_B];
/** Registered by the test itself with another hypervisor type: no live migration from a fake host fits it. */
const HOST_XEN = 'zonefree-xen';
const POOL_KEY = 'zonefree_pool';
const FLAVOR = `zonefree-${crypto.randomUUID().slice(0, 8)}`;

const AZ_ATTRIBUTE = 'os-extended-availability-zone:availability_zone';

describe('moves and availability zones', () => {
  let token: string;
  let aggregateId: number;
  const hosts: MoveHost[] = [];
  /** Booted naming zone A (the only host there): it must stay on HOST_A. */
  let pinned: string;
  /** Booted naming no zone, onto HOST_A while it was the only host its flavor fits. */
  let free: string;

  const addToPool = async (host: string) => {
    const added = await call('POST', `/v3/os-aggregates/${aggregateId}/action`, {
      token,
      body: { add_host: { host } },
    });
    expect(added.status).toBe(202);
  };

  /** The server is on `host` in `zone`, and its view (read from a replica, so eventually) says so. */
  const expectIn = async (id: string, host: string, zone: string) => {
    const row = await instanceRow(id);
    expect({ host: row.host, zone: row.availability_zone }).toEqual({ host, zone });
    await eventually(
      async () => {
        const { body } = await call<{ server: ServerView }>('GET', `/v3/servers/${id}`, { token });
        expect({
          host: body.server['os-extended-server-attributes:host'],
          zone: body.server[AZ_ATTRIBUTE],
        }).toEqual({ host, zone });
      },
      { timeoutMs: 10_000, intervalMs: 100 },
    );
  };

  const liveMigrate = (id: string, host?: string | null) =>
    serverAction(token, id, {
      migrate_live: {
        ...(host === undefined ? {} : { host }),
        block_migration: false,
        disk_over_commit: false,
      },
    });

  beforeAll(async () => {
    token = await login();
    const flavor = await call('POST', '/v3/flavors', {
      token,
      body: { flavor: { name: FLAVOR, id: FLAVOR, ram: 512, vcpus: 1, disk: 1 } },
    });
    expect(flavor.status).toBe(200);
    const specs = await call('POST', `/v3/flavors/${FLAVOR}/flavor-extra-specs`, {
      token,
      body: { extra_specs: { [`aggregate_instance_extra_specs:${POOL_KEY}`]: 'true' } },
    });
    expect(specs.status).toBe(201);
    const aggregate = await call<{ aggregate: { id: number } }>('POST', '/v3/os-aggregates', {
      token,
      body: { aggregate: { name: `${FLAVOR}-pool` } },
    });
    expect(aggregate.status).toBe(201);
    aggregateId = aggregate.body.aggregate.id;
    const metadata = await call('POST', `/v3/os-aggregates/${aggregateId}/action`, {
      token,
      body: { set_metadata: { metadata: { [POOL_KEY]: 'true' } } },
    });
    expect(metadata.status).toBe(200);

    // Zone B's host joins only once both servers run on HOST_A.
    hosts.push(await startMoveHost({ host: HOST_A, availabilityZone: ZONE_A }));
    await addToPool(HOST_A);
    pinned = await createServer(token, {
      name: 'zone-pinned',
      flavor_ref: FLAVOR,
      availability_zone: ZONE_A,
    });
    free = await createServer(token, { name: 'zone-free', flavor_ref: FLAVOR });
    for (const id of [pinned, free]) {
      await waitForServer(token, id, ['ACTIVE']);
      await expectIn(id, HOST_A, ZONE_A);
    }
    hosts.push(await startMoveHost({ host: HOST_B, availabilityZone: ZONE_B }));
    await addToPool(HOST_B);
  });

  afterAll(async () => {
    await call('PUT', '/v3/os-services/disable', {
      token,
      body: { service: { host: HOST_XEN, binary: 'nova-compute' } },
    });
    await Promise.all(hosts.map((host) => host.stop()));
  });

  it('cold migrates a server booted without a zone to a host of another zone; one that named its zone cannot leave it', async () => {
    expect((await serverAction(token, pinned, { migrate: null })).status).toBe(202);
    const refused = await waitForMigration(pinned, ['error', 'finished']);
    expect(refused.status).toBe('error');
    expect(refused.error_message).toMatch(/No valid host/);
    await waitForServer(token, pinned, ['ACTIVE']);
    await expectIn(pinned, HOST_A, ZONE_A);
    await expectSettled(pinned, HOSTS);

    expect((await serverAction(token, free, { migrate: null })).status).toBe(202);
    const moved = await waitForMigration(free, ['finished', 'error']);
    expect(moved, moved.error_message ?? '').toMatchObject({
      status: 'finished',
      source_compute: HOST_A,
      dest_compute: HOST_B,
    });
    await waitForServer(token, free, ['VERIFY_RESIZE']);
    await expectIn(free, HOST_B, ZONE_B);
    expect((await serverAction(token, free, { confirm_resize: null })).status).toBe(204);
    await waitForServer(token, free, ['ACTIVE']);
    await waitForMigration(free, ['confirmed']);
    await expectIn(free, HOST_B, ZONE_B);
    // The list filter by zone finds the server in the zone it is in now.
    await eventually(
      async () => {
        const listed = await call<{ servers: { id: string }[] }>(
          'GET',
          `/v3/servers?availability_zone=${ZONE_B}`,
          { token },
        );
        expect(listed.body.servers.map((entry) => entry.id)).toEqual([free]);
      },
      { timeoutMs: 10_000, intervalMs: 100 },
    );
    await expectSettled(free, HOSTS);
    for (const host of HOSTS) await expectNodeUsageMatchesClaims(host);
  });

  it('live migrates with no host named (null or absent) to the host the scheduler picks, across zones', async () => {
    expect((await instanceRow(free)).host).toBe(HOST_B);
    // os-admin-actions 1 (Havana) named the host; a client pinned to it still must.
    const asVersion1 = await call<{ badRequest: { message: string } }>('POST', `/v3/servers/${free}/action`, {
      token,
      body: { migrate_live: { host: null, block_migration: false, disk_over_commit: false } },
      headers: { 'x-compute-extension-versions': 'os-admin-actions=1' },
    });
    expect(asVersion1.status).toBe(400);
    expect(asVersion1.body.badRequest.message).toMatch(/migrate_live\.host/);
    expect(await latestMigration(free)).toMatchObject({ migration_type: 'migration', status: 'confirmed' });

    expect((await liveMigrate(free, null)).status).toBe(202);
    expect(await waitForMigration(free, ['done', 'error'])).toMatchObject({
      status: 'done',
      migration_type: 'live-migration',
      source_compute: HOST_B,
      dest_compute: HOST_A,
    });
    await waitForServer(token, free, ['ACTIVE']);
    await expectIn(free, HOST_A, ZONE_A);
    await expectSettled(free, HOSTS);

    expect((await liveMigrate(free)).status).toBe(202);
    expect(await waitForMigration(free, ['done', 'error'])).toMatchObject({
      status: 'done',
      dest_compute: HOST_B,
    });
    await waitForServer(token, free, ['ACTIVE']);
    await expectIn(free, HOST_B, ZONE_B);
    await expectSettled(free, HOSTS);

    // The server that named zone A has nowhere to go: the move fails and it stays where it was.
    expect((await liveMigrate(pinned, null)).status).toBe(202);
    const refused = await waitForMigration(pinned, ['done', 'error']);
    expect(refused).toMatchObject({ status: 'error', migration_type: 'live-migration' });
    expect(refused.error_message).toMatch(/No valid host/);
    await waitForServer(token, pinned, ['ACTIVE']);
    await expectIn(pinned, HOST_A, ZONE_A);
    await expectSettled(pinned, HOSTS);
    for (const host of HOSTS) await expectNodeUsageMatchesClaims(host);
  });

  it('passes over a host the scheduler ranks first whose hypervisor cannot take the guest, and asks again', async () => {
    // A roomier host with idle CPUs ranks first; it runs another hypervisor, so a live migration from a
    // fake host cannot go there.
    const asXen = hostClient(HOST_XEN, await issueHostCredential(HOST_XEN));
    const registered = await asXen('POST', '/register', {
      host: HOST_XEN,
      availability_zone: ZONE_B,
      hypervisor_hostname: HOST_XEN,
      hypervisor_type: 'xen',
      hypervisor_version: 4,
      vcpus: 64,
      memory_mb: 262_144,
      local_gb: 1000,
      supported_objects: { Instance: '1.0' },
      supported_commands: [...COMPUTE_COMMAND_NAMES],
    });
    expect(registered.status).toBe(200);
    const reported = await asXen('POST', '/report', {
      vcpus: 64,
      memory_mb: 262_144,
      local_gb: 1000,
      metrics: [{ name: 'cpu.percent', value: 0, timestamp: new Date().toISOString(), source: 'test' }],
      instances: [],
    });
    expect(reported.status).toBe(200);
    await addToPool(HOST_XEN);

    expect((await instanceRow(free)).host).toBe(HOST_B);
    expect((await liveMigrate(free, null)).status).toBe(202);
    expect(await waitForMigration(free, ['done', 'error'])).toMatchObject({
      status: 'done',
      dest_compute: HOST_A,
    });
    await waitForServer(token, free, ['ACTIVE']);
    await expectIn(free, HOST_A, ZONE_A);
    const events = await primaryDb()
      .select({
        event: instanceActionEvents.event,
        result: instanceActionEvents.result,
        host: instanceActionEvents.host,
      })
      .from(instanceActionEvents)
      .innerJoin(instanceActions, eq(instanceActions.id, instanceActionEvents.action_id))
      .where(
        and(
          eq(instanceActions.instance_uuid, free),
          eq(instanceActionEvents.event, 'conductor_select_destination'),
        ),
      );
    expect(events).toContainEqual({ event: 'conductor_select_destination', result: 'Error', host: HOST_XEN });
    await expectSettled(free, HOSTS);
    await expectNodeUsageMatchesClaims(HOST_XEN);
  });
});
