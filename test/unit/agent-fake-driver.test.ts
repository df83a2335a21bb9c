import { randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseAgentConfig } from '../../agent/config.ts';
import type { LiveMigrationControl, LiveMigrationMonitor } from '../../agent/drivers/driver.ts';
import {
  InstanceExists,
  InstanceNotFound,
  MigrationCancelled,
  POWER_STATE,
  VirtDriverError,
} from '../../agent/drivers/driver.ts';
import type { FakeDriverOptions } from '../../agent/drivers/fake.ts';
import { FAKE_STATE_FILE, FakeDriver, FakeInjectedFailure } from '../../agent/drivers/fake.ts';
import { createVirtDriver } from '../../agent/drivers/index.ts';
import type { InstanceData } from '../../schema/objects/instance.ts';
import type { Vif } from '../../schema/objects/network-info.ts';

let stateDir: string;

beforeEach(async () => {
  stateDir = await mkdtemp(join(tmpdir(), 'agent-fake-driver-'));
});
afterEach(async () => {
  await rm(stateDir, { recursive: true, force: true });
});

function driver(overrides: Partial<FakeDriverOptions> = {}): FakeDriver {
  return new FakeDriver({
    stateDir,
    hypervisorHostname: 'compute-1',
    vcpus: 16,
    memoryMb: 32768,
    localGb: 500,
    ...overrides,
  });
}

function instance(overrides: Partial<InstanceData> = {}): InstanceData {
  return {
    uuid: randomUUID(),
    name: 'vm',
    project_id: 'project-a',
    image_ref: 'image-1',
    memory_mb: 512,
    vcpus: 2,
    root_gb: 1,
    host: 'compute-1',
    node: 'compute-1',
    ...overrides,
  };
}

const uuids = async (fake: FakeDriver) => (await fake.listInstances()).map((listed) => listed.uuid).sort();

