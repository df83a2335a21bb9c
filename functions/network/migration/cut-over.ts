import { and, asc, countDistinct, eq, gt } from 'drizzle-orm';
import type { PrimaryDb } from '../../../schema/db.ts';
import { networkMigrationMap, neutronPorts } from '../../../schema/tables/index.ts';
import { StateConflict } from '../../shared/errors.ts';
import { recordNetworkApiMode } from '../mode.ts';
import { refreshInstanceNetworkCache } from '../neutron-network-info.ts';
import { loadNetworkMigration, recordCounter } from './runs.ts';
import { holdNetworkMigration, transitionNetworkMigration } from './states.ts';

// The cut-over, once verify found no difference: the deployment records that it runs the networking
// service (from the next boot on, every network operation goes there), then every migrated server's
// network cache is rebuilt from its ports. The legacy tables are left as they are: nothing reads them
// once the mode is recorded.

/** Starts (or, on a resumed run, repeats) the switch; a rollback that won the race makes it a conflict. */
export async function startCutOver(db: PrimaryDb, migrationUuid: string): Promise<void> {
  const run = await loadNetworkMigration(db, migrationUuid);
  if (run.status === 'migrating') {
    await transitionNetworkMigration(db, migrationUuid, 'cut_over_started', { step: 'cut_over' });
  } else if (run.status !== 'cutting_over') {
    throw new StateConflict(`Network migration ${migrationUuid} is ${run.status}: it cannot cut over`);
  }
  await recordNetworkApiMode(db, 'neutron', migrationUuid);
}

/**
 * Rebuilds the caches of the next `limit` migrated instances after `after` (instance uuid order), and
 * says where to go on. Rewriting a cache twice writes the same thing, so a resumed run starts over.
 */
export async function rewriteCaches(
  db: PrimaryDb,
  migrationUuid: string,
  after: string,
  rewrittenBefore: number,
  limit: number,
): Promise<{ after: string; rewritten: number; more: boolean }> {
  const ofRun = and(
    eq(networkMigrationMap.migration_uuid, migrationUuid),
    eq(networkMigrationMap.kind, 'port'),
  );
  const batch = await db
    .selectDistinct({ instance_uuid: neutronPorts.device_id })
    .from(networkMigrationMap)
    .innerJoin(neutronPorts, eq(neutronPorts.uuid, networkMigrationMap.new_uuid))
    .where(and(ofRun, gt(neutronPorts.device_id, after)))
    .orderBy(asc(neutronPorts.device_id))
    .limit(limit);
  for (const { instance_uuid } of batch) await refreshInstanceNetworkCache(db, instance_uuid);
  const [total] = await db
    .select({ n: countDistinct(neutronPorts.device_id) })
    .from(networkMigrationMap)
    .innerJoin(neutronPorts, eq(neutronPorts.uuid, networkMigrationMap.new_uuid))
    .where(ofRun);
  const rewritten = rewrittenBefore + batch.length;
  await db.transaction(async (tx) => {
    await holdNetworkMigration(tx, migrationUuid, ['cutting_over']);
    await recordCounter(tx, migrationUuid, 'cut_over', 'caches_rewritten', {
      total: total?.n ?? 0,
      done: rewritten,
    });
  });
  return { after: batch.at(-1)?.instance_uuid ?? after, rewritten, more: batch.length === limit };
}

export async function completeCutOver(db: PrimaryDb, migrationUuid: string): Promise<void> {
  await transitionNetworkMigration(db, migrationUuid, 'completed', { step: 'cut_over' });
}
