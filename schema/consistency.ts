import { and, eq, sql } from 'drizzle-orm';
import type { PrimaryDb } from './db.ts';
import { replicaFences } from './tables/replica-fences.ts';

// Read-your-writes across asynchronous replicas. After a write the API hands the client the
// primary's replication position (a GTID set); a later read carrying it is served by a replica
// only once that replica has applied the position, else by the primary. MariaDB (the local stand-in)
// and MySQL (PlanetScale/Vitess) name the position and the wait function differently.
//
// Clients that send no token are covered by fences: before answering, a write waits (bounded) for
// every replica to apply it, and fences each replica that did not, here on the primary; a read skips a
// fenced replica until it has applied the fence's position. Every write a client has been answered
// for is thus on each replica or under that replica's fence, and no state lives in a worker.
export type DatabaseFlavor = 'mariadb' | 'mysql';

const POSITION_QUERY = {
  mariadb: sql`SELECT @@GLOBAL.gtid_binlog_pos AS position`,
  mysql: sql`SELECT @@GLOBAL.gtid_executed AS position`,
};

function rows(result: unknown): Array<Record<string, unknown>> {
  return (result as { rows: Array<Record<string, unknown>> }).rows;
}

export async function primaryPosition(primary: PrimaryDb, flavor: DatabaseFlavor): Promise<string> {
  const [row] = rows(await primary.execute(POSITION_QUERY[flavor]));
  return String(row?.position ?? '');
}

/**
 * Whether the replica applies everything up to `position` within `timeoutMs` (0: checks without
 * waiting). The database bounds the wait, and so does the caller's clock, for a replica that does not
 * answer at all (stopped, or its connections all taken by other waits).
 */
export async function replicaReaches(
  replica: PrimaryDb,
  flavor: DatabaseFlavor,
  position: string,
  timeoutMs: number,
): Promise<boolean> {
  if (position === '') return true;
  const seconds = timeoutMs / 1000;
  const wait =
    flavor === 'mariadb'
      ? sql`SELECT MASTER_GTID_WAIT(${position}, ${seconds}) AS outcome`
      : sql`SELECT WAIT_FOR_EXECUTED_GTID_SET(${position}, ${seconds}) AS outcome`;
  // Both return 0 once the position is reached (-1 or 1 on timeout).
  const reached = replica.execute(wait).then((result) => Number(rows(result)[0]?.outcome) === 0);
  if (timeoutMs === 0) return reached;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const givenUp = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), timeoutMs);
  });
  return Promise.race([reached, givenUp]).finally(() => clearTimeout(timer));
}

/** Whether the replica has applied everything up to `position`; checks without waiting. */
export function replicaHasReached(
  replica: PrimaryDb,
  flavor: DatabaseFlavor,
  position: string,
): Promise<boolean> {
  return replicaReaches(replica, flavor, position, 0);
}

/** The fenced replicas (by host) and the position each must reach before it serves reads again. */
export async function fencedReplicas(primary: PrimaryDb): Promise<Map<string, string>> {
  const fences = await primary
    .select({ replica: replicaFences.replica, position: replicaFences.position })
    .from(replicaFences);
  return new Map(fences.map((fence) => [fence.replica, fence.position]));
}

/**
 * Fences `replica` at the primary's current position, which holds every write answered so far, and
 * says whether the replica was unfenced until now. The fence only ever grows: the position is read
 * after the fence it replaces (so it contains that one too), and the replacement is conditional on
 * that fence, so a concurrent fence is never overwritten by a smaller one; the loser reads again.
 */
export async function fenceReplica(
  primary: PrimaryDb,
  flavor: DatabaseFlavor,
  replica: string,
): Promise<{ newlyFenced: boolean }> {
  for (;;) {
    const [current] = await primary
      .select({ position: replicaFences.position })
      .from(replicaFences)
      .where(eq(replicaFences.replica, replica));
    const position = await primaryPosition(primary, flavor);
    if (current?.position === position) return { newlyFenced: false };
    const result = current
      ? await primary
          .update(replicaFences)
          .set({ position, fenced_at: new Date() })
          .where(and(eq(replicaFences.replica, replica), eq(replicaFences.position, current.position)))
      : await primary.insert(replicaFences).ignore().values({ replica, position, fenced_at: new Date() });
    if (result.rowsAffected === 1) return { newlyFenced: current === undefined };
  }
}

/** Lifts the fence the replica has been seen to reach; a fence raised since (another position) stays. */
export async function liftFence(primary: PrimaryDb, replica: string, position: string): Promise<void> {
  await primary
    .delete(replicaFences)
    .where(and(eq(replicaFences.replica, replica), eq(replicaFences.position, position)));
}

export interface ReplicaStatus {
  caught_up: boolean;
  primary_position: string;
  replica_position: string;
}

export async function replicaStatus(
  primary: PrimaryDb,
  replica: PrimaryDb,
  flavor: DatabaseFlavor,
): Promise<ReplicaStatus> {
  const [primaryAt, replicaAt] = await Promise.all([
    primaryPosition(primary, flavor),
    flavor === 'mariadb'
      ? replica
          .execute(sql`SELECT @@GLOBAL.gtid_slave_pos AS position`)
          .then((r) => String(rows(r)[0]?.position ?? ''))
      : primaryPosition(replica, flavor),
  ]);
  return {
    caught_up: await replicaHasReached(replica, flavor, primaryAt),
    primary_position: primaryAt,
    replica_position: replicaAt,
  };
}
