import { and, count, eq, inArray } from 'drizzle-orm';
import type { PrimaryDb, PrimaryWriter } from '../../../schema/db.ts';
import {
  type NetworkMigrationKind,
  networkMigrationMap,
  networkMigrations,
  neutronFloatingIps,
  neutronIpAllocations,
  neutronNetworks,
  neutronPortSecurityGroups,
  neutronPorts,
  neutronRouters,
  neutronSubnets,
} from '../../../schema/tables/index.ts';
import { Conflict } from '../../shared/errors.ts';
import { recordCounter } from './runs.ts';
import { holdNetworkMigration, transitionNetworkMigration } from './states.ts';

// Rollback, before the cut-over only: deletes what the run created, as its map lists it, dependants
// first, a batch per transaction. The legacy tables were never written and the mode never changed, so
// nothing else needs restoring. Guests are not re-plugged: the plug gave each the very VIF ids, MACs
// and addresses it had under nova-network, so there is nothing to give back (their vif_history shows
// one set throughout).

const DEPENDANTS_FIRST: readonly NetworkMigrationKind[] = [
  'floatingip',
  'router',
  'port',
  'subnet',
  'network',
];

async function deletePorts(tx: PrimaryWriter, portUuids: readonly string[]): Promise<void> {
  if (portUuids.length === 0) return;
  const ports = [...portUuids];
  // A floating IP someone associated meanwhile is left, unassociated, rather than pointing nowhere.
  await tx
    .update(neutronFloatingIps)
    .set({
      fixed_port_uuid: null,
      fixed_ip_address: null,
      router_uuid: null,
      status: 'DOWN',
      updated_at: new Date(),
    })
    .where(inArray(neutronFloatingIps.fixed_port_uuid, ports));
  await tx.delete(neutronIpAllocations).where(inArray(neutronIpAllocations.port_uuid, ports));
  await tx.delete(neutronPortSecurityGroups).where(inArray(neutronPortSecurityGroups.port_uuid, ports));
  await tx.delete(neutronPorts).where(inArray(neutronPorts.uuid, ports));
}

async function deleteObjects(tx: PrimaryWriter, kind: NetworkMigrationKind, uuids: string[]): Promise<void> {
  switch (kind) {
    case 'floatingip': {
      const rows = await tx
        .select({ port: neutronFloatingIps.floating_port_uuid })
        .from(neutronFloatingIps)
        .where(inArray(neutronFloatingIps.uuid, uuids));
      await tx.delete(neutronFloatingIps).where(inArray(neutronFloatingIps.uuid, uuids));
      await deletePorts(
        tx,
        rows.map((row) => row.port),
      );
      return;
    }
    case 'router': {
      const ports = await tx
        .select({ uuid: neutronPorts.uuid })
        .from(neutronPorts)
        .where(inArray(neutronPorts.device_id, uuids));
      await deletePorts(
        tx,
        ports.map((port) => port.uuid),
      );
      await tx.delete(neutronRouters).where(inArray(neutronRouters.uuid, uuids));
      return;
    }
    case 'port':
      await deletePorts(tx, uuids);
      return;
    case 'subnet': {
      const [held] = await tx
        .select({ n: count() })
        .from(neutronIpAllocations)
        .where(inArray(neutronIpAllocations.subnet_uuid, uuids));
      if ((held?.n ?? 0) > 0) {
        throw new Conflict(
          `Subnets ${uuids.join(', ')} hold addresses of ports the migration did not create: delete those ports, then resume the rollback`,
        );
      }
      await tx.delete(neutronSubnets).where(inArray(neutronSubnets.uuid, uuids));
      return;
    }
    case 'network': {
      const [foreign] = await tx
        .select({ n: count() })
        .from(neutronPorts)
        .where(inArray(neutronPorts.network_uuid, uuids));
      const [subnets] = await tx
        .select({ n: count() })
        .from(neutronSubnets)
        .where(inArray(neutronSubnets.network_uuid, uuids));
      if ((foreign?.n ?? 0) + (subnets?.n ?? 0) > 0) {
        throw new Conflict(
          `Networks ${uuids.join(', ')} have ports or subnets the migration did not create: delete them, then resume the rollback`,
        );
      }
      await tx.delete(neutronNetworks).where(inArray(neutronNetworks.uuid, uuids));
      return;
    }
  }
}

/** Deletes up to `limit` of the run's objects (one kind at a time, dependants first); `more` until none are left. */
export async function rollbackBatch(
  db: PrimaryDb,
  migrationUuid: string,
  limit: number,
): Promise<{ deleted: number; more: boolean }> {
  for (const kind of DEPENDANTS_FIRST) {
    const entries = await db
      .select({ id: networkMigrationMap.id, new_uuid: networkMigrationMap.new_uuid })
      .from(networkMigrationMap)
      .where(and(eq(networkMigrationMap.migration_uuid, migrationUuid), eq(networkMigrationMap.kind, kind)))
      .limit(limit);
    if (entries.length === 0) continue;
    await db.transaction(async (tx) => {
      await holdNetworkMigration(tx, migrationUuid, ['rolling_back']);
      await deleteObjects(
        tx,
        kind,
        entries.map((entry) => entry.new_uuid),
      );
      await tx.delete(networkMigrationMap).where(
        inArray(
          networkMigrationMap.id,
          entries.map((entry) => entry.id),
        ),
      );
      const [left] = await tx
        .select({ n: count() })
        .from(networkMigrationMap)
        .where(eq(networkMigrationMap.migration_uuid, migrationUuid));
      const [row] = await tx
        .select({ progress: networkMigrations.progress })
        .from(networkMigrations)
        .where(eq(networkMigrations.uuid, migrationUuid));
      const done = (row?.progress.deleted?.done ?? 0) + entries.length;
      await recordCounter(tx, migrationUuid, 'rollback', 'deleted', { total: done + (left?.n ?? 0), done });
    });
    return { deleted: entries.length, more: true };
  }
  return { deleted: 0, more: false };
}

export async function finishRollback(db: PrimaryDb, migrationUuid: string): Promise<void> {
  await transitionNetworkMigration(db, migrationUuid, 'rolled_back', { step: 'rollback' });
}
