import { randomBytes } from 'node:crypto';
import { and, eq, inArray, sql } from 'drizzle-orm';
import { type Connection, createConnection } from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FilterContext } from '../../functions/scheduler/filters/filter.ts';
import { FILTERS } from '../../functions/scheduler/filters/index.ts';
import { emptyFacts } from '../../functions/scheduler/host-facts.ts';
import { selectHosts } from '../../functions/scheduler/host-query.ts';
import { refreshHostPlacementFacts } from '../../functions/scheduler/placement-facts.ts';
import { BUILTIN_DEFAULT_POLICY, DEFAULT_SETTINGS } from '../../functions/scheduler/policies.ts';
import type { HostState, RequestSpec } from '../../functions/scheduler/request-spec.ts';
import { selectDestinations } from '../../functions/scheduler/select-destinations.ts';
import { startPsdbBridge } from '../../infra/local/psdb-bridge.ts';
import { createDatabase, type PrimaryDb } from '../../schema/db.ts';
import { applyMigrations } from '../../schema/migrate.ts';
import {
  aggregateHosts,
  aggregateMetadata,
  aggregates,
  computeNodes,
  dedicatedHosts,
  hostCapabilities,
  services,
} from '../../schema/tables/index.ts';
import { stackInfo } from '../helpers/api.ts';

// A scratch database of its own on the stack's MariaDB (same migrations, real driver through a bridge),
// so hosts can be made in every shape without any test's boots landing on them.
const SCRATCH = `scheduler_sql_${process.pid}`;
const NOW = new Date();
const CONTEXT: FilterContext = {
  now: NOW,
  serviceDownTimeSeconds: 60,
  settings: { ...DEFAULT_SETTINGS, max_instances_per_host: 5 },
};

interface HostShape {
  name: string;
  zone?: string;
  disabled?: boolean;
  forcedDown?: boolean;
  lastSeenSecondsAgo?: number | null;
  memoryMb?: number;
  memoryUsed?: number;
  vcpusUsed?: number;
  diskUsed?: number;
  runningVms?: number;
  aggregateRamRatio?: number;
  aggregateCpuRatio?: number;
  aggregateDiskRatio?: number;
  dedicatedTo?: string;
  filterTenantIds?: string;
  /** The commands its agent registered; unset: an agent from before moves. */
  commands?: string[];
}

// Each host sits near one filter's boundary, on one side or the other.
const SHAPES: HostShape[] = [
  { name: 'plain' },
  { name: 'other-zone', zone: 'az-b' },
  { name: 'disabled', disabled: true },
  { name: 'forced-down', forcedDown: true },
  { name: 'silent', lastSeenSecondsAgo: 61 },
  { name: 'never-seen', lastSeenSecondsAgo: null },
  { name: 'ram-just-fits', memoryMb: 4096, memoryUsed: 4096 * 1.5 - 2048 },
  { name: 'ram-short', memoryMb: 4096, memoryUsed: 4096 * 1.5 - 2047 },
  { name: 'ram-aggregate-ratio', memoryMb: 4096, memoryUsed: 2048, aggregateRamRatio: 1 },
  { name: 'cores-short', vcpusUsed: 8 * 16 - 1 },
  { name: 'cores-aggregate-ratio', vcpusUsed: 8, aggregateCpuRatio: 1.1 },
  { name: 'disk-short', diskUsed: 90 },
  { name: 'disk-aggregate-ratio', aggregateDiskRatio: 0.5, diskUsed: 35 },
  { name: 'busy', runningVms: 5 },
  { name: 'nearly-busy', runningVms: 4 },
  { name: 'dedicated-p1', dedicatedTo: 'p1' },
  { name: 'dedicated-p2', dedicatedTo: 'p2' },
  { name: 'isolated-p1-p3', filterTenantIds: 'p1,p3' },
  { name: 'isolated-p2', filterTenantIds: 'p2' },
  { name: 'moves-agent', commands: ['spawn', 'terminate', 'prep_resize', 'finish_resize'] },
  { name: 'half-moves-agent', commands: ['spawn', 'terminate', 'prep_resize'] },
];

const SPECS: Array<[string, Partial<RequestSpec>]> = [
  ['small, any zone', {}],
  ['zone az-b', { availability_zone: 'az-b' }],
  ['ignoring plain and busy', { ignore_hosts: ['plain', 'busy'] }],
  ['large', { memory_mb: 2048, vcpus: 2, disk_gb: 20 }],
  ['project p2', { project_id: 'p2' }],
  ['dedicated flavor of p1', { flavor_extra_specs: { dedicated: 'true' } }],
  ['a cold move destination', { required_commands: ['prep_resize', 'finish_resize'] }],
  ['legacy commands only', { required_commands: ['spawn', 'terminate'] }],
];

