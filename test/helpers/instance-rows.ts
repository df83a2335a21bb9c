import { randomUUID } from 'node:crypto';
import type { FlavorSnapshot, instances } from '../../schema/tables/index.ts';
import { IMAGE } from './api.ts';

export type InstanceInsert = typeof instances.$inferInsert;

/** The snapshot an instance of the seeded flavor '1' carries (schema/migrations/2026.1/0002_seed_default_flavors.sql). */
export const M1_TINY: FlavorSnapshot = {
  flavorid: '1',
  name: 'm1.tiny',
  memory_mb: 512,
  vcpus: 1,
  root_gb: 1,
  ephemeral_gb: 0,
  swap: 0,
};

/**
 * An `instances` row for a test that writes servers straight into the database: an active m1.tiny
 * server of the seeded image, created now, on no host and live; `overrides` sets what the test is about.
 */
export function newInstanceRow(overrides: Partial<InstanceInsert> = {}): InstanceInsert {
  const uuid = overrides.uuid ?? randomUUID();
  return {
    uuid,
    project_id: 'test-project',
    user_id: 'test-user',
    display_name: `vm-${uuid.slice(0, 8)}`,
    image_ref: IMAGE,
    flavor: { ...M1_TINY },
    vm_state: 'active',
    metadata: {},
    reservation_id: `r-${uuid.slice(0, 8)}`,
    created_at: new Date(),
    ...overrides,
  };
}
