import type { GuestVif } from '../../schema/objects/compute-command.ts';
import type { InstanceData } from '../../schema/objects/instance.ts';
import type { Vif } from '../../schema/objects/network-info.ts';

// Nova's power_state values, so the API can store what the driver reports without translating it.
export const POWER_STATE = {
  NOSTATE: 0,
  RUNNING: 1,
  PAUSED: 3,
  SHUTDOWN: 4,
  SUSPENDED: 7,
} as const;
export type PowerState = (typeof POWER_STATE)[keyof typeof POWER_STATE];

/** Operations on an existing guest, named like the commands that ask for them. */
export const POWER_OPERATIONS = {
  reboot: POWER_STATE.RUNNING,
  power_on: POWER_STATE.RUNNING,
  power_off: POWER_STATE.SHUTDOWN,
  pause: POWER_STATE.PAUSED,
  unpause: POWER_STATE.RUNNING,
  suspend: POWER_STATE.SUSPENDED,
  resume: POWER_STATE.RUNNING,
  // The guest's disk is recreated from its image and the guest started again.
  rebuild: POWER_STATE.RUNNING,
} as const satisfies Record<string, PowerState>;
export type PowerOperation = keyof typeof POWER_OPERATIONS;

export interface DriverInstance {
  uuid: string;
  name: string;
  vcpus: number;
  memory_mb: number;
  root_gb: number;
  power_state: PowerState;
}

/** What the host offers in total; what is in use is the API's business (claims), not the driver's. */
export interface HostResources {
  hypervisor_hostname: string;
  hypervisor_type: string;
  hypervisor_version: number;
  vcpus: number;
  memory_mb: number;
  local_gb: number;
}

export interface HostMetric {
  name: string;
  value: number;
  timestamp: string;
  source: string;
}

/** What an admin asked of a running live migration: stop it, or finish it now (the guest pauses briefly). */
export type LiveMigrationControl = 'cancel' | 'force_complete';

/** The agent's side of a running live migration: where the copy is, and what an admin asked. */
export interface LiveMigrationMonitor {
  /** The memory copy has reached `percent` (0..100). */
  progress(percent: number): void;
  /** The latest request heard from the API, or null while there is none. */
  control(): LiveMigrationControl | null;
}

// Every operation is safe to repeat: SQS delivers at least once, and a command redelivered after the
// agent crashed mid-way runs again and must end where (and answer what) the first run would have.
export interface VirtDriver {
  /** Creates and starts the instance; spawning an instance the host already runs leaves it as it is. */
  spawn(instance: InstanceData): Promise<DriverInstance>;
  /** Removes the instance; an instance the host does not have is already destroyed. */
  destroy(instance: Pick<InstanceData, 'uuid'>): Promise<void>;
  /**
   * Replaces the guest's VIFs with `vifs` (the instance's whole network info) and answers what it has
   * now; plugging what the guest already has changes nothing.
   */
  plugVifs(instance: InstanceData, vifs: Vif[]): Promise<GuestVif[]>;
  /** Adds one VIF to the guest (a VIF it already has stays as it is) and answers what it has now. */
  attachInterface(instance: InstanceData, vif: Vif): Promise<GuestVif[]>;
  /** Removes one VIF from the guest (one it does not have is already gone) and answers what it has now. */
  detachInterface(instance: InstanceData, vifId: string): Promise<GuestVif[]>;
  /** Changes the guest's power state; an instance the host does not have is an InstanceNotFound error. */
  power(instance: InstanceData, operation: PowerOperation): Promise<DriverInstance>;
  /** On a move's destination: checks the host can take the instance before anything moves. */
  prepResize(instance: InstanceData): Promise<void>;
  /** On the source of a cold move: powers the guest off and keeps it (and its disks) here for a revert. */
  migrateDiskAndPowerOff(instance: InstanceData): Promise<DriverInstance>;
  /** On the destination of a cold move: the guest, here, with the flavor the instance carries (the new one). */
  finishResize(instance: InstanceData, powerOn: boolean): Promise<DriverInstance>;
  /** On the source after a revert: the guest left powered off here, back with the flavor the instance carries. */
  finishRevertResize(instance: InstanceData, powerOn: boolean): Promise<DriverInstance>;
  /** On a live migration's destination: an incoming, paused guest ready to receive the memory. */
  preLiveMigration(instance: InstanceData, blockMigration: boolean): Promise<DriverInstance>;
  /**
   * On a live migration's source: copies the running guest's memory (and its disks when `blockMigration`)
   * to `destHost`. The source guest keeps running; a cancel ends in MigrationCancelled.
   */
  liveMigration(
    instance: InstanceData,
    destination: { destHost: string; blockMigration: boolean },
    monitor: LiveMigrationMonitor,
  ): Promise<void>;
  /** On a live migration's destination: the incoming guest takes over and runs. */
  postLiveMigrationAtDestination(instance: InstanceData): Promise<DriverInstance>;
  /**
   * Puts the image into the host's base-image cache, so a later boot from it need not download it:
   * true when it was downloaded now, false when it was already there.
   */
  cacheImage(imageId: string): Promise<boolean>;
  listInstances(): Promise<DriverInstance[]>;
  hostResources(): HostResources;
  metrics(): Promise<HostMetric[]>;
}

/** A hypervisor operation failed; its `name` is what the command result reports as the error type. */
export class VirtDriverError extends Error {
  override readonly name: string = 'VirtDriverError';
}

export class InstanceNotFound extends VirtDriverError {
  override readonly name: string = 'InstanceNotFound';
}

/** A migration step found the guest where it must not be, e.g. an incoming guest on a host already running it. */
export class InstanceExists extends VirtDriverError {
  override readonly name: string = 'InstanceExists';
}

/** An admin cancelled the live migration before its copy completed; the guest still runs on the source. */
export class MigrationCancelled extends VirtDriverError {
  override readonly name: string = 'MigrationCancelled';
}
