import { randomUUID } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { POWER_STATE, VirtDriverError } from '../../agent/drivers/driver.ts';
import type { FakeDriverOptions } from '../../agent/drivers/fake.ts';
import { FAKE_STATE_FILE, FakeDriver, FakeInjectedFailure } from '../../agent/drivers/fake.ts';
import type { InstanceData } from '../../schema/objects/instance.ts';

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

  it('refuses to start from a corrupt state file instead of forgetting its instances', async () => {
    await writeFile(join(stateDir, FAKE_STATE_FILE), JSON.stringify({ instances: [{ uuid: 7 }] }));
    await expect(driver().listInstances()).rejects.toThrow(FAKE_STATE_FILE);
  });
});
