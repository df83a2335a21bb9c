import type { InstanceData } from '../../schema/objects/instance.ts';

// Nova's power_state values, so the API can store what the driver reports without translating it.
export const POWER_STATE = {
  NOSTATE: 0,
  RUNNING: 1,
  SHUTDOWN: 4,
} as const;
export type PowerState = (typeof POWER_STATE)[keyof typeof POWER_STATE];

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
  listInstances(): Promise<DriverInstance[]>;
  hostResources(): HostResources;
  metrics(): Promise<HostMetric[]>;
}

/** A hypervisor operation failed; its `name` is what the command result reports as the error type. */
export class VirtDriverError extends Error {
  override readonly name: string = 'VirtDriverError';
}