describe('FakeDriver', () => {
  it('keeps its instances across a restart on the same state directory', async () => {
    const first = instance({ name: 'first' });
    const second = instance({ name: 'second' });
    const before = driver();
    const spawned = await before.spawn(first);
    await before.spawn(second);
    expect(spawned).toMatchObject({ uuid: first.uuid, name: 'first', power_state: POWER_STATE.RUNNING });

    const afterRestart = driver();
    expect(await uuids(afterRestart)).toEqual([first.uuid, second.uuid].sort());
    await afterRestart.destroy(first);

    expect(await uuids(driver())).toEqual([second.uuid]);
  });

  it('loses no instance when many operations overlap', async () => {
    const fake = driver();
    const many = Array.from({ length: 12 }, () => instance());
    await Promise.all(many.map((each) => fake.spawn(each)));
    await Promise.all(many.slice(0, 4).map((each) => fake.destroy(each)));

    expect(await uuids(driver())).toEqual(
      many
        .slice(4)
        .map((each) => each.uuid)
        .sort(),
    );
  });

  it('treats destroying an unknown instance as done and spawning a present one as already done', async () => {
    const fake = driver();
    const kept = instance();
    await fake.spawn(kept);
    await fake.spawn(kept);
    await expect(fake.destroy(instance())).resolves.toBeUndefined();
    expect(await uuids(fake)).toEqual([kept.uuid]);
  });

  it('fails the operations named for failure injection with a typed driver error', async () => {
    const fake = driver({ failureProbability: { spawn: 1 } });
    const failing = instance();
    const error = await fake.spawn(failing).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(FakeInjectedFailure);
    expect(error).toBeInstanceOf(VirtDriverError);
    expect(error).toMatchObject({ name: 'FakeInjectedFailure' });
    expect(await fake.listInstances()).toEqual([]);
    await expect(fake.destroy(failing)).resolves.toBeUndefined();
  });

  it('fails with the configured probability', async () => {
    const draws = [0.2, 0.7];
    const fake = driver({ failureProbability: { terminate: 0.5 }, random: () => draws.shift() ?? 0 });
    const target = instance();
    await fake.spawn(target);
    await expect(fake.destroy(target)).rejects.toThrow(FakeInjectedFailure);
    expect(await uuids(fake)).toEqual([target.uuid]);
    await expect(fake.destroy(target)).resolves.toBeUndefined();
    expect(await fake.listInstances()).toEqual([]);
  });

  it('still completes operations that have a latency configured', async () => {
    const fake = driver({ latencyMs: { spawn: 20, terminate: 20 } });
    const slow = instance();
    await fake.spawn(slow);
    expect(await uuids(fake)).toEqual([slow.uuid]);
    await fake.destroy(slow);
    expect(await fake.listInstances()).toEqual([]);
  });

  it('reports CPU use from the running instances and the host size it was given', async () => {
    const fake = driver();
    await fake.spawn(instance({ vcpus: 4 }));
    const metrics = await fake.metrics();
    expect(metrics.find((metric) => metric.name === 'cpu.percent')).toMatchObject({
      value: 25,
      source: 'fake',
    });
    expect(metrics.find((metric) => metric.name === 'cpu.frequency')?.value).toBeGreaterThan(0);
    expect(fake.hostResources()).toEqual({
      hypervisor_hostname: 'compute-1',
      hypervisor_type: 'fake',
      hypervisor_version: 1,
      vcpus: 16,
      memory_mb: 32768,
      local_gb: 500,
    });
  });

  it('keeps its image cache across a restart, telling a new image from one already cached', async () => {
    const image = randomUUID();
    const before = driver();
    await expect(before.cacheImage(image)).resolves.toBe(true);
    await expect(before.cacheImage(image)).resolves.toBe(false);
    await expect(driver().cacheImage(image)).resolves.toBe(false);
  });

  it('reads a state file from before the image cache as an empty cache, its instances kept', async () => {
    const kept = instance();
    await driver().spawn(kept);
    await writeFile(
      join(stateDir, FAKE_STATE_FILE),
      JSON.stringify({ instances: await driver().listInstances() }),
    );
    const restarted = driver();
    expect(await uuids(restarted)).toEqual([kept.uuid]);
    await expect(restarted.cacheImage(randomUUID())).resolves.toBe(true);
  });

  it('caches no image whose caching fails', async () => {
    const image = randomUUID();
    await expect(driver({ failureProbability: { cache_images: 1 } }).cacheImage(image)).rejects.toThrow(
      `Injected cache_images failure for image ${image}`,
    );
    await expect(driver().cacheImage(image)).resolves.toBe(true);
  });

  it('refuses to start from a corrupt state file instead of forgetting its instances', async () => {
    await writeFile(join(stateDir, FAKE_STATE_FILE), JSON.stringify({ instances: [{ uuid: 7 }] }));
    await expect(driver().listInstances()).rejects.toThrow(FAKE_STATE_FILE);
  });
});

/** A monitor as the agent keeps one: records every progress report; `control` is what an admin asked. */
function monitor(control: () => LiveMigrationControl | null = () => null) {
  const reported: number[] = [];
  const watching: LiveMigrationMonitor = { progress: (percent) => reported.push(percent), control };
  return { reported, watching };
}

const DESTINATION = { destHost: 'compute-2', blockMigration: false };

