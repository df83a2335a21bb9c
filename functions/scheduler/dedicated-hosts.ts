import { and, eq, inArray, ne, or, sql } from 'drizzle-orm';
import type { PrimaryDb } from '../../schema/db.ts';
import {
  aggregateHosts,
  aggregates,
  computeNodes,
  dedicatedHosts,
  instances,
  resourceClaims,
} from '../../schema/tables/index.ts';
import { Conflict, NotFound } from '../shared/errors.ts';
import { selectHosts } from './host-query.ts';
import { refreshHostPlacementFacts, writeHostPlacementFacts } from './placement-facts.ts';

export interface DedicationTarget {
  project_id: string;
  host?: string;
  /** Aggregate name or uuid: every host in it, now and later. */
  aggregate?: string;
}

async function resolveTarget(db: PrimaryDb, target: DedicationTarget) {
  if (target.host !== undefined) {
    const [node] = await db
      .select({ id: computeNodes.id })
      .from(computeNodes)
      .where(and(eq(computeNodes.host, target.host), eq(computeNodes.deleted, 0)))
      .limit(1);
    if (!node) throw new NotFound(`Compute host ${target.host} could not be found.`);
    return { aggregateId: null, hosts: [target.host] };
  }
  const name = target.aggregate ?? '';
  const [aggregate] = await db
    .select({ id: aggregates.id })
    .from(aggregates)
    .where(and(or(eq(aggregates.name, name), eq(aggregates.uuid, name)), eq(aggregates.deleted, 0)));
  if (!aggregate) throw new NotFound(`Aggregate ${name} could not be found.`);
  const members = await db
    .select({ host: aggregateHosts.host })
    .from(aggregateHosts)
    .where(and(eq(aggregateHosts.aggregate_id, aggregate.id), eq(aggregateHosts.deleted, 0)));
  return { aggregateId: aggregate.id, hosts: members.map((member) => member.host) };
}

/**
 * Dedicates a host (or an aggregate's hosts) to one project. In one transaction it first bumps the
 * generation of every node concerned, which locks them and makes any claim decided before now re-check
 * under its lock; only then does it look for other projects' servers (claims included, so a boot that is
 * still spawning counts), and refuses with 409 naming them.
 */
export async function dedicate(db: PrimaryDb, target: DedicationTarget) {
  const { aggregateId, hosts } = await resolveTarget(db, target);
  return db.transaction(async (tx) => {
    if (hosts.length > 0) {
      await tx
        .update(computeNodes)
        .set({ generation: sql`${computeNodes.generation} + 1` })
        .where(and(inArray(computeNodes.host, hosts), eq(computeNodes.deleted, 0)));
      const alreadyDedicated = (await selectHosts(tx, { where: inArray(computeNodes.host, hosts) })).filter(
        (host) => host.dedicated_to !== null && host.dedicated_to !== target.project_id,
      );
      if (alreadyDedicated.length > 0)
        throw new Conflict(
          `Host ${alreadyDedicated.map((host) => `${host.host} is dedicated to project ${host.dedicated_to}`).join(', ')}`,
        );
      const claimedThere = tx
        .select({ uuid: resourceClaims.instance_uuid })
        .from(resourceClaims)
        .innerJoin(computeNodes, eq(computeNodes.id, resourceClaims.compute_node_id))
        .where(inArray(computeNodes.host, hosts));
      const others = await tx
        .select({ uuid: instances.uuid, project_id: instances.project_id, host: instances.host })
        .from(instances)
        .where(
          and(
            eq(instances.deleted, 0),
            ne(instances.project_id, target.project_id),
            or(inArray(instances.host, hosts), inArray(instances.uuid, claimedThere)),
          ),
        )
        .orderBy(instances.uuid);
      if (others.length > 0)
        throw new Conflict(
          `Cannot dedicate ${target.host ?? target.aggregate} to project ${target.project_id} while other projects' servers are there: ${others
            .map((server) => `${server.uuid} (project ${server.project_id})`)
            .join(', ')}`,
        );
    }
    const now = new Date();
    const [created] = await tx
      .insert(dedicatedHosts)
      .values({
        project_id: target.project_id,
        host: target.host ?? null,
        aggregate_id: aggregateId,
        created_at: now,
      })
      .$returningId();
    if (!created) throw new Conflict('the dedication was not recorded');
    await writeHostPlacementFacts(tx, hosts);
    return {
      id: created.id,
      project_id: target.project_id,
      host: target.host ?? null,
      aggregate_id: aggregateId,
      hosts,
    };
  });
}

/** Ends a dedication; the hosts take every project again. */
export async function undedicate(db: PrimaryDb, id: number): Promise<void> {
  const hosts = await db.transaction(async (tx) => {
    const [dedication] = await tx
      .select()
      .from(dedicatedHosts)
      .where(and(eq(dedicatedHosts.id, id), eq(dedicatedHosts.deleted, 0)))
      .for('update');
    if (!dedication) throw new NotFound(`Dedication ${id} could not be found.`);
    await tx
      .update(dedicatedHosts)
      .set({ deleted: id, deleted_at: new Date() })
      .where(eq(dedicatedHosts.id, id));
    if (dedication.host !== null) return [dedication.host];
    const members = await tx
      .select({ host: aggregateHosts.host })
      .from(aggregateHosts)
      .where(
        and(eq(aggregateHosts.aggregate_id, dedication.aggregate_id ?? 0), eq(aggregateHosts.deleted, 0)),
      );
    return members.map((member) => member.host);
  });
  await refreshHostPlacementFacts(db, hosts);
}