function requestSpec(overrides: Partial<RequestSpec>): RequestSpec {
  return {
    instance_uuid: '11111111-1111-4111-8111-111111111111',
    project_id: 'p1',
    memory_mb: 1024,
    vcpus: 1,
    disk_gb: 10,
    flavor_extra_specs: {},
    image_properties: {},
    availability_zone: null,
    scheduler_hints: {},
    ignore_hosts: [],
    num_instances: 1,
    ...overrides,
  };
}

async function insertHost(db: PrimaryDb, shape: HostShape): Promise<void> {
  const seenAgo = shape.lastSeenSecondsAgo === undefined ? 5 : shape.lastSeenSecondsAgo;
  const [service] = await db
    .insert(services)
    .values({
      host: shape.name,
      binary: 'nova-compute',
      topic: 'compute',
      availability_zone: shape.zone ?? 'az-a',
      disabled: shape.disabled ?? false,
      forced_down: shape.forcedDown ?? false,
      last_seen_at: seenAgo === null ? null : new Date(NOW.getTime() - seenAgo * 1000),
      supported_objects: {},
      supported_commands: shape.commands ?? null,
      created_at: NOW,
    })
    .$returningId();
  await db.insert(computeNodes).values({
    service_id: service?.id ?? 0,
    host: shape.name,
    hypervisor_hostname: shape.name,
    hypervisor_type: 'fake',
    hypervisor_version: 1,
    availability_zone: shape.zone ?? 'az-a',
    vcpus: 8,
    memory_mb: shape.memoryMb ?? 16384,
    local_gb: 100,
    vcpus_used: shape.vcpusUsed ?? 0,
    memory_mb_used: shape.memoryUsed ?? 0,
    local_gb_used: shape.diskUsed ?? 0,
    running_vms: shape.runningVms ?? 0,
    aggregate_cpu_allocation_ratio: shape.aggregateCpuRatio ?? null,
    aggregate_ram_allocation_ratio: shape.aggregateRamRatio ?? null,
    aggregate_disk_allocation_ratio: shape.aggregateDiskRatio ?? null,
    dedicated_to: shape.dedicatedTo ?? null,
    filter_tenant_ids: shape.filterTenantIds ?? null,
    metrics: [],
    created_at: NOW,
  });
}

