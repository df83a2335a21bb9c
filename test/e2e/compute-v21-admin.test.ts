import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inArray } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { instances, migrations } from '../../schema/tables/index.ts';
import {
  type ApiResponse,
  call,
  createServer,
  login,
  primaryDb,
  replicaCaughtUp,
  waitForServer,
} from '../helpers/api.ts';
import { startRegisteredTestAgent } from '../helpers/hosts.ts';
import { createMember } from '../helpers/identity.ts';
import { M1_TINY, newInstanceRow } from '../helpers/instance-rows.ts';
import { adminCloud, type OpenstackCloud, openstack, openstackJson } from '../helpers/openstack-cli.ts';
import { v21Call } from '../helpers/v21.ts';

// The admin faces of /v2.1 (hypervisors, services, aggregates, migrations, usage, hosts) as Debian 12's
// novaclient (fixed at 2.1) and openstacksdk (negotiating up to 2.69–2.88) call them, on a host of this
// file's own, alone in its zone, and rows of its own (its migrations and usage are written straight to
// the database, with times in the past, so their figures are exact).
const HOST = 'v21-admin-1';
const ZONE = 'az-v21-admin';
const NOVA_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}$/;
const UUID = /^[\da-f]{8}-[\da-f]{4}-[\da-f]{4}-[\da-f]{4}-[\da-f]{12}$/;

type Json = Record<string, unknown>;

/** A v2.1 call at 2.`minor` (test/helpers/v21.ts), which names the version it answered at. */
async function v21<T = Json>(
  minor: number,
  method: string,
  path: string,
  options: { token: string; body?: unknown },
): Promise<ApiResponse<T>> {
  const answer = await v21Call<T>(minor, method, path, options);
  expect(answer.headers.get('x-openstack-nova-api-version')).toBe(`2.${minor}`);
  return answer;
}

interface Hypervisor {
  id: number | string;
  hypervisor_hostname: string;
  state: string;
  status: string;
  service: { id: number | string; host: string; disabled_reason: string | null };
  servers?: Array<{ name: string; uuid: string }>;
  [key: string]: unknown;
}

interface Service {
  id: number | string;
  binary: string;
  host: string;
  zone: string;
  status: string;
  state: string;
  updated_at: string | null;
  disabled_reason: string | null;
  forced_down?: boolean;
}

interface Aggregate {
  id: number;
  uuid?: string;
  name: string;
  availability_zone: string | null;
  hosts?: string[];
  metadata?: Record<string, string>;
  [key: string]: unknown;
}

