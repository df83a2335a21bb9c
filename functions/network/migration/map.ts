import { and, eq, inArray } from 'drizzle-orm';
import type { PrimaryWriter } from '../../../schema/db.ts';
import { type NetworkMigrationKind, networkMigrationMap } from '../../../schema/tables/index.ts';
import { duplicateKeyMessage, isDuplicateKey } from '../../shared/errors.ts';
import { MAC_GENERATION_RETRIES } from '../mac.ts';

// The map from legacy objects to what a run created for them. An entry is written in the same
// transaction as its object, and its key (kind, legacy id) is unique: what the map holds exists, and a
// resumed run that reads it (inside the transaction that would create the object) skips it.

type Reader = Pick<PrimaryWriter, 'select'>;

export function mapEntry(
  migrationUuid: string,
  kind: NetworkMigrationKind,
  legacyId: string,
  newUuid: string,
) {
  return {
    migration_uuid: migrationUuid,
    kind,
    legacy_id: legacyId,
    new_uuid: newUuid,
    created_at: new Date(),
  };
}

/** legacy id → new uuid, for those of `legacyIds` the map holds (whichever run created them). */
export async function mappedUuids(
  db: Reader,
  kind: NetworkMigrationKind,
  legacyIds: readonly string[],
): Promise<Map<string, string>> {
  if (legacyIds.length === 0) return new Map();
  const rows = await db
    .select({ legacy_id: networkMigrationMap.legacy_id, new_uuid: networkMigrationMap.new_uuid })
    .from(networkMigrationMap)
    .where(and(eq(networkMigrationMap.kind, kind), inArray(networkMigrationMap.legacy_id, [...legacyIds])));
  return new Map(rows.map((row) => [row.legacy_id, row.new_uuid]));
}

export async function mappedUuid(
  db: Reader,
  kind: NetworkMigrationKind,
  legacyId: string,
): Promise<string | undefined> {
  return (await mappedUuids(db, kind, [legacyId])).get(legacyId);
}

/** Every entry of one run and kind. */
export async function runEntries(db: Reader, migrationUuid: string, kind: NetworkMigrationKind) {
  return db
    .select({ legacy_id: networkMigrationMap.legacy_id, new_uuid: networkMigrationMap.new_uuid })
    .from(networkMigrationMap)
    .where(and(eq(networkMigrationMap.migration_uuid, migrationUuid), eq(networkMigrationMap.kind, kind)));
}

function hitKey(error: unknown, key: string): boolean {
  return isDuplicateKey(error) && error instanceof Error && duplicateKeyMessage(error).includes(key);
}

/**
 * Runs `attempt` again while it loses only on a generated MAC (the ports of routers and floating IPs
 * draw theirs at random), as Neutron retries mac generation.
 */
export async function retryOnMacCollision<T>(attempt: () => Promise<T>): Promise<T> {
  for (let tries = 1; ; tries++) {
    try {
      return await attempt();
    } catch (error) {
      if (tries >= MAC_GENERATION_RETRIES || !hitKey(error, 'uniq_neutron_ports0mac_address')) throw error;
    }
  }
}
