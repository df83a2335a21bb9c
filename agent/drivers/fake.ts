import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import * as v from 'valibot';
import type { ComputeCommandName, GuestVif } from '../../schema/objects/compute-command.ts';
import { COMPUTE_COMMAND_NAMES, GuestVif as GuestVifSchema } from '../../schema/objects/compute-command.ts';
import type { InstanceData } from '../../schema/objects/instance.ts';
import type { Vif } from '../../schema/objects/network-info.ts';
import { readJsonState, writeJsonStateAtomically } from '../state-file.ts';
import type {
  DriverInstance,
  HostMetric,
  HostResources,
  LiveMigrationMonitor,
  PowerOperation,
  PowerState,
  VirtDriver,
} from './driver.ts';
import {
  InstanceExists,
  InstanceNotFound,
  MigrationCancelled,
  POWER_OPERATIONS,
  POWER_STATE,
  VirtDriverError,
} from './driver.ts';

// Operations are named after the commands that trigger them, so an operator configuring latency or
// failures speaks the same words as the workflow that sends the commands. Every command the agent runs
// is one driver operation (terminate is destroy(), the power commands are power(); cache_images is
// cacheImage() once per image, so its knobs act per image), so the operations are the command list
// itself and a new command gets its knobs without being listed here.
export const FAKE_OPERATIONS = COMPUTE_COMMAND_NAMES;
export type FakeOperation = ComputeCommandName;

export const FAKE_STATE_FILE = 'fake-instances.json';
const FAKE_CPU_FREQUENCY_MHZ = 2400;
// A live migration's latency is its memory copy: progress grows with the time spent, and a cancel or
// force_complete heard with a heartbeat takes effect within this long.
const CONTROL_CHECK_MS = 50;

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

/** A guest's (MAC, IPs) set, without the VIF ids: what a guest would notice changing. */
const AddressSet = v.array(v.object({ address: v.string(), ips: v.array(v.string()) }));
type AddressSet = v.InferOutput<typeof AddressSet>;

// `vifs` are the guest's plugged interfaces and `vif_history` every (MAC, IPs) set it has had, appended
// only when the set changes: a test reads them from the state file to prove a guest kept its MAC and
// IP through a move or a re-plug. State files from before they existed have neither.
const StoredInstance = v.object({
  uuid: v.string(),
  name: v.string(),
  vcpus: v.number(),
  memory_mb: v.number(),
  root_gb: v.number(),
  power_state: v.picklist(Object.values(POWER_STATE)),
  vifs: v.optional(v.array(GuestVifSchema), []),
  vif_history: v.optional(v.array(AddressSet), []),
});
type FakeGuest = v.InferOutput<typeof StoredInstance>;
// `images` is the host's base-image cache; state files from before it existed have none.
const FakeState = v.object({
  instances: v.array(StoredInstance),
  images: v.optional(v.array(v.string()), []),
});

interface LoadedState {
  instances: Map<string, FakeGuest>;
  images: Set<string>;
}

export class FakeDriver implements VirtDriver {
  private readonly statePath: string;
  private state: Promise<LoadedState> | undefined;
  // Writes are serialised so that concurrent operations cannot rename an older snapshot over a newer one.
  private persistQueue: Promise<void> = Promise.resolve();

  constructor(private readonly options: FakeDriverOptions) {
    this.statePath = join(options.stateDir, FAKE_STATE_FILE);
  }

  async spawn(instance: InstanceData): Promise<DriverInstance> {
    await this.simulate('spawn', instance.uuid);
    const existing = (await this.loadInstances()).get(instance.uuid);
    if (existing) return driverView(existing);
    return this.store(guestOf(instance, POWER_STATE.RUNNING, undefined));
  }

  async destroy(instance: Pick<InstanceData, 'uuid'>): Promise<void> {
    await this.simulate('terminate', instance.uuid);
    if (!(await this.loadInstances()).has(instance.uuid)) return;
    await this.remove(instance.uuid);
  }

  async power(instance: InstanceData, operation: PowerOperation): Promise<DriverInstance> {
    await this.simulate(operation, instance.uuid);
    const existing = await this.existing(instance.uuid);
    return this.store({ ...existing, power_state: POWER_OPERATIONS[operation] });
  }

  async plugVifs(instance: InstanceData, vifs: Vif[]): Promise<GuestVif[]> {
    await this.simulate('plug_vifs', instance.uuid);
    const existing = await this.existing(instance.uuid);
    return (await this.storeGuest(withVifs(existing, guestVifs(vifs)))).vifs;
  }

