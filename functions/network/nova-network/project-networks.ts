import { and, asc, eq, isNotNull, isNull, or } from 'drizzle-orm';
import type { PrimaryDb, PrimaryWriter } from '../../../schema/db.ts';
import { novaNetworks } from '../../../schema/tables/index.ts';

// Which nova-network networks a project's servers go on. FlatDHCP networks (no VLAN) without a
// project are shared by every project; a VLAN network belongs to the project it is associated with,
// and a project that has none is given an unassigned one on its first boot (VlanManager's
// network_associate).

export type LegacyNetworkRow = typeof novaNetworks.$inferSelect;

type Reader = Pick<PrimaryDb, 'select'>;

export function isVlanNetwork(network: Pick<LegacyNetworkRow, 'vlan'>): boolean {
  return network.vlan !== null;
}

/** Whether the project may put servers on the network, or see it in os-networks. */
export function projectMayUse(network: Pick<LegacyNetworkRow, 'vlan' | 'project_id'>, projectId: string) {
  return network.project_id === projectId || (!isVlanNetwork(network) && network.project_id === null);
}

/** The condition `projectMayUse` expresses, for a query. */
export function usableBy(projectId: string) {
  return or(
    eq(novaNetworks.project_id, projectId),
    and(isNull(novaNetworks.vlan), isNull(novaNetworks.project_id)),
  );
}

/** The live networks the project may use, in the order its servers get them. */
export async function usableNetworks(db: Reader, projectId: string): Promise<LegacyNetworkRow[]> {
  return db
    .select()
    .from(novaNetworks)
    .where(and(eq(novaNetworks.deleted, 0), usableBy(projectId)))
    .orderBy(asc(novaNetworks.id));
}

/**
 * The project's VLAN networks, associating an unassigned one first when it has none. Inside the
 * allocating transaction: the project's rows are read FOR UPDATE, so two first boots of one project
 * cannot each take a network (one of them waits, or is the deadlock victim and runs again, and then
 * finds the network the other took). The take itself is a conditional UPDATE of an unassigned row.
 */
export async function ensureProjectVlanNetworks(
  tx: PrimaryWriter,
  projectId: string,
): Promise<LegacyNetworkRow[]> {
  const ownedBy = and(
    eq(novaNetworks.project_id, projectId),
    isNotNull(novaNetworks.vlan),
    eq(novaNetworks.deleted, 0),
  );
  const owned = await tx
    .select()
    .from(novaNetworks)
    .where(ownedBy)
    .orderBy(asc(novaNetworks.id))
    .for('update');
  if (owned.length > 0) return owned;
  const taken = await tx
    .update(novaNetworks)
    .set({ project_id: projectId, updated_at: new Date() })
    .where(and(isNull(novaNetworks.project_id), isNotNull(novaNetworks.vlan), eq(novaNetworks.deleted, 0)))
    .orderBy(asc(novaNetworks.id))
    .limit(1);
  if (taken.rowsAffected === 0) return [];
  return tx.select().from(novaNetworks).where(ownedBy).orderBy(asc(novaNetworks.id));
}