describe('FakeDriver migration operations', () => {
  it('powers a cold-migrating guest off on the source and keeps it there, however often it is asked', async () => {
    const source = driver();
    const moving = instance();
    await source.spawn(moving);

    const first = await source.migrateDiskAndPowerOff(moving);
    const again = await driver().migrateDiskAndPowerOff(moving);
    expect(first).toMatchObject({ uuid: moving.uuid, power_state: POWER_STATE.SHUTDOWN });
    expect(again).toEqual(first);
    expect(await driver().listInstances()).toEqual([first]);
    await expect(source.migrateDiskAndPowerOff(instance())).rejects.toThrow(InstanceNotFound);
  });

  it("creates the guest on the destination with the instance's new flavor, on or off as asked", async () => {
    const destination = driver();
    const resized = instance({ vcpus: 4, memory_mb: 2048, root_gb: 20 });
    const finished = await destination.finishResize(resized, true);
    expect(finished).toEqual({
      uuid: resized.uuid,
      name: resized.name,
      vcpus: 4,
      memory_mb: 2048,
      root_gb: 20,
      power_state: POWER_STATE.RUNNING,
    });
    // Redelivered after a crash: the same guest, the same answer.
    expect(await driver().finishResize(resized, true)).toEqual(finished);
    expect(await uuids(destination)).toEqual([resized.uuid]);

    const stopped = instance();
    expect(await destination.finishResize(stopped, false)).toMatchObject({
      power_state: POWER_STATE.SHUTDOWN,
    });
  });

  it('brings the powered-off source guest back with the old flavor on a revert', async () => {
    const source = driver();
    const original = instance({ vcpus: 2, memory_mb: 512 });
    await source.spawn(original);
    await source.migrateDiskAndPowerOff(original);

    const reverted = await source.finishRevertResize(original, true);
    expect(reverted).toMatchObject({ vcpus: 2, memory_mb: 512, power_state: POWER_STATE.RUNNING });
    expect(await source.finishRevertResize(original, true)).toEqual(reverted);
    await expect(source.finishRevertResize(instance(), true)).rejects.toThrow(InstanceNotFound);
    const keptOff = instance();
    await source.spawn(keptOff);
    await source.migrateDiskAndPowerOff(keptOff);
    expect(await source.finishRevertResize(keptOff, false)).toMatchObject({
      power_state: POWER_STATE.SHUTDOWN,
    });
  });

  it('changes nothing on prep_resize, and fails it when failure is injected by name', async () => {
    const fake = driver({ failureProbability: { finish_resize: 1 } });
    const moving = instance();
    await expect(fake.prepResize(moving)).resolves.toBeUndefined();
    expect(await fake.listInstances()).toEqual([]);
    await expect(fake.finishResize(moving, true)).rejects.toThrow(FakeInjectedFailure);
    expect(await fake.listInstances()).toEqual([]);
  });

  it('receives a live-migrating guest paused, then runs it after the migration', async () => {
    const destination = driver();
    const incoming = instance();
    const paused = await destination.preLiveMigration(incoming, true);
    expect(paused).toMatchObject({ uuid: incoming.uuid, power_state: POWER_STATE.PAUSED });
    expect(await driver().preLiveMigration(incoming, true)).toEqual(paused);

    const running = await destination.postLiveMigrationAtDestination(incoming);
    expect(running).toMatchObject({ uuid: incoming.uuid, power_state: POWER_STATE.RUNNING });
    expect(await destination.postLiveMigrationAtDestination(incoming)).toEqual(running);
    await expect(destination.postLiveMigrationAtDestination(instance())).rejects.toThrow(InstanceNotFound);
  });

  it('refuses to receive a live migration onto the host that runs the guest', async () => {
    const fake = driver();
    const running = instance();
    await fake.spawn(running);
    await expect(fake.preLiveMigration(running, false)).rejects.toThrow(InstanceExists);
    expect(await fake.listInstances()).toMatchObject([{ power_state: POWER_STATE.RUNNING }]);
  });

  it('copies a live migration in steps, reporting progress up to 100, and leaves the source guest running', async () => {
    const source = driver({ latencyMs: { live_migration: 300 } });
    const moving = instance();
    await source.spawn(moving);
    const { reported, watching } = monitor();

    await source.liveMigration(moving, DESTINATION, watching);
    expect(reported[0]).toBe(0);
    expect(reported.at(-1)).toBe(100);
    expect(reported.length).toBeGreaterThan(2);
    expect(reported).toEqual([...reported].sort((a, b) => a - b));
    expect(await source.listInstances()).toMatchObject([
      { uuid: moving.uuid, power_state: POWER_STATE.RUNNING },
    ]);
  });

  it('stops a live migration an admin cancelled, with MigrationCancelled, the guest still running', async () => {
    const source = driver({ latencyMs: { live_migration: 60_000 } });
    const moving = instance();
    await source.spawn(moving);
    let control: LiveMigrationControl | null = null;
    const { reported, watching } = monitor(() => control);
    const migrating = source.liveMigration(moving, DESTINATION, watching);
    await expect.poll(() => reported.length).toBeGreaterThan(0);
    control = 'cancel';

    const error = await migrating.catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(MigrationCancelled);
    expect(error).toMatchObject({ name: 'MigrationCancelled' });
    expect(reported).not.toContain(100);
    expect(await source.listInstances()).toMatchObject([{ power_state: POWER_STATE.RUNNING }]);
  });

  it('cancels even a copy too quick to notice, when the cancel was heard before it started', async () => {
    const source = driver();
    const moving = instance();
    await source.spawn(moving);
    const { reported, watching } = monitor(() => 'cancel');
    await expect(source.liveMigration(moving, DESTINATION, watching)).rejects.toThrow(MigrationCancelled);
    expect(reported).toEqual([]);
  });

  it('completes a live migration at once when an admin forces it', async () => {
    // Without force_complete this copy would outlast the test's timeout by far.
    const source = driver({ latencyMs: { live_migration: 600_000 } });
    const moving = instance();
    await source.spawn(moving);
    let control: LiveMigrationControl | null = null;
    const { reported, watching } = monitor(() => control);
    const migrating = source.liveMigration(moving, DESTINATION, watching);
    await expect.poll(() => reported.length).toBeGreaterThan(0);
    control = 'force_complete';

    await expect(migrating).resolves.toBeUndefined();
    expect(reported.at(-1)).toBe(100);
  });

  it('fails a live migration of a guest it does not have, or one failure is injected into', async () => {
    const source = driver({ failureProbability: { live_migration: 1 } });
    const { reported, watching } = monitor();
    await expect(source.liveMigration(instance(), DESTINATION, watching)).rejects.toThrow(InstanceNotFound);
    expect(reported).toEqual([]);

    const moving = instance();
    await source.spawn(moving);
    await expect(source.liveMigration(moving, DESTINATION, watching)).rejects.toThrow(FakeInjectedFailure);
    expect(reported).not.toContain(100);
    expect(await uuids(source)).toEqual([moving.uuid]);
  });
});

