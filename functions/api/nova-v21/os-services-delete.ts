import { and, eq, inArray, or, sql } from 'drizzle-orm';
import type { Context } from 'hono';
import {
  aggregateHosts,
  computeNodes,
  instances,
  migrations,
  services,
} from '../../../schema/tables/index.ts';
import { IN_PROGRESS_MIGRATION_STATUSES } from '../../compute/migration-states.ts';
import { Conflict } from '../../shared/errors.ts';
import type { AppEnv } from '../context.ts';
import { COMPUTE_BINARY } from '../nova/host-zones.ts';
import type { ServiceRow } from '../nova/os-services.ts';

/**
 * DELETE /os-services/{id} (v2.1 only; Havana had no such route). A compute service goes with its
 * compute nodes and its aggregate memberships, and only while nothing depends on the host: no server
 * on it and no move to or from it under way (Nova's 409s), since its claims and the moves' workflows
 * need its node. An agent still running on the host registers it again at its next report, as a new
 * service with new ids.
 */
export async function deleteService(c: Context<AppEnv>, service: ServiceRow): Promise<void> {
  const db = c.var.db.$primary;
  if (service.binary === COMPUTE_BINARY) {
    const [hosted] = await db
      .select({ id: instances.id })
      .from(instances)
      .where(and(eq(instances.host, service.host), eq(instances.deleted, 0)))
      .limit(1);
    if (hosted) {
      throw new Conflict(
        'Unable to delete compute service that is hosting instances. Migrate or delete the instances first.',
      );
    }
    const [moving] = await db
      .select({ id: migrations.id })
      .from(migrations)
      .where(
        and(
          or(eq(migrations.source_compute, service.host), eq(migrations.dest_compute, service.host)),
          inArray(migrations.status, [...IN_PROGRESS_MIGRATION_STATUSES]),
          eq(migrations.deleted, 0),
        ),
      )
      .limit(1);
    if (moving) {
      throw new Conflict(
        'Unable to delete compute service that has in-progress migrations. Complete the migrations or delete the instances first.',
      );
    }
  }
  const now = new Date();
  await db.transaction(async (tx) => {
    if (service.binary === COMPUTE_BINARY) {
      await tx
        .update(aggregateHosts)
        .set({ deleted: sql`${aggregateHosts.id}`, deleted_at: now, updated_at: now })
        .where(and(eq(aggregateHosts.host, service.host), eq(aggregateHosts.deleted, 0)));
      await tx
        .update(computeNodes)
        .set({ deleted: sql`${computeNodes.id}`, deleted_at: now, updated_at: now })
        .where(and(eq(computeNodes.service_id, service.id), eq(computeNodes.deleted, 0)));
    }
    await tx
      .update(services)
      .set({ deleted: service.id, deleted_at: now, updated_at: now })
      .where(and(eq(services.id, service.id), eq(services.deleted, 0)));
  });
}
