import { sql } from 'drizzle-orm';
import type { PrimaryDb } from './db.ts';

// Read-your-writes across asynchronous replicas. After a write the API hands the client the
// primary's replication position (a GTID set); a later read carrying it is served by a replica
// only once that replica has applied the position, else by the primary. MariaDB (the local stand-in)
// and MySQL (PlanetScale/Vitess) name the position and the wait function differently.
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

/** Whether the replica has applied everything up to `position`; checks without waiting. */
export async function replicaHasReached(
  replica: PrimaryDb,
  flavor: DatabaseFlavor,
  position: string,
): Promise<boolean> {
  if (position === '') return true;
  const check =
    flavor === 'mariadb'
      ? sql`SELECT MASTER_GTID_WAIT(${position}, 0) AS outcome`
      : sql`SELECT WAIT_FOR_EXECUTED_GTID_SET(${position}, 0) AS outcome`;
  const [row] = rows(await replica.execute(check));
  // Both return 0 once the position is reached (-1 or 1 on timeout).
  return Number(row?.outcome) === 0;
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
