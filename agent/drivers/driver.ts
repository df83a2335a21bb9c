import type { InstanceData } from '../../schema/objects/instance.ts';

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

export interface VirtDriver {
  /** Creates and starts the instance; spawning an instance the host already runs leaves it as it is. */
  spawn(instance: InstanceData): Promise<DriverInstance>;
  /** Removes the instance; an instance the host does not have is already destroyed. */
  destroy(instance: InstanceData): Promise<void>;
  /** Changes the guest's power state; an instance the host does not have is an InstanceNotFound error. */
  power(instance: InstanceData, operation: PowerOperation): Promise<DriverInstance>;
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
