import { and, asc, eq, isNull, ne } from 'drizzle-orm';
import type { PrimaryDb } from '../../../schema/db.ts';
import type { GuestVif } from '../../../schema/objects/compute-command.ts';
import { networkMigrationMap, networkMigrationPlugs, neutronPorts } from '../../../schema/tables/index.ts';
import { recordProgress } from './runs.ts';
import { holdNetworkMigration } from './states.ts';

// Re-plugging: each migrated instance on a host gets a plug_vifs command carrying its network info as
// the networking service now has it (the same VIF ids, MACs and addresses as before), and its agent
// answers with the VIFs the guest has afterwards. That answer is kept per instance, for verify to
// compare with the legacy state, and it is what makes a resumed run skip the instances already done.

export interface InstanceToPlug {
  instance_uuid: string;
  host: string;
}

/** The next `limit` instances of the run with a port bound to a host and no answer from it yet. */
export async function nextInstancesToPlug(
  db: PrimaryDb,
  migrationUuid: string,
  limit: number,
): Promise<InstanceToPlug[]> {
  const rows = await db
    .selectDistinct({ instance_uuid: neutronPorts.device_id, host: neutronPorts.binding_host_id })
    .from(networkMigrationMap)
    .innerJoin(neutronPorts, eq(neutronPorts.uuid, networkMigrationMap.new_uuid))
    .leftJoin(
      networkMigrationPlugs,
      and(
        eq(networkMigrationPlugs.migration_uuid, networkMigrationMap.migration_uuid),
        eq(networkMigrationPlugs.instance_uuid, neutronPorts.device_id),
      ),
    )
    .where(
      and(
        eq(networkMigrationMap.migration_uuid, migrationUuid),
        eq(networkMigrationMap.kind, 'port'),
        ne(neutronPorts.binding_host_id, ''),
        isNull(networkMigrationPlugs.id),
      ),
    )
    .orderBy(asc(neutronPorts.device_id))
    .limit(limit);
  return rows;
}

async function recordAnswer(
  db: PrimaryDb,
  migrationUuid: string,
  answer: {
    instance_uuid: string;
    host: string;
    status: 'plugged' | 'failed';
    vifs: GuestVif[];
    error: string | null;
  },
): Promise<void> {
  await db.transaction(async (tx) => {
    await holdNetworkMigration(tx, migrationUuid, ['migrating']);
    const now = new Date();
    await tx
      .insert(networkMigrationPlugs)
      .values({ migration_uuid: migrationUuid, ...answer, created_at: now, updated_at: now })
      .onDuplicateKeyUpdate({
        set: {
          host: answer.host,
          status: answer.status,
          vifs: answer.vifs,
          error: answer.error,
          updated_at: now,
        },
      });
    if (answer.status === 'plugged') {
      // A port the guest now has is wired: the networking service shows it ACTIVE.
      for (const vif of answer.vifs) {
        await tx
          .update(neutronPorts)
          .set({ status: 'ACTIVE', updated_at: now })
          .where(
            and(
              eq(neutronPorts.uuid, vif.id),
              eq(neutronPorts.device_id, answer.instance_uuid),
              eq(neutronPorts.mac_address, vif.address.toLowerCase()),
            ),
          );
      }
    }
    await recordProgress(tx, migrationUuid, 'plug');
  });
}

/** The agent answered: what the guest has now. */
export async function recordPlugged(
  db: PrimaryDb,
  migrationUuid: string,
  target: InstanceToPlug,
  vifs: GuestVif[],
): Promise<void> {
  await recordAnswer(db, migrationUuid, { ...target, status: 'plugged', vifs, error: null });
}

/** The command failed, or the host never answered: verify will count the instance as a difference. */
export async function recordPlugFailed(
  db: PrimaryDb,
  migrationUuid: string,
  target: InstanceToPlug,
  error: string,
): Promise<void> {
  await recordAnswer(db, migrationUuid, {
    ...target,
    status: 'failed',
    vifs: [],
    error: error.slice(0, 1024),
  });
}

/** A resumed run tries the failed instances again. */
export async function forgetFailedPlugs(db: PrimaryDb, migrationUuid: string): Promise<void> {
  await db
    .delete(networkMigrationPlugs)
    .where(
      and(
        eq(networkMigrationPlugs.migration_uuid, migrationUuid),
        eq(networkMigrationPlugs.status, 'failed'),
      ),
    );
}
