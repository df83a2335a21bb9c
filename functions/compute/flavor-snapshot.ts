import type { FlavorSnapshot, flavors } from '../../schema/tables/index.ts';

/** The flavor as an instance keeps it: later edits of the flavor never change a server. */
export function flavorSnapshot(flavor: typeof flavors.$inferSelect): FlavorSnapshot {
  return {
    flavorid: flavor.flavorid,
    name: flavor.name,
    memory_mb: flavor.memory_mb,
    vcpus: flavor.vcpus,
    root_gb: flavor.root_gb,
    ephemeral_gb: flavor.ephemeral_gb,
    swap: flavor.swap,
  };
}
