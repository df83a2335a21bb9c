import { and, eq, sql } from 'drizzle-orm';
import type { PrimaryDb } from '../../schema/db.ts';
import { computeNodes, resourceClaims } from '../../schema/tables/index.ts';
import { NoValidHost } from '../shared/errors.ts';
import { coreFilter } from './filters/core.ts';
import { diskFilter } from './filters/disk.ts';
import { ramFilter } from './filters/ram.ts';
import type { HostState, RequestSpec } from './request-spec.ts';

class ClaimLost extends Error {
  override readonly name = 'ClaimLost';
}

/**
 * Reserves the request's resources on one node. The capacity test is part of the UPDATE itself, so
 * two concurrent claims can never both fit into the room for one: the loser's UPDATE matches no row.
 * Returns false when the node has no room any more. Claiming again for the same instance and node
 * is a no-op, so a retried workflow step cannot double-claim.
 */
export async function claimOnNode(db: PrimaryDb, spec: RequestSpec, nodeId: number): Promise<boolean> {
  try {
    await db.transaction(async (tx) => {
      const [existing] = await tx
        .select({ id: resourceClaims.id })
        .from(resourceClaims)
        .where(
          and(
            eq(resourceClaims.instance_uuid, spec.instance_uuid),
            eq(resourceClaims.compute_node_id, nodeId),
          ),
        );
      if (existing) return;
      const updated = await tx
        .update(computeNodes)
        .set({
          memory_mb_used: sql`${computeNodes.memory_mb_used} + ${spec.memory_mb}`,
          vcpus_used: sql`${computeNodes.vcpus_used} + ${spec.vcpus}`,
          local_gb_used: sql`${computeNodes.local_gb_used} + ${spec.disk_gb}`,
          running_vms: sql`${computeNodes.running_vms} + 1`,
          generation: sql`${computeNodes.generation} + 1`,
        })
        .where(
          and(
            eq(computeNodes.id, nodeId),
            eq(computeNodes.deleted, 0),
            ramFilter.sql(spec, FILTERLESS_CONTEXT),
            coreFilter.sql(spec, FILTERLESS_CONTEXT),
            diskFilter.sql(spec, FILTERLESS_CONTEXT),
          ),
        );
      if (updated.rowsAffected !== 1) throw new ClaimLost();
      await tx.insert(resourceClaims).values({
        instance_uuid: spec.instance_uuid,
        compute_node_id: nodeId,
        memory_mb: spec.memory_mb,
        vcpus: spec.vcpus,
        disk_gb: spec.disk_gb,
        created_at: new Date(),
      });
    });
    return true;
  } catch (error) {
    if (error instanceof ClaimLost) return false;
    throw error;
  }
}

// The capacity filters read only the spec, never the clock or the down-time setting.
const FILTERLESS_CONTEXT = { now: new Date(0), serviceDownTimeSeconds: 0 };

/** Claims on the first candidate that still has room, in rank order. */
export async function claimFirstFitting(
  db: PrimaryDb,
  spec: RequestSpec,
  candidates: HostState[],
): Promise<HostState> {
  for (const candidate of candidates) {
    if (await claimOnNode(db, spec, candidate.id)) return candidate;
  }
  throw new NoValidHost(
    candidates.length === 0
      ? 'No valid host was found: no host passed the filters'
      : `No valid host was found: all ${candidates.length} candidates were claimed concurrently`,
  );
}

/** Releases every claim the instance holds (or only those on `nodeId`). Safe to call repeatedly. */
export async function releaseClaims(db: PrimaryDb, instanceUuid: string, nodeId?: number): Promise<number> {
  return db.transaction(async (tx) => {
    const claims = await tx
      .select()
      .from(resourceClaims)
      .where(
        and(
          eq(resourceClaims.instance_uuid, instanceUuid),
          nodeId === undefined ? undefined : eq(resourceClaims.compute_node_id, nodeId),
        ),
      )
      .for('update');
    for (const claim of claims) {
      await tx.delete(resourceClaims).where(eq(resourceClaims.id, claim.id));
      await tx
        .update(computeNodes)
        .set({
          memory_mb_used: sql`${computeNodes.memory_mb_used} - ${claim.memory_mb}`,
          vcpus_used: sql`${computeNodes.vcpus_used} - ${claim.vcpus}`,
          local_gb_used: sql`${computeNodes.local_gb_used} - ${claim.disk_gb}`,
          running_vms: sql`${computeNodes.running_vms} - 1`,
          generation: sql`${computeNodes.generation} + 1`,
        })
        .where(eq(computeNodes.id, claim.compute_node_id));
    }
    return claims.length;
  });
}
