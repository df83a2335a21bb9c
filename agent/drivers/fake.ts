import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import * as v from 'valibot';
import type { InstanceData } from '../../schema/objects/instance.ts';
import { readJsonState, writeJsonStateAtomically } from '../state-file.ts';
import type { DriverInstance, HostMetric, HostResources, PowerOperation, VirtDriver } from './driver.ts';
import { InstanceNotFound, POWER_OPERATIONS, POWER_STATE, VirtDriverError } from './driver.ts';

// Operations are named after the commands that trigger them, so an operator configuring latency or
// failures speaks the same words as the workflow that sends the commands.
export const FAKE_OPERATIONS = [
  'spawn',
  'terminate',
  ...(Object.keys(POWER_OPERATIONS) as PowerOperation[]),
] as const;
export type FakeOperation = (typeof FAKE_OPERATIONS)[number];

export const FAKE_STATE_FILE = 'fake-instances.json';
const FAKE_CPU_FREQUENCY_MHZ = 2400;

export class FakeInjectedFailure extends VirtDriverError {
  override readonly name: string = 'FakeInjectedFailure';
}

export interface FakeDriverOptions {
  stateDir: string;
  hypervisorHostname: string;
  vcpus: number;
  memoryMb: number;
  localGb: number;
  latencyMs?: Partial<Record<FakeOperation, number>>;
  /** Probability (0..1] that an operation fails with FakeInjectedFailure. */
  failureProbability?: Partial<Record<FakeOperation, number>>;
  /** Replaceable so probabilistic failure can be made deterministic. */
  random?: () => number;
}

const StoredInstance = v.object({
  uuid: v.string(),
  name: v.string(),
  vcpus: v.number(),
  memory_mb: v.number(),
  root_gb: v.number(),
  power_state: v.picklist(Object.values(POWER_STATE)),
});
const FakeState = v.object({ instances: v.array(StoredInstance) });

export class FakeDriver implements VirtDriver {
  private readonly statePath: string;
  private instances: Promise<Map<string, DriverInstance>> | undefined;
  // Writes are serialised so that concurrent operations cannot rename an older snapshot over a newer one.
  private persistQueue: Promise<void> = Promise.resolve();

  constructor(private readonly options: FakeDriverOptions) {
    this.statePath = join(options.stateDir, FAKE_STATE_FILE);
  }

  async spawn(instance: InstanceData): Promise<DriverInstance> {
    await this.simulate('spawn', instance.uuid);
    const instances = await this.loadInstances();
    const existing = instances.get(instance.uuid);
    if (existing) return existing;
    const spawned: DriverInstance = {
      uuid: instance.uuid,
      name: instance.name,
      vcpus: instance.vcpus,
      memory_mb: instance.memory_mb,
      root_gb: instance.root_gb,
      power_state: POWER_STATE.RUNNING,
    };
    instances.set(instance.uuid, spawned);
    try {
      await this.persist();
    } catch (error) {
      instances.delete(instance.uuid);
      throw error;
    }
    return spawned;
  }

  async destroy(instance: InstanceData): Promise<void> {
    await this.simulate('terminate', instance.uuid);
    const instances = await this.loadInstances();
    const existing = instances.get(instance.uuid);
    if (!existing) return;
    instances.delete(instance.uuid);
    try {
      await this.persist();
    } catch (error) {
      instances.set(instance.uuid, existing);
      throw error;
    }
  }

  async power(instance: InstanceData, operation: PowerOperation): Promise<DriverInstance> {
    await this.simulate(operation, instance.uuid);
    const instances = await this.loadInstances();
    const existing = instances.get(instance.uuid);
    if (!existing) throw new InstanceNotFound(`Instance ${instance.uuid} is not on this host`);
    const changed: DriverInstance = { ...existing, power_state: POWER_OPERATIONS[operation] };
    instances.set(instance.uuid, changed);
    try {
      await this.persist();
    } catch (error) {
      instances.set(instance.uuid, existing);
      throw error;
    }
    return changed;
  }

  async listInstances(): Promise<DriverInstance[]> {
    return [...(await this.loadInstances()).values()];
  }

  hostResources(): HostResources {
    return {
      hypervisor_hostname: this.options.hypervisorHostname,
      hypervisor_type: 'fake',
      hypervisor_version: 1,
      vcpus: this.options.vcpus,
      memory_mb: this.options.memoryMb,
      local_gb: this.options.localGb,
    };
  }

  async metrics(): Promise<HostMetric[]> {
    const usedVcpus = (await this.listInstances()).reduce((sum, instance) => sum + instance.vcpus, 0);
    const cpuPercent = Math.min(100, (usedVcpus / this.options.vcpus) * 100);
    const timestamp = new Date().toISOString();
    return [
      { name: 'cpu.percent', value: cpuPercent, timestamp, source: 'fake' },
      { name: 'cpu.frequency', value: FAKE_CPU_FREQUENCY_MHZ, timestamp, source: 'fake' },
    ];
  }

  private async simulate(operation: FakeOperation, instanceUuid: string): Promise<void> {
    const latency = this.options.latencyMs?.[operation] ?? 0;
    if (latency > 0) await delay(latency);
    const probability = this.options.failureProbability?.[operation] ?? 0;
    const random = this.options.random ?? Math.random;
    if (probability > 0 && random() < probability) {
      throw new FakeInjectedFailure(`Injected ${operation} failure for instance ${instanceUuid}`);
    }
  }

  private loadInstances(): Promise<Map<string, DriverInstance>> {
    this.instances ??= readJsonState(this.statePath, FakeState, { instances: [] }).then(
      (state) => new Map(state.instances.map((instance) => [instance.uuid, instance])),
    );
    return this.instances;
  }

  private persist(): Promise<void> {
    const write = this.persistQueue.then(async () => {
      const instances = await this.loadInstances();
      await writeJsonStateAtomically(this.statePath, { instances: [...instances.values()] });
    });
    this.persistQueue = write.catch(() => undefined);
    return write;
  }
}