  async attachInterface(instance: InstanceData, vif: Vif): Promise<GuestVif[]> {
    await this.simulate('attach_interface', instance.uuid);
    const existing = await this.existing(instance.uuid);
    if (existing.vifs.some((plugged) => plugged.id === vif.id)) return existing.vifs;
    return (await this.storeGuest(withVifs(existing, [...existing.vifs, ...guestVifs([vif])]))).vifs;
  }

  async detachInterface(instance: InstanceData, vifId: string): Promise<GuestVif[]> {
    await this.simulate('detach_interface', instance.uuid);
    const existing = await this.existing(instance.uuid);
    const kept = existing.vifs.filter((plugged) => plugged.id !== vifId);
    if (kept.length === existing.vifs.length) return existing.vifs;
    return (await this.storeGuest(withVifs(existing, kept))).vifs;
  }

  async prepResize(instance: InstanceData): Promise<void> {
    await this.simulate('prep_resize', instance.uuid);
  }

  async migrateDiskAndPowerOff(instance: InstanceData): Promise<DriverInstance> {
    await this.simulate('migrate_disk_and_power_off', instance.uuid);
    const existing = await this.existing(instance.uuid);
    return this.store({ ...existing, power_state: POWER_STATE.SHUTDOWN });
  }

  async finishResize(instance: InstanceData, powerOn: boolean): Promise<DriverInstance> {
    await this.simulate('finish_resize', instance.uuid);
    // A guest already here is this command's own earlier run (or a resize on the same host): it ends
    // the same way either way.
    const existing = (await this.loadInstances()).get(instance.uuid);
    return this.store(guestOf(instance, powerOn ? POWER_STATE.RUNNING : POWER_STATE.SHUTDOWN, existing));
  }

  async finishRevertResize(instance: InstanceData, powerOn: boolean): Promise<DriverInstance> {
    await this.simulate('finish_revert_resize', instance.uuid);
    const existing = await this.existing(instance.uuid);
    return this.store(guestOf(instance, powerOn ? POWER_STATE.RUNNING : POWER_STATE.SHUTDOWN, existing));
  }

  async preLiveMigration(instance: InstanceData, _blockMigration: boolean): Promise<DriverInstance> {
    await this.simulate('pre_live_migration', instance.uuid);
    const existing = (await this.loadInstances()).get(instance.uuid);
    if (existing?.power_state === POWER_STATE.PAUSED) return driverView(existing);
    // A running guest here means this host is the source: receiving onto it would lose the guest.
    if (existing)
      throw new InstanceExists(
        `Instance ${instance.uuid} already runs on this host; it cannot be received here`,
      );
    return this.store(guestOf(instance, POWER_STATE.PAUSED, undefined));
  }

  async liveMigration(
    instance: InstanceData,
    destination: { destHost: string; blockMigration: boolean },
    monitor: LiveMigrationMonitor,
  ): Promise<void> {
    await this.existing(instance.uuid);
    const latency = this.options.latencyMs?.live_migration ?? 0;
    const started = Date.now();
    // The admin's request is read before the copy is over, so one heard while the command still
    // waited its turn counts too.
    for (;;) {
      const control = monitor.control();
      if (control === 'cancel') {
        throw new MigrationCancelled(
          `Live migration of instance ${instance.uuid} to ${destination.destHost} was cancelled; it still runs here`,
        );
      }
      if (control === 'force_complete') break;
      const elapsed = Date.now() - started;
      if (elapsed >= latency) break;
      monitor.progress(Math.floor((elapsed * 100) / latency));
      await delay(Math.min(CONTROL_CHECK_MS, latency - elapsed));
    }
    this.injectFailure('live_migration', `instance ${instance.uuid}`);
    monitor.progress(100);
  }

  async postLiveMigrationAtDestination(instance: InstanceData): Promise<DriverInstance> {
    await this.simulate('post_live_migration_at_destination', instance.uuid);
    const existing = await this.existing(instance.uuid);
    return this.store({ ...existing, power_state: POWER_STATE.RUNNING });
  }

  async cacheImage(imageId: string): Promise<boolean> {
    await this.simulateOn('cache_images', `image ${imageId}`);
    const { images } = await this.loadState();
    if (images.has(imageId)) return false;
    images.add(imageId);
    try {
      await this.persist();
    } catch (error) {
      images.delete(imageId);
      throw error;
    }
    return true;
  }