describe('the /v2.1 admin faces', () => {
  let admin: string;
  let member: string;
  let memberProject: string;
  let serverId: string | undefined;
  let stopAgent: (() => Promise<void>) | undefined;
  const suffix = randomUUID().slice(0, 8);
  const seededInstances: string[] = [];
  const seededMigrations: number[] = [];
  // The server whose moves the migration rows record, and the project whose usage the instance rows make.
  const movedServer = randomUUID();
  const movedUuids: string[] = [];
  const usageProject = `v21-usage-${suffix}`;

  /** My host's hypervisor, from the detailed list. */
  async function myHypervisor(minor: number): Promise<Hypervisor> {
    const list = await v21<{ hypervisors: Hypervisor[] }>(minor, 'GET', '/v2.1/os-hypervisors/detail', {
      token: admin,
    });
    expect(list.status).toBe(200);
    const mine = list.body.hypervisors.find((hypervisor) => hypervisor.service.host === HOST);
    if (!mine) throw new Error(`${HOST} is not among the hypervisors`);
    return mine;
  }

  async function myService(minor: number): Promise<Service> {
    const list = await v21<{ services: Service[] }>(minor, 'GET', `/v2.1/os-services?host=${HOST}`, {
      token: admin,
    });
    expect(list.status).toBe(200);
    expect(list.body.services).toHaveLength(1);
    return list.body.services[0] as Service;
  }

  /** Three moves of one server, in 2020, 2021 and 2022 (the last a live migration still under way). */
  async function seedMoves(): Promise<void> {
    const db = primaryDb();
    const rows = [
      { migration_type: 'resize', status: 'confirmed', year: 2020 },
      { migration_type: 'migration', status: 'error', year: 2021 },
      { migration_type: 'live-migration', status: 'migrating', year: 2022 },
    ];
    for (const row of rows) {
      const [inserted] = await db
        .insert(migrations)
        .values({
          instance_uuid: movedServer,
          migration_type: row.migration_type,
          status: row.status,
          source_compute: `v21-src-${suffix}`,
          source_node: `v21-src-${suffix}`,
          dest_compute: `v21-dst-${suffix}`,
          dest_node: `v21-dst-${suffix}`,
          dest_host: '192.0.2.7',
          old_flavorid: '1',
          new_flavorid: row.migration_type === 'resize' ? '2' : '1',
          created_at: new Date(`${row.year}-01-01T00:00:00Z`),
          updated_at: new Date(`${row.year}-02-01T00:00:00Z`),
        })
        .$returningId();
      if (!inserted) throw new Error('migration not inserted');
      seededMigrations.push(inserted.id);
    }
    const stored = await db.select().from(migrations).where(inArray(migrations.id, seededMigrations));
    // Newest first, as every list answers.
    movedUuids.push(...stored.sort((a, b) => b.id - a.id).map((row) => row.uuid));
  }

  /** Three servers of one project that each ran ten hours on 2001-01-01 and are long deleted. */
  async function seedUsage(): Promise<void> {
    const db = primaryDb();
    for (let index = 0; index < 3; index += 1) {
      const row = newInstanceRow({
        project_id: usageProject,
        display_name: `metered-${index}`,
        vm_state: 'deleted',
        launched_at: new Date('2001-01-01T00:00:00Z'),
        terminated_at: new Date('2001-01-01T10:00:00Z'),
        created_at: new Date('2001-01-01T00:00:00Z'),
      });
      const [inserted] = await db.insert(instances).values(row).$returningId();
      if (!inserted) throw new Error('instance not inserted');
      await db
        .update(instances)
        .set({ deleted: inserted.id, deleted_at: new Date('2001-01-01T10:00:00Z') })
        .where(inArray(instances.id, [inserted.id]));
      seededInstances.push(row.uuid as string);
    }
  }

  beforeAll(async () => {
    admin = await login();
    const name = `v21-admin-${suffix}`;
    ({ projectId: memberProject } = await createMember(name, 'secret-password'));
    member = await login(name, 'secret-password');
    const agent = await startRegisteredTestAgent({
      host: HOST,
      availabilityZone: ZONE,
      vcpus: 6,
      memoryMb: 6144,
      localGb: 60,
    });
    stopAgent = () => agent.stop();
    serverId = await createServer(member, { name: `v21-admin-${suffix}`, availability_zone: ZONE });
    await seedMoves();
    await seedUsage();
    await waitForServer(member, serverId, ['ACTIVE']);
    // The API reads what the seeding wrote straight to the primary from a replica too.
    await replicaCaughtUp();
  });

  afterAll(async () => {
    if (serverId) await call('DELETE', `/v3/servers/${serverId}`, { token: member });
    await stopAgent?.();
    const db = primaryDb();
    if (seededMigrations.length > 0)
      await db.delete(migrations).where(inArray(migrations.id, seededMigrations));
    if (seededInstances.length > 0)
      await db.delete(instances).where(inArray(instances.uuid, seededInstances));
  });

  describe('os-hypervisors', () => {
    it('lists, shows and totals hypervisors at 2.1 with their service state and resources', async () => {
      const mine = await myHypervisor(1);
      expect(mine).toMatchObject({
        id: expect.any(Number),
        hypervisor_hostname: expect.any(String),
        state: 'up',
        status: 'enabled',
        hypervisor_type: expect.any(String),
        hypervisor_version: expect.any(Number),
        host_ip: null,
        service: { id: expect.any(Number), host: HOST, disabled_reason: null },
        vcpus: 6,
        vcpus_used: 1,
        memory_mb: 6144,
        memory_mb_used: 512,
        free_ram_mb: 6144 - 512,
        local_gb: 60,
        running_vms: expect.any(Number),
        current_workload: 0,
        // JSON text before 2.28: novaclient-based `openstack hypervisor show` parses it.
        cpu_info: '{}',
      });
      expect(mine).not.toHaveProperty('uptime');

      const index = await v21<{ hypervisors: Hypervisor[] }>(1, 'GET', '/v2.1/os-hypervisors', {
        token: admin,
      });
      expect(index.body.hypervisors.find((item) => item.id === mine.id)).toEqual({
        id: mine.id,
        hypervisor_hostname: mine.hypervisor_hostname,
        state: 'up',
        status: 'enabled',
      });
      expect(index.body).not.toHaveProperty('hypervisors_links');

      const shown = await v21<{ hypervisor: Hypervisor }>(1, 'GET', `/v2.1/os-hypervisors/${mine.id}`, {
        token: admin,
      });
      expect(shown.body.hypervisor).toEqual(mine);
      expect(
        (await v21(1, 'GET', `/v2.1/os-hypervisors/${mine.hypervisor_hostname}`, { token: admin })).status,
      ).toBe(404);

      const stats = await v21<{ hypervisor_statistics: Record<string, number> }>(
        1,
        'GET',
        '/v2.1/os-hypervisors/statistics',
        { token: admin },
      );
      expect(stats.body.hypervisor_statistics.count).toBeGreaterThanOrEqual(1);
      expect(stats.body.hypervisor_statistics.vcpus).toBeGreaterThanOrEqual(6);

      // openstack hypervisor show asks for the uptime and shows the rest when the answer is 501.
      const uptime = await v21(1, 'GET', `/v2.1/os-hypervisors/${mine.id}/uptime`, { token: admin });
      expect(uptime.status).toBe(501);
      expect(uptime.body).toHaveProperty('notImplemented.code', 501);
      expect((await v21(1, 'GET', '/v2.1/os-hypervisors/detail', { token: member })).status).toBe(403);
    });

    it('searches by hostname, with the servers, before 2.53', async () => {
      const { hypervisor_hostname: hostname, id } = await myHypervisor(1);
      const search = await v21<{ hypervisors: Hypervisor[] }>(
        1,
        'GET',
        `/v2.1/os-hypervisors/${hostname}/search`,
        {
          token: admin,
        },
      );
      expect(search.body.hypervisors).toEqual([
        { id, hypervisor_hostname: hostname, state: 'up', status: 'enabled' },
      ]);
      const withServers = await v21<{ hypervisors: Hypervisor[] }>(
        1,
        'GET',
        `/v2.1/os-hypervisors/${hostname}/servers`,
        { token: admin },
      );
      expect(withServers.body.hypervisors[0]?.servers).toEqual([
        { name: `v21-admin-${suffix}`, uuid: serverId },
      ]);
      const none = await v21(1, 'GET', `/v2.1/os-hypervisors/no-such-host-${suffix}/search`, {
        token: admin,
      });
      expect(none.status).toBe(404);
      expect((await v21(53, 'GET', `/v2.1/os-hypervisors/${hostname}/search`, { token: admin })).status).toBe(
        404,
      );
    });

    it('describes the CPU as an object from 2.28', async () => {
      expect((await myHypervisor(28)).cpu_info).toEqual({});
    });

    it('pages by id from 2.33, following the next link', async () => {
      const all = await v21<{ hypervisors: Hypervisor[] }>(33, 'GET', '/v2.1/os-hypervisors', {
        token: admin,
      });
      expect(all.body.hypervisors.length).toBeGreaterThanOrEqual(2);
      const first = await v21<{
        hypervisors: Hypervisor[];
        hypervisors_links: Array<{ rel: string; href: string }>;
      }>(33, 'GET', '/v2.1/os-hypervisors?limit=1', { token: admin });
      const ids = all.body.hypervisors.map((hypervisor) => hypervisor.id);
      expect(first.body.hypervisors.map((hypervisor) => hypervisor.id)).toEqual(ids.slice(0, 1));
      const [next] = first.body.hypervisors_links;
      expect(next?.rel).toBe('next');
      const href = new URL(next?.href ?? '');
      expect(href.pathname).toBe('/v2.1/os-hypervisors');
      expect(href.searchParams.get('marker')).toBe(String(ids[0]));
      const second = await v21<{ hypervisors: Hypervisor[] }>(33, 'GET', `${href.pathname}${href.search}`, {
        token: admin,
      });
      expect(second.body.hypervisors.map((hypervisor) => hypervisor.id)).toEqual(ids.slice(1, 2));
      expect((await v21(33, 'GET', '/v2.1/os-hypervisors?marker=999999999', { token: admin })).status).toBe(
        400,
      );
      expect((await v21(33, 'GET', '/v2.1/os-hypervisors?limit=-1', { token: admin })).status).toBe(400);
    });

    it('names hypervisors and services by uuid from 2.53, with pattern and with_servers parameters', async () => {
      const mine = await myHypervisor(53);
      expect(mine.id).toMatch(UUID);
      expect(mine.service.id).toMatch(UUID);
      const shown = await v21<{ hypervisor: Hypervisor }>(
        53,
        'GET',
        `/v2.1/os-hypervisors/${mine.id}?with_servers=true`,
        { token: admin },
      );
      expect(shown.body.hypervisor).toEqual({
        ...mine,
        servers: [{ name: `v21-admin-${suffix}`, uuid: serverId }],
      });
      const integer = await v21(53, 'GET', '/v2.1/os-hypervisors/1', { token: admin });
      expect(integer.status).toBe(400);
      expect(integer.body).toEqual({ badRequest: { code: 400, message: 'Invalid uuid 1' } });

      const matching = await v21<{ hypervisors: Hypervisor[] }>(
        53,
        'GET',
        `/v2.1/os-hypervisors?hypervisor_hostname_pattern=${mine.hypervisor_hostname}&with_servers=1`,
        { token: admin },
      );
      expect(matching.body.hypervisors).toEqual([
        {
          id: mine.id,
          hypervisor_hostname: mine.hypervisor_hostname,
          state: 'up',
          status: 'enabled',
          servers: [{ name: `v21-admin-${suffix}`, uuid: serverId }],
        },
      ]);
      const paged = await v21(53, 'GET', `/v2.1/os-hypervisors?hypervisor_hostname_pattern=${HOST}&limit=1`, {
        token: admin,
      });
      expect(paged.status).toBe(400);
      expect(
        (
          await v21(53, 'GET', `/v2.1/os-hypervisors?hypervisor_hostname_pattern=none-${suffix}`, {
            token: admin,
          })
        ).status,
      ).toBe(404);
      expect((await v21(53, 'GET', '/v2.1/os-hypervisors?query=x', { token: admin })).status).toBe(400);

      const first = await v21<{ hypervisors_links: Array<{ href: string }> }>(
        53,
        'GET',
        '/v2.1/os-hypervisors?limit=1',
        { token: admin },
      );
      expect(new URL(first.body.hypervisors_links[0]?.href ?? '').searchParams.get('marker')).toMatch(UUID);
    });

    it('drops the resource figures, statistics and uptime and names the uptime from 2.88', async () => {
      const mine = await myHypervisor(88);
      expect(mine.uptime).toBeNull();
      for (const gone of ['vcpus', 'memory_mb', 'local_gb', 'running_vms', 'cpu_info', 'free_ram_mb']) {
        expect(mine).not.toHaveProperty(gone);
      }
      expect(mine).toMatchObject({ state: 'up', status: 'enabled', host_ip: null });
      expect((await v21(88, 'GET', '/v2.1/os-hypervisors/statistics', { token: admin })).status).toBe(404);
      expect((await v21(88, 'GET', `/v2.1/os-hypervisors/${mine.id}/uptime`, { token: admin })).status).toBe(
        404,
      );
      expect((await v21(87, 'GET', '/v2.1/os-hypervisors/statistics', { token: admin })).status).toBe(200);
    });
  });

  describe('os-services', () => {
    it('lists compute services at 2.1 and disables, re-enables them by host and binary', async () => {
      const service = await myService(1);
      expect(service).toEqual({
        id: expect.any(Number),
        binary: 'nova-compute',
        host: HOST,
        zone: ZONE,
        status: 'enabled',
        state: 'up',
        updated_at: expect.stringMatching(NOVA_TIME),
        disabled_reason: null,
      });
      const ref = { host: HOST, binary: 'nova-compute' };
      const disabled = await v21(1, 'PUT', '/v2.1/os-services/disable-log-reason', {
        token: admin,
        body: { ...ref, disabled_reason: 'v2.1 test' },
      });
      expect(disabled.status).toBe(200);
      expect(disabled.body).toEqual({
        service: { ...ref, status: 'disabled', disabled_reason: 'v2.1 test' },
      });
      expect(await myService(1)).toMatchObject({ status: 'disabled', disabled_reason: 'v2.1 test' });
      expect(await myHypervisor(1)).toMatchObject({
        status: 'disabled',
        service: { disabled_reason: 'v2.1 test' },
      });
      const enabled = await v21(1, 'PUT', '/v2.1/os-services/enable', { token: admin, body: ref });
      expect(enabled.body).toEqual({ service: { ...ref, status: 'enabled' } });
      expect(await myService(1)).toMatchObject({ status: 'enabled', disabled_reason: null });

      const missingReason = await v21(1, 'PUT', '/v2.1/os-services/disable-log-reason', {
        token: admin,
        body: ref,
      });
      expect(missingReason.status).toBe(400);
      const scheduler = await v21<{ badRequest: { message: string } }>(
        1,
        'PUT',
        '/v2.1/os-services/disable',
        {
          token: admin,
          body: { host: HOST, binary: 'nova-scheduler' },
        },
      );
      expect(scheduler.status).toBe(400);
      expect(scheduler.body.badRequest.message).toContain('Only nova-compute services can be updated');
      const wrapped = await v21(1, 'PUT', '/v2.1/os-services/disable', {
        token: admin,
        body: { service: ref },
      });
      expect(wrapped.status).toBe(400);
      const nowhere = await v21(1, 'PUT', '/v2.1/os-services/enable', {
        token: admin,
        body: { host: `nowhere-${suffix}`, binary: 'nova-compute' },
      });
      expect(nowhere.status).toBe(404);
      expect((await v21(1, 'PUT', '/v2.1/os-services/force-down', { token: admin, body: ref })).status).toBe(
        404,
      );
      expect((await v21(1, 'GET', '/v2.1/os-services', { token: member })).status).toBe(403);
    });

    it('shows forced_down and forces a service down and up from 2.11', async () => {
      expect((await myService(11)).forced_down).toBe(false);
      const ref = { host: HOST, binary: 'nova-compute' };
      const down = await v21(11, 'PUT', '/v2.1/os-services/force-down', {
        token: admin,
        body: { ...ref, forced_down: true },
      });
      expect(down.body).toEqual({ service: { ...ref, forced_down: true } });
      expect(await myService(11)).toMatchObject({ state: 'down', forced_down: true });
      expect((await myHypervisor(11)).state).toBe('down');
      await v21(11, 'PUT', '/v2.1/os-services/force-down', {
        token: admin,
        body: { ...ref, forced_down: false },
      });
      expect(await myService(11)).toMatchObject({ state: 'up', forced_down: false });
    });

    it('names services by uuid from 2.53 and changes them with PUT /os-services/{uuid}', async () => {
      const service = await myService(53);
      expect(service.id).toMatch(UUID);
      const path = `/v2.1/os-services/${service.id}`;
      const disabled = await v21<{ service: Service }>(53, 'PUT', path, {
        token: admin,
        body: { status: 'disabled', disabled_reason: 'by uuid' },
      });
      expect(disabled.status).toBe(200);
      expect(disabled.body.service).toEqual({
        ...service,
        status: 'disabled',
        disabled_reason: 'by uuid',
        updated_at: expect.stringMatching(NOVA_TIME),
      });
      const down = await v21<{ service: Service }>(53, 'PUT', path, {
        token: admin,
        body: { status: 'enabled', forced_down: true },
      });
      expect(down.body.service).toMatchObject({
        status: 'enabled',
        disabled_reason: null,
        forced_down: true,
        state: 'down',
      });
      const up = await v21<{ service: Service }>(53, 'PUT', path, {
        token: admin,
        body: { forced_down: false },
      });
      expect(up.body.service).toMatchObject({ status: 'enabled', forced_down: false, state: 'up' });

      const bad = async (target: string, body: unknown) =>
        (await v21(53, 'PUT', target, { token: admin, body })).status;
      expect(await bad(path, {})).toBe(400);
      expect(await bad(path, { status: 'enabled', disabled_reason: 'no' })).toBe(400);
      expect(await bad(path, { status: 'paused' })).toBe(400);
      expect(await bad('/v2.1/os-services/disable', { host: HOST, binary: 'nova-compute' })).toBe(400);
      expect(await bad(`/v2.1/os-services/${randomUUID()}`, { status: 'enabled' })).toBe(404);
      expect(await bad(path, { host: HOST, binary: 'nova-compute' })).toBe(400);
      // Before 2.53 the path names an action.
      expect((await v21(52, 'PUT', path, { token: admin, body: { status: 'enabled' } })).status).toBe(404);
      expect((await v21(75, 'GET', '/v2.1/os-services?zone=x', { token: admin })).status).toBe(400);
      expect((await v21(53, 'GET', '/v2.1/os-services?zone=x', { token: admin })).status).toBe(200);
    });
  });

  describe('os-aggregates', () => {
    it('creates, fills, shows, renames, empties and deletes an aggregate at 2.1 with Nova statuses', async () => {
      const name = `v21-agg-${suffix}`;
      const created = await v21<{ aggregate: Aggregate }>(1, 'POST', '/v2.1/os-aggregates', {
        token: admin,
        body: { aggregate: { name, availability_zone: ZONE } },
      });
      expect(created.status).toBe(200);
      expect(created.body.aggregate).toEqual({
        id: expect.any(Number),
        name,
        availability_zone: ZONE,
        created_at: expect.stringMatching(NOVA_TIME),
        updated_at: null,
        deleted: false,
        deleted_at: null,
      });
      const { id } = created.body.aggregate;
      const action = (body: unknown) =>
        v21<{ aggregate: Aggregate }>(1, 'POST', `/v2.1/os-aggregates/${id}/action`, { token: admin, body });

      const added = await action({ add_host: { host: HOST } });
      expect(added.status).toBe(200);
      expect(added.body.aggregate).toMatchObject({
        id,
        hosts: [HOST],
        metadata: { availability_zone: ZONE },
      });
      expect((await action({ add_host: { host: HOST } })).status).toBe(409);
      expect((await action({ add_host: { host: `nowhere-${suffix}` } })).status).toBe(404);
      const tagged = await action({ set_metadata: { metadata: { ssd: 'true' } } });
      expect(tagged.status).toBe(200);
      expect(tagged.body.aggregate.metadata).toEqual({ availability_zone: ZONE, ssd: 'true' });
      expect(
        (await action({ set_metadata: { metadata: { ssd: 'x' } }, add_host: { host: HOST } })).status,
      ).toBe(400);
      expect((await action({ add_hosts: { host: HOST } })).status).toBe(400);

      const renamed = await v21<{ aggregate: Aggregate }>(1, 'PUT', `/v2.1/os-aggregates/${id}`, {
        token: admin,
        body: { aggregate: { name: `${name}-renamed` } },
      });
      expect(renamed.status).toBe(200);
      expect(renamed.body.aggregate).toMatchObject({ name: `${name}-renamed`, hosts: [HOST] });
      const shown = await v21<{ aggregate: Aggregate }>(1, 'GET', `/v2.1/os-aggregates/${id}`, {
        token: admin,
      });
      expect(shown.body.aggregate).toEqual({
        id,
        name: `${name}-renamed`,
        availability_zone: ZONE,
        hosts: [HOST],
        metadata: { availability_zone: ZONE, ssd: 'true' },
        created_at: created.body.aggregate.created_at,
        updated_at: expect.stringMatching(NOVA_TIME),
        deleted: false,
        deleted_at: null,
      });
      const list = await v21<{ aggregates: Aggregate[] }>(1, 'GET', '/v2.1/os-aggregates', { token: admin });
      expect(list.body.aggregates.find((item) => item.id === id)).toEqual(shown.body.aggregate);
      expect((await v21(1, 'DELETE', `/v2.1/os-aggregates/${id}`, { token: admin })).status).toBe(400);

      const removed = await action({ remove_host: { host: HOST } });
      expect(removed.status).toBe(200);
      expect(removed.body.aggregate.hosts).toEqual([]);
      expect((await action({ remove_host: { host: HOST } })).status).toBe(404);
      const deleted = await v21(1, 'DELETE', `/v2.1/os-aggregates/${id}`, { token: admin });
      expect(deleted.status).toBe(200);
      expect(deleted.body).toEqual({});
      expect((await v21(1, 'GET', `/v2.1/os-aggregates/${id}`, { token: admin })).status).toBe(404);
      expect((await v21(1, 'GET', '/v2.1/os-aggregates', { token: member })).status).toBe(403);
      const unknownKey = await v21(1, 'POST', '/v2.1/os-aggregates', {
        token: admin,
        body: { aggregate: { name: `${name}-x`, zone: ZONE } },
      });
      expect(unknownKey.status).toBe(400);
    });

    it('names the uuid from 2.41', async () => {
      const created = await v21<{ aggregate: Aggregate }>(41, 'POST', '/v2.1/os-aggregates', {
        token: admin,
        body: { aggregate: { name: `v21-agg-uuid-${suffix}` } },
      });
      expect(created.body.aggregate.uuid).toMatch(UUID);
      const { id, uuid } = created.body.aggregate;
      const shown = await v21<{ aggregate: Aggregate }>(41, 'GET', `/v2.1/os-aggregates/${id}`, {
        token: admin,
      });
      expect(shown.body.aggregate).toMatchObject({
        id,
        uuid,
        availability_zone: null,
        hosts: [],
        metadata: {},
      });
      const before = await v21<{ aggregate: Aggregate }>(40, 'GET', `/v2.1/os-aggregates/${id}`, {
        token: admin,
      });
      expect(before.body.aggregate).not.toHaveProperty('uuid');
      expect((await v21(41, 'DELETE', `/v2.1/os-aggregates/${id}`, { token: admin })).status).toBe(200);
    });
  });

  describe('os-migrations', () => {
    const instanceUuid = movedServer;
    const source = `v21-src-${suffix}`;
    const dest = `v21-dst-${suffix}`;
    const uuids = movedUuids;

    const list = (minor: number, query: string) =>
      v21<{ migrations: Json[]; migrations_links?: Array<{ rel: string; href: string }> }>(
        minor,
        'GET',
        `/v2.1/os-migrations?instance_uuid=${instanceUuid}${query}`,
        { token: admin },
      );

    it("lists moves newest first in Havana's keys at 2.1, filtered by host, type and status", async () => {
      const all = await list(1, '');
      expect(all.status).toBe(200);
      expect(all.body.migrations).toHaveLength(3);
      expect(all.body.migrations[0]).toEqual({
        id: seededMigrations[2],
        instance_uuid: instanceUuid,
        source_compute: source,
        source_node: source,
        dest_compute: dest,
        dest_node: dest,
        dest_host: '192.0.2.7',
        old_instance_type_id: '1',
        new_instance_type_id: '1',
        status: 'migrating',
        created_at: '2022-01-01T00:00:00.000000',
        updated_at: '2022-02-01T00:00:00.000000',
      });
      expect(all.body.migrations.map((item) => item.id)).toEqual([...seededMigrations].reverse());
      expect((await list(1, `&host=${dest}`)).body.migrations).toHaveLength(3);
      expect((await list(1, `&source_compute=${dest}`)).body.migrations).toHaveLength(0);
      expect((await list(1, '&migration_type=resize')).body.migrations.map((item) => item.id)).toEqual([
        seededMigrations[0],
      ]);
      expect((await list(1, '&status=error')).body.migrations.map((item) => item.id)).toEqual([
        seededMigrations[1],
      ]);
      // Before 2.59 Nova ignores parameters it does not know, changes-since among them.
      expect((await list(1, '&changes-since=2030-01-01T00:00:00&foo=1')).body.migrations).toHaveLength(3);
      expect((await v21(1, 'GET', '/v2.1/os-migrations', { token: member })).status).toBe(403);
    });

    it('names the type from 2.23 and links an in-progress live migration to its server', async () => {
      const all = await list(23, '');
      expect(all.body.migrations.map((item) => item.migration_type)).toEqual([
        'live-migration',
        'migration',
        'resize',
      ]);
      const [live, cold, resize] = all.body.migrations;
      const links = live?.links as Array<{ rel: string; href: string }>;
      expect(links.map((link) => link.rel)).toEqual(['self', 'bookmark']);
      const self = new URL(links[0]?.href ?? '');
      expect(self.pathname).toBe(`/v2.1/servers/${instanceUuid}/migrations/${seededMigrations[2]}`);
      expect(links[1]?.href).toBe(`${self.origin}/servers/${instanceUuid}/migrations/${seededMigrations[2]}`);
      expect(cold).not.toHaveProperty('links');
      expect(resize).not.toHaveProperty('links');
      expect(live).not.toHaveProperty('uuid');
    });

    it('names the uuid, pages by uuid and filters by changes-since from 2.59', async () => {
      const all = await list(59, '');
      expect(all.body.migrations.map((item) => item.uuid)).toEqual(uuids);
      expect(all.body).not.toHaveProperty('migrations_links');
      const first = await list(59, '&limit=2');
      expect(first.body.migrations.map((item) => item.uuid)).toEqual(uuids.slice(0, 2));
      const next = new URL(first.body.migrations_links?.[0]?.href ?? '');
      expect(next.searchParams.get('marker')).toBe(uuids[1]);
      expect(next.searchParams.get('instance_uuid')).toBe(instanceUuid);
      const second = await v21<{ migrations: Json[]; migrations_links?: unknown }>(
        59,
        'GET',
        `${next.pathname}${next.search}`,
        { token: admin },
      );
      expect(second.body.migrations.map((item) => item.uuid)).toEqual(uuids.slice(2));
      expect(second.body).not.toHaveProperty('migrations_links');
      expect(
        (await list(59, '&changes-since=2021-06-01T00:00:00')).body.migrations.map((item) => item.uuid),
      ).toEqual(uuids.slice(0, 1));
      expect((await list(59, `&marker=${randomUUID()}`)).status).toBe(400);
      expect((await list(59, '&foo=1')).status).toBe(400);
      expect((await list(59, '&changes-since=yesterday')).status).toBe(400);
      expect((await list(59, '&changes-before=2021-06-01T00:00:00')).status).toBe(400);
    });

    it('filters by changes-before from 2.66', async () => {
      const before = await list(66, '&changes-before=2021-06-01T00:00:00Z');
      expect(before.body.migrations.map((item) => item.uuid)).toEqual(uuids.slice(1));
      const window = await list(66, '&changes-since=2021-01-01T00:00:00&changes-before=2021-06-01T00:00:00');
      expect(window.body.migrations.map((item) => item.uuid)).toEqual([uuids[1]]);
      expect(
        (await list(66, '&changes-since=2022-01-01T00:00:00&changes-before=2021-01-01T00:00:00')).status,
      ).toBe(400);
    });
  });

  describe('os-simple-tenant-usage', () => {
    const project = usageProject;
    const period = 'start=2001-01-01T00:00:00&end=2001-01-02T00:00:00';

    it("reports every project's usage and one project's in Nova's shape at 2.1", async () => {
      const listed = await v21<{ tenant_usages: Json[] }>(
        1,
        'GET',
        `/v2.1/os-simple-tenant-usage?${period}&detailed=1`,
        { token: admin },
      );
      expect(listed.status).toBe(200);
      const mine = listed.body.tenant_usages.find((usage) => usage.tenant_id === project);
      expect(mine).toMatchObject({
        tenant_id: project,
        start: '2001-01-01T00:00:00.000000',
        stop: '2001-01-02T00:00:00.000000',
        total_hours: 30,
        total_vcpus_usage: 30,
        total_memory_mb_usage: 30 * 512,
        total_local_gb_usage: 30 * (M1_TINY.root_gb + M1_TINY.ephemeral_gb),
      });
      expect(mine?.server_usages).toHaveLength(3);
      const brief = await v21<{ tenant_usages: Json[] }>(1, 'GET', `/v2.1/os-simple-tenant-usage?${period}`, {
        token: admin,
      });
      expect(brief.body.tenant_usages.find((usage) => usage.tenant_id === project)).not.toHaveProperty(
        'server_usages',
      );

      const shown = await v21<{ tenant_usage: Json & { server_usages: Json[] } }>(
        1,
        'GET',
        `/v2.1/os-simple-tenant-usage/${project}?${period}`,
        { token: admin },
      );
      expect(shown.body.tenant_usage.server_usages[0]).toEqual({
        instance_id: seededInstances[0],
        name: 'metered-0',
        tenant_id: project,
        flavor: 'm1.tiny',
        vcpus: 1,
        memory_mb: 512,
        local_gb: M1_TINY.root_gb,
        hours: 10,
        started_at: '2001-01-01T00:00:00.000000',
        ended_at: '2001-01-01T10:00:00.000000',
        state: 'terminated',
        uptime: 36_000,
      });
      const idle = await v21(1, 'GET', `/v2.1/os-simple-tenant-usage/idle-${suffix}?${period}`, {
        token: admin,
      });
      expect(idle.body).toEqual({ tenant_usage: {} });
      const backwards = await v21(
        1,
        'GET',
        `/v2.1/os-simple-tenant-usage?start=2001-01-02T00:00:00&end=2001-01-01T00:00:00`,
        {
          token: admin,
        },
      );
      expect(backwards.status).toBe(400);
    });

    it("lets a member see its own project's usage only", async () => {
      const now = Date.now();
      const own = await v21<{ tenant_usage: { server_usages?: Json[] } }>(
        1,
        'GET',
        `/v2.1/os-simple-tenant-usage/${memberProject}?start=${new Date(now - 3_600_000).toISOString().slice(0, 19)}`,
        { token: member },
      );
      expect(own.status).toBe(200);
      expect(own.body.tenant_usage.server_usages?.map((usage) => usage.instance_id)).toEqual([serverId]);
      expect(
        (await v21(1, 'GET', `/v2.1/os-simple-tenant-usage/${project}?${period}`, { token: member })).status,
      ).toBe(404);
      expect((await v21(1, 'GET', `/v2.1/os-simple-tenant-usage?${period}`, { token: member })).status).toBe(
        403,
      );
    });

    it('pages by server from 2.40 and refuses unknown parameters from 2.75', async () => {
      const first = await v21<{
        tenant_usage: Json & { server_usages: Json[] };
        tenant_usage_links: Array<{ href: string }>;
      }>(40, 'GET', `/v2.1/os-simple-tenant-usage/${project}?${period}&limit=2`, { token: admin });
      expect(first.body.tenant_usage.server_usages.map((usage) => usage.instance_id)).toEqual(
        seededInstances.slice(0, 2),
      );
      expect(first.body.tenant_usage.total_hours).toBe(20);
      const next = new URL(first.body.tenant_usage_links[0]?.href ?? '');
      expect(next.searchParams.get('marker')).toBe(seededInstances[1]);
      const second = await v21<{ tenant_usage: { server_usages: Json[] }; tenant_usage_links?: unknown }>(
        40,
        'GET',
        `${next.pathname}${next.search}`,
        { token: admin },
      );
      expect(second.body.tenant_usage.server_usages.map((usage) => usage.instance_id)).toEqual(
        seededInstances.slice(2),
      );
      expect(second.body).not.toHaveProperty('tenant_usage_links');
      expect(
        (
          await v21(40, 'GET', `/v2.1/os-simple-tenant-usage/${project}?${period}&marker=${randomUUID()}`, {
            token: admin,
          })
        ).status,
      ).toBe(400);
      expect(
        (await v21(40, 'GET', `/v2.1/os-simple-tenant-usage?${period}&foo=1`, { token: admin })).status,
      ).toBe(200);
      expect(
        (await v21(75, 'GET', `/v2.1/os-simple-tenant-usage?${period}&foo=1`, { token: admin })).status,
      ).toBe(400);
    });
  });

  describe('os-hosts', () => {
    it('lists, shows and switches hosts before 2.43, with a flat update body', async () => {
      const list = await v21<{ hosts: Json[] }>(1, 'GET', '/v2.1/os-hosts', { token: admin });
      expect(list.body.hosts).toContainEqual({ host_name: HOST, service: 'compute', zone: ZONE });
      const shown = await v21<{ host: Array<{ resource: Json }> }>(1, 'GET', `/v2.1/os-hosts/${HOST}`, {
        token: admin,
      });
      expect(shown.body.host[0]?.resource).toEqual({
        host: HOST,
        project: '(total)',
        cpu: 6,
        memory_mb: 6144,
        disk_gb: 60,
      });
      const disabled = await v21(1, 'PUT', `/v2.1/os-hosts/${HOST}`, {
        token: admin,
        body: { status: 'Disable' },
      });
      expect(disabled.body).toEqual({ host: HOST, status: 'disabled' });
      expect((await myService(1)).status).toBe('disabled');
      const enabled = await v21(1, 'PUT', `/v2.1/os-hosts/${HOST}`, {
        token: admin,
        body: { status: 'enable' },
      });
      expect(enabled.body).toEqual({ host: HOST, status: 'enabled' });
      expect((await v21(1, 'PUT', `/v2.1/os-hosts/${HOST}`, { token: admin, body: {} })).status).toBe(400);
      expect(
        (
          await v21(1, 'PUT', `/v2.1/os-hosts/${HOST}`, {
            token: admin,
            body: { host: { status: 'enable' } },
          })
        ).status,
      ).toBe(400);
      expect((await v21(1, 'GET', `/v2.1/os-hosts/${HOST}/reboot`, { token: admin })).status).toBe(501);
      expect((await v21(42, 'GET', '/v2.1/os-hosts', { token: admin })).status).toBe(200);
      expect((await v21(43, 'GET', '/v2.1/os-hosts', { token: admin })).status).toBe(404);
      expect((await v21(43, 'GET', `/v2.1/os-hosts/${HOST}`, { token: admin })).status).toBe(404);
    });
  });

  // python3-openstackclient 6.0 as an operator runs it: novaclient at 2.1 for hypervisors, usage and
  // migrations, openstacksdk negotiating for aggregates and compute services.
  describe('the openstack CLI', () => {
    let dir: string;
    let cloud: OpenstackCloud;
    type Row = Record<string, unknown>;
    const cli = (args: string[]) => openstack(cloud, args);
    const cliJson = <T = Row>(args: string[]) => openstackJson<T>(cloud, args);

    beforeAll(async () => {
      dir = await mkdtemp(join(tmpdir(), 'compute-v21-admin-'));
      cloud = await adminCloud(dir);
    });

    afterAll(async () => {
      await rm(dir, { recursive: true, force: true });
    });

    it('lists and shows hypervisors and their statistics', { timeout: 120_000 }, async () => {
      const list = await cliJson<Row[]>(['hypervisor', 'list', '--long']);
      expect(list.find((row) => row['Hypervisor Hostname'] === HOST)).toMatchObject({
        State: 'up',
        'Host IP': null,
        'vCPUs Used': 1,
        vCPUs: 6,
        'Memory MB Used': 512,
        'Memory MB': 6144,
      });
      const shown = await cliJson<Row>(['hypervisor', 'show', HOST]);
      expect(shown).toMatchObject({
        hypervisor_hostname: HOST,
        service_host: HOST,
        state: 'up',
        status: 'enabled',
        vcpus: 6,
        memory_mb: 6144,
        local_gb: 60,
        cpu_info: {},
        aggregates: [],
      });
      const stats = await cliJson<Row>(['hypervisor', 'stats', 'show']);
      expect(stats.count).toEqual(expect.any(Number));
      expect(stats.vcpus).toBeGreaterThanOrEqual(6);
    });

    it('lists compute services and disables and enables one', { timeout: 120_000 }, async () => {
      const mine = async () =>
        (await cliJson<Row[]>(['compute', 'service', 'list', '--host', HOST, '--long'])).find(
          (row) => row.Binary === 'nova-compute',
        );
      expect(await mine()).toMatchObject({ Host: HOST, Zone: ZONE, Status: 'enabled', State: 'up' });
      await cli([
        'compute',
        'service',
        'set',
        '--disable',
        '--disable-reason',
        'cli test',
        HOST,
        'nova-compute',
      ]);
      expect(await mine()).toMatchObject({ Status: 'disabled', 'Disabled Reason': 'cli test' });
      await cli(['compute', 'service', 'set', '--enable', HOST, 'nova-compute']);
      expect(await mine()).toMatchObject({ Status: 'enabled' });
      // --down and --up need 2.11, which openstacksdk negotiates (the stack advertises more).
      await cli(['compute', 'service', 'set', '--down', HOST, 'nova-compute']);
      expect(await mine()).toMatchObject({ State: 'down', 'Forced Down': true });
      await cli(['compute', 'service', 'set', '--up', HOST, 'nova-compute']);
      expect(await mine()).toMatchObject({ State: 'up', 'Forced Down': false });
    });

    it('creates, shows, sets, fills, empties and deletes an aggregate', { timeout: 120_000 }, async () => {
      const name = `v21-cli-agg-${suffix}`;
      expect(await cliJson(['aggregate', 'create', '--zone', ZONE, name])).toMatchObject({
        name,
        availability_zone: ZONE,
      });
      await cli(['aggregate', 'set', '--property', 'ssd=true', name]);
      await cli(['aggregate', 'add', 'host', name, HOST]);
      const shown = await cliJson<Row>(['aggregate', 'show', name]);
      expect(shown).toMatchObject({ name, availability_zone: ZONE, hosts: [HOST] });
      expect(JSON.stringify(shown.properties)).toContain('ssd');
      expect((await cliJson<Row[]>(['aggregate', 'list'])).find((row) => row.Name === name)).toMatchObject({
        'Availability Zone': ZONE,
      });
      expect(await cliJson<Row>(['hypervisor', 'show', HOST])).toMatchObject({ aggregates: [name] });
      await cli(['aggregate', 'remove', 'host', name, HOST]);
      expect(await cliJson<Row>(['aggregate', 'show', name])).toMatchObject({ hosts: [] });
      await cli(['aggregate', 'delete', name]);
      expect((await cliJson<Row[]>(['aggregate', 'list'])).map((row) => row.Name)).not.toContain(name);
    });

    it('lists usage of every project and shows one, and lists migrations', { timeout: 120_000 }, async () => {
      const window = ['--start', '2001-01-01', '--end', '2001-01-02'];
      const usage = await cliJson<Row[]>(['usage', 'list', ...window]);
      const metered = usage.find((row) => row.Project === usageProject);
      expect(metered).toMatchObject({ 'CPU Hours': 30 });
      expect(metered?.Servers).toHaveLength(3);
      const shown = await cliJson<Row>(['usage', 'show', '--project', memberProject]);
      expect(shown.Project).toBe(memberProject);
      expect((shown.Servers as Row[]).map((server) => server.instance_id)).toEqual([serverId]);
      const moves = await cliJson<Row[]>(['server', 'migration', 'list', '--host', `v21-dst-${suffix}`]);
      expect(moves.map((row) => row['Server UUID'])).toEqual([movedServer, movedServer, movedServer]);
      expect(moves[0]).toMatchObject({ Status: 'migrating', 'Old Flavor': '1', 'New Flavor': '1' });
    });
  });

  // Last: they empty the host, then take it away.
  describe('an emptied host', () => {
    it('cannot lose its compute service while it has servers', async () => {
      const service = await myService(53);
      const busy = await v21(53, 'DELETE', `/v2.1/os-services/${service.id}`, { token: admin });
      expect(busy.status).toBe(409);
      await call('DELETE', `/v3/servers/${serverId}`, { token: member });
      await waitForServer(member, serverId ?? '', ['DELETED']);
      serverId = undefined;
    });

    it('answers servers: [] for a hypervisor without servers only from 2.75', async () => {
      const { id } = await myHypervisor(53);
      const path = `/v2.1/os-hypervisors/${id}?with_servers=true`;
      const before = await v21<{ hypervisor: Hypervisor }>(53, 'GET', path, { token: admin });
      expect(before.body.hypervisor).not.toHaveProperty('servers');
      const from = await v21<{ hypervisor: Hypervisor }>(75, 'GET', path, { token: admin });
      expect(from.body.hypervisor.servers).toEqual([]);
      const listed = await v21<{ hypervisors: Hypervisor[] }>(
        75,
        'GET',
        `/v2.1/os-hypervisors?hypervisor_hostname_pattern=${before.body.hypervisor.hypervisor_hostname}&with_servers=true`,
        { token: admin },
      );
      expect(listed.body.hypervisors.map((hypervisor) => hypervisor.servers)).toEqual([[]]);
    });

    it('deletes the service with its hypervisor and aggregate memberships', async () => {
      const service = await myService(53);
      const path = `/v2.1/os-services/${service.id}`;
      const aggregate = await v21<{ aggregate: Aggregate }>(1, 'POST', '/v2.1/os-aggregates', {
        token: admin,
        body: { aggregate: { name: `v21-agg-delete-${suffix}` } },
      });
      const aggregatePath = `/v2.1/os-aggregates/${aggregate.body.aggregate.id}`;
      await v21(1, 'POST', `${aggregatePath}/action`, { token: admin, body: { add_host: { host: HOST } } });
      // Stopped first, or the agent would register its host again at its next report.
      await stopAgent?.();
      stopAgent = undefined;

      expect((await v21(53, 'DELETE', '/v2.1/os-services/12', { token: admin })).status).toBe(400);
      expect((await v21(1, 'DELETE', `/v2.1/os-services/${service.id}`, { token: admin })).status).toBe(400);
      expect((await v21(1, 'DELETE', '/v2.1/os-services/999999999', { token: admin })).status).toBe(404);
      const deleted = await v21(53, 'DELETE', path, { token: admin });
      expect(deleted.status).toBe(204);
      expect((await v21(53, 'DELETE', path, { token: admin })).status).toBe(404);
      const services = await v21<{ services: Service[] }>(1, 'GET', `/v2.1/os-services?host=${HOST}`, {
        token: admin,
      });
      expect(services.body.services).toEqual([]);
      expect(
        (await v21(53, 'GET', `/v2.1/os-hypervisors?hypervisor_hostname_pattern=${HOST}`, { token: admin }))
          .status,
      ).toBe(404);
      const emptied = await v21<{ aggregate: Aggregate }>(1, 'GET', aggregatePath, { token: admin });
      expect(emptied.body.aggregate.hosts).toEqual([]);
      expect((await v21(1, 'DELETE', aggregatePath, { token: admin })).status).toBe(200);
    });
  });
});
