import { and, eq } from 'drizzle-orm';
import type { PrimaryDb } from '../../../schema/db.ts';
import { aggregateHosts, aggregateMetadata } from '../../../schema/tables/index.ts';

/**
 * The availability zone an aggregate gives each of its hosts (aggregate metadata
 * `availability_zone`); a host in no such aggregate stays in its service's own zone.
 */
export async function aggregateZonesByHost(db: Pick<PrimaryDb, 'select'>): Promise<Map<string, string>> {
  const rows = await db
    .select({ host: aggregateHosts.host, zone: aggregateMetadata.value })
    .from(aggregateHosts)
    .innerJoin(
      aggregateMetadata,
      and(
        eq(aggregateMetadata.aggregate_id, aggregateHosts.aggregate_id),
        eq(aggregateMetadata.key, 'availability_zone'),
        eq(aggregateMetadata.deleted, 0),
      ),
    )
    .where(eq(aggregateHosts.deleted, 0));
  return new Map(rows.map((row) => [row.host, row.zone]));
}

/** Havana's zone for services that run no servers (scheduler, conductor, ...). */
export const INTERNAL_ZONE = 'internal';
export const COMPUTE_BINARY = 'nova-compute';