  async listInstances(): Promise<DriverInstance[]> {
    return [...(await this.loadInstances()).values()].map(driverView);
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

  private simulate(operation: FakeOperation, instanceUuid: string): Promise<void> {
    return this.simulateOn(operation, `instance ${instanceUuid}`);
  }

  /** `subject` is what the operation acts on, as an injected failure names it. */
  private async simulateOn(operation: FakeOperation, subject: string): Promise<void> {
    const latency = this.options.latencyMs?.[operation] ?? 0;
    if (latency > 0) await delay(latency);
    this.injectFailure(operation, subject);
  }

  private injectFailure(operation: FakeOperation, subject: string): void {
    const probability = this.options.failureProbability?.[operation] ?? 0;
    const random = this.options.random ?? Math.random;
    if (probability > 0 && random() < probability) {
      throw new FakeInjectedFailure(`Injected ${operation} failure for ${subject}`);
    }
  }

  private async existing(uuid: string): Promise<FakeGuest> {
    const existing = (await this.loadInstances()).get(uuid);
    if (!existing) throw new InstanceNotFound(`Instance ${uuid} is not on this host`);
    return existing;
  }

  private async store(guest: FakeGuest): Promise<DriverInstance> {
    return driverView(await this.storeGuest(guest));
  }

  /** Keeps the guest, on disk first: if the write fails, the memory view is put back as it was. */
  private async storeGuest(guest: FakeGuest): Promise<FakeGuest> {
    const instances = await this.loadInstances();
    const previous = instances.get(guest.uuid);
    instances.set(guest.uuid, guest);
    try {
      await this.persist();
    } catch (error) {
      if (previous) instances.set(guest.uuid, previous);
      else instances.delete(guest.uuid);
      throw error;
    }
    return guest;
  }

  private async remove(uuid: string): Promise<void> {
    const instances = await this.loadInstances();
    const previous = instances.get(uuid);
    if (!previous) return;
    instances.delete(uuid);
    try {
      await this.persist();
    } catch (error) {
      instances.set(uuid, previous);
      throw error;
    }
  }

  private loadState(): Promise<LoadedState> {
    this.state ??= readJsonState(this.statePath, FakeState, { instances: [], images: [] }).then((stored) => ({
      instances: new Map(stored.instances.map((instance) => [instance.uuid, instance])),
      images: new Set(stored.images),
    }));
    return this.state;
  }

  private async loadInstances(): Promise<Map<string, FakeGuest>> {
    return (await this.loadState()).instances;
  }

  private persist(): Promise<void> {
    const write = this.persistQueue.then(async () => {
      const { instances, images } = await this.loadState();
      await writeJsonStateAtomically(this.statePath, {
        instances: [...instances.values()],
        images: [...images],
      });
    });
    this.persistQueue = write.catch(() => undefined);
    return write;
  }
}

/**
 * The guest as the instance describes it: its current flavor's sizes, and the VIFs its network info
 * names. An instance without network info (sent as Instance 1.3 or older) keeps the VIFs the guest
 * already has here, or has none.
 */
function guestOf(instance: InstanceData, powerState: PowerState, existing: FakeGuest | undefined): FakeGuest {
  const sized = {
    uuid: instance.uuid,
    name: instance.name,
    vcpus: instance.vcpus,
    memory_mb: instance.memory_mb,
    root_gb: instance.root_gb,
    power_state: powerState,
  };
  const previous = existing ?? { vifs: [], vif_history: [] };
  const vifs = instance.network_info === undefined ? previous.vifs : guestVifs(instance.network_info);
  return withVifs({ ...sized, vifs: previous.vifs, vif_history: previous.vif_history }, vifs);
}

/** What the driver interface shows of a guest. */
function driverView(guest: FakeGuest): DriverInstance {
  const { vifs: _vifs, vif_history: _history, ...view } = guest;
  return view;
}

/** The interfaces a guest gets from network info: each VIF's MAC and fixed addresses. */
function guestVifs(vifs: readonly Vif[]): GuestVif[] {
  return vifs.map((vif) => ({
    id: vif.id,
    address: vif.address,
    ips: vif.network.subnets.flatMap((subnet) => subnet.ips.map((ip) => ip.address)),
  }));
}

function addressSet(vifs: readonly GuestVif[]): AddressSet {
  return vifs
    .map((vif) => ({ address: vif.address, ips: [...vif.ips].sort() }))
    .sort((a, b) => a.address.localeCompare(b.address));
}

/** The guest with `vifs` plugged; its history grows only when its (MAC, IPs) set changes. */
function withVifs(guest: FakeGuest, vifs: GuestVif[]): FakeGuest {
  const set = addressSet(vifs);
  const last = guest.vif_history.at(-1) ?? [];
  const changed = JSON.stringify(set) !== JSON.stringify(last);
  return { ...guest, vifs, vif_history: changed ? [...guest.vif_history, set] : guest.vif_history };
}