describe('the scheduler in SQL and in memory', () => {
  let connection: Connection;
  let stopBridge: () => Promise<void>;
  let db: PrimaryDb;
  let hosts: HostState[];

  beforeAll(async () => {
    connection = await createConnection({
      host: '127.0.0.1',
      port: stackInfo().database.primaryPort,
      user: 'root',
      timezone: 'Z',
    });
    await connection.query(`CREATE DATABASE \`${SCRATCH}\``);
    await connection.query(`USE \`${SCRATCH}\``);
    await applyMigrations(connection);
    const bridge = await startPsdbBridge({
      mysqlPort: stackInfo().database.primaryPort,
      database: SCRATCH,
      username: 'filters',
      password: randomBytes(12).toString('hex'),
    });
    stopBridge = bridge.stop;
    db = createDatabase({ primary: bridge.url, replicas: [] }).$primary;
    for (const shape of SHAPES) await insertHost(db, shape);
    hosts = await selectHosts(db);
  });

  afterAll(async () => {
    await stopBridge?.();
    await connection?.query(`DROP DATABASE IF EXISTS \`${SCRATCH}\``);
    await connection?.end();
  });

  const sqlFilters = FILTERS.filter((filter) => filter.sql !== undefined);

  it('has every SQL-answerable filter disagree with none of its in-memory answers', async () => {
    expect(sqlFilters.map((filter) => filter.name)).toEqual([
      'ComputeFilter',
      'AvailabilityZoneFilter',
      'RetryFilter',
      'AgentCommandsFilter',
      'RamFilter',
      'CoreFilter',
      'DiskFilter',
      'DedicatedHostsFilter',
      'AggregateMultiTenancyIsolation',
      'NumInstancesFilter',
    ]);
    let rejectedSomewhere = 0;
    for (const filter of sqlFilters) {
      for (const [label, overrides] of SPECS) {
        const spec = requestSpec(overrides);
        const inMemory = hosts
          .filter((host) => filter.passes(host, spec, CONTEXT, emptyFacts()) === null)
          .map((host) => host.host)
          .sort();
        const inSql = (await selectHosts(db, { where: filter.sql?.(spec, CONTEXT) }))
          .map((host) => host.host)
          .sort();
        expect(inSql, `${filter.name}, ${label}`).toEqual(inMemory);
        if (inMemory.length < hosts.length) rejectedSomewhere++;
      }
    }
    // The shapes do reach every filter's boundary: each spec × filter pair that rejects nothing
    // would make the comparison above empty.
    expect(rejectedSomewhere).toBeGreaterThanOrEqual(sqlFilters.length);
  });

  it('finds the one host an in-memory filter keeps, however far down the candidate order it is', async () => {
    const names = Array.from({ length: 200 }, (_, i) => `deep-${i}`);
    for (const [i, name] of names.entries())
      await insertHost(db, { name, zone: 'az-deep', memoryUsed: 8000 - i * 10 });
    // The host with the least free RAM, ranked last by the default policy, is the only TILE-Gx one.
    await db
      .insert(hostCapabilities)
      .values({ host: 'deep-0', capabilities: { architecture: 'tilegx' }, created_at: NOW });
    const decision = await selectDestinations(
      db,
      requestSpec({ availability_zone: 'az-deep', image_properties: { architecture: 'tilegx' } }),
      { ...CONTEXT, limit: 1, policy: { policy: BUILTIN_DEFAULT_POLICY, chosenBy: 'default' } },
    );
    expect(decision.destinations.map((destination) => destination.host.host)).toEqual(['deep-0']);
    expect(decision.rejections).toHaveLength(199);
  });

  it('keeps the placement facts of a host in step with its aggregates and dedications', async () => {
    const names = ['facts-a', 'facts-b'];
    for (const name of names) await insertHost(db, { name, zone: 'az-service' });
    const aggregate = async (name: string, metadata: Record<string, string>, members: string[]) => {
      const [row] = await db
        .insert(aggregates)
        .values({ uuid: crypto.randomUUID(), name, created_at: NOW })
        .$returningId();
      const id = row?.id ?? 0;
      for (const [key, value] of Object.entries(metadata))
        await db.insert(aggregateMetadata).values({ aggregate_id: id, key, value, created_at: NOW });
      for (const host of members)
        await db.insert(aggregateHosts).values({ aggregate_id: id, host, created_at: NOW });
      return id;
    };
    await aggregate('zoned', { availability_zone: 'az-agg', ram_allocation_ratio: '1.0' }, names);
    await aggregate(
      'isolating',
      { ram_allocation_ratio: '0.8', cpu_allocation_ratio: '2', filter_tenant_id: 'p1, p3' },
      ['facts-a'],
    );
    const dedicated = await aggregate('dedicated', {}, ['facts-b']);
    await db.insert(dedicatedHosts).values({ project_id: 'p9', aggregate_id: dedicated, created_at: NOW });

    const facts = async () =>
      Object.fromEntries(
        (
          await db
            .select({
              host: computeNodes.host,
              zone: computeNodes.availability_zone,
              ram: computeNodes.aggregate_ram_allocation_ratio,
              cpu: computeNodes.aggregate_cpu_allocation_ratio,
              disk: computeNodes.aggregate_disk_allocation_ratio,
              dedicated: computeNodes.dedicated_to,
              tenants: computeNodes.filter_tenant_ids,
              freeRam: computeNodes.free_ram_mb,
              generation: computeNodes.generation,
            })
            .from(computeNodes)
            .where(inArray(computeNodes.host, names))
        ).map(({ host, ...rest }) => [host, rest]),
      );
    await refreshHostPlacementFacts(db, names);
    expect(await facts()).toEqual({
      'facts-a': {
        zone: 'az-agg',
        ram: 0.8,
        cpu: 2,
        disk: null,
        dedicated: null,
        tenants: 'p1,p3',
        freeRam: 16384 * 0.8,
        generation: 1,
      },
      'facts-b': {
        zone: 'az-agg',
        ram: 1,
        cpu: null,
        disk: null,
        dedicated: 'p9',
        tenants: null,
        freeRam: 16384,
        generation: 1,
      },
    });

    // Leaving the aggregates takes their facts away: the zone is the service's again.
    await db
      .update(aggregateHosts)
      .set({ deleted: sql`${aggregateHosts.id}`, deleted_at: NOW })
      .where(and(inArray(aggregateHosts.host, names), eq(aggregateHosts.deleted, 0)));
    await refreshHostPlacementFacts(db, names);
    const after = await facts();
    expect(after['facts-a']).toMatchObject({ zone: 'az-service', ram: null, cpu: null, tenants: null });
    expect(after['facts-b']).toMatchObject({ zone: 'az-service', dedicated: null, freeRam: 16384 * 1.5 });
    expect(after['facts-a']?.generation).toBe(2);
  });
});