describe('createVirtDriver', () => {
  it("builds the fake driver AGENT_DRIVER names with the host's name, sizes, state directory and knobs", async () => {
    const built = createVirtDriver(
      parseAgentConfig({
        AGENT_API_URL: 'http://127.0.0.1:8787',
        AGENT_HOST: 'compute-7',
        AGENT_CREDENTIAL: 's3cret',
        AGENT_STATE_DIR: stateDir,
        AGENT_DRIVER: 'fake',
        AGENT_VCPUS: '4',
        AGENT_MEMORY_MB: '2048',
        AGENT_LOCAL_GB: '20',
        AGENT_FAKE_LATENCY_MS: 'spawn=30',
        AGENT_FAKE_FAIL: 'terminate',
      }),
    );
    expect(built).toBeInstanceOf(FakeDriver);
    expect(built.hostResources()).toEqual({
      hypervisor_hostname: 'compute-7',
      hypervisor_type: 'fake',
      hypervisor_version: 1,
      vcpus: 4,
      memory_mb: 2048,
      local_gb: 20,
    });

    const guest = instance();
    const started = performance.now();
    await built.spawn(guest);
    // A timer may fire a millisecond before its time.
    expect(performance.now() - started).toBeGreaterThanOrEqual(29);
    expect(await uuids(driver())).toEqual([guest.uuid]);
    await expect(built.destroy(guest)).rejects.toThrow(FakeInjectedFailure);
  });
});

