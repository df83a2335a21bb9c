import type { AgentConfig } from '../config.ts';
import type { VirtDriver } from './driver.ts';
import { FakeDriver } from './fake.ts';

/** The virt drivers AGENT_DRIVER can name; a name without its case below does not compile (nothing returned). */
export const VIRT_DRIVERS = ['fake'] as const;
export type VirtDriverName = (typeof VIRT_DRIVERS)[number];

/** The driver the configuration names, given the part of the configuration that driver reads. */
export function createVirtDriver(config: AgentConfig): VirtDriver {
  switch (config.driver) {
    case 'fake':
      return new FakeDriver({
        stateDir: config.stateDir,
        hypervisorHostname: config.host,
        vcpus: config.vcpus,
        memoryMb: config.memoryMb,
        localGb: config.localGb,
        latencyMs: config.fakeLatencyMs,
        failureProbability: config.fakeFailureProbability,
      });
  }
}