/** A VIF of network info: one fixed address on a /24. */
function vif(id: string, mac: string, address: string): Vif {
  return {
    id,
    address: mac,
    devname: `tap${id.slice(0, 11)}`,
    type: 'bridge',
    active: false,
    preserve_on_delete: false,
    network: {
      id: 'net-1',
      label: 'private',
      bridge: null,
      vlan: null,
      mtu: 1500,
      subnets: [
        {
          cidr: '10.0.0.0/24',
          version: 4,
          gateway: '10.0.0.1',
          dns: [],
          routes: [],
          ips: [{ address, type: 'fixed', version: 4, floating_ips: [] }],
        },
      ],
    },
  };
}

/** The guests' VIFs and history as the state file holds them. */
async function storedGuests(): Promise<
  Array<{ uuid: string; vifs: unknown[]; vif_history: Array<Array<{ address: string; ips: string[] }>> }>
> {
  return JSON.parse(await readFile(join(stateDir, FAKE_STATE_FILE), 'utf8')).instances;
}

describe('FakeDriver VIFs', () => {
  const first = vif('port-aaaaaaaaaaaa', 'fa:16:3e:00:00:01', '10.0.0.5');
  const second = vif('port-bbbbbbbbbbbb', 'fa:16:3e:00:00:02', '10.0.0.6');

  it('plugs the VIFs the network info names at spawn, and records them in its state file', async () => {
    const booted = instance({ network_info: [first] });
    await driver().spawn(booted);

    const [stored] = await storedGuests();
    expect(stored?.vifs).toEqual([{ id: first.id, address: first.address, ips: ['10.0.0.5'] }]);
    expect(stored?.vif_history).toEqual([[{ address: first.address, ips: ['10.0.0.5'] }]]);
  });

  it('boots a guest with no VIFs from an instance without network info (sent as Instance 1.3)', async () => {
    await driver().spawn(instance());
    const [stored] = await storedGuests();
    expect(stored?.vifs).toEqual([]);
    expect(stored?.vif_history).toEqual([]);
  });

  it('keeps the VIFs across a move, growing the history only when the MAC or IPs change', async () => {
    const moving = instance({ network_info: [first] });
    await driver().spawn(moving);
    await driver().migrateDiskAndPowerOff(moving);
    await driver().finishRevertResize(moving, true);
    // Re-plugged under a new id (a port replacing a nova-network VIF), same MAC and IP: no change a guest sees.
    await driver().plugVifs(moving, [{ ...first, id: 'port-cccccccccccc' }]);

    const [stored] = await storedGuests();
    expect(stored?.vifs).toEqual([{ id: 'port-cccccccccccc', address: first.address, ips: ['10.0.0.5'] }]);
    expect(stored?.vif_history).toHaveLength(1);
  });

  it('keeps the VIFs it has when a move reaches it without network info', async () => {
    const moving = instance({ network_info: [first] });
    await driver().spawn(moving);
    const { network_info: _dropped, ...olderInstance } = moving;
    await driver().finishResize(olderInstance, true);
    expect((await storedGuests())[0]?.vifs).toHaveLength(1);
  });

  it('attaches and detaches one interface at a time, each once however often asked', async () => {
    const running = instance({ network_info: [first] });
    await driver().spawn(running);
    await driver().attachInterface(running, second);
    const attached = await driver().attachInterface(running, second);
    expect(attached.map((plugged) => plugged.address)).toEqual([first.address, second.address]);

    await driver().detachInterface(running, first.id);
    const detached = await driver().detachInterface(running, first.id);
    expect(detached).toEqual([{ id: second.id, address: second.address, ips: ['10.0.0.6'] }]);
    expect((await storedGuests())[0]?.vif_history).toHaveLength(3);
  });

  it('fails VIF operations on a guest it does not have, and by failure injection', async () => {
    await expect(driver().plugVifs(instance(), [first])).rejects.toThrow(InstanceNotFound);
    const running = instance();
    await driver().spawn(running);
    await expect(
      driver({ failureProbability: { attach_interface: 1 } }).attachInterface(running, first),
    ).rejects.toThrow(FakeInjectedFailure);
    expect((await storedGuests())[0]?.vifs).toEqual([]);
  });
});
