import { type SQL, sql } from 'drizzle-orm';
import type { PrimaryDb } from '../../schema/db.ts';

// A share lock on the rows a SELECT reads, held until the transaction ends: other transactions that
// share-lock them go on together, one that writes them waits for every holder (and holders that come
// after it wait for it). Port creates lock their network and subnets this way, so that a delete or a
// change of pools is never half-seen by a create. MariaDB (10.11, our local database) has no
// `FOR SHARE`, which is what Drizzle's `.for('share')` writes; `LOCK IN SHARE MODE` works in both
// MariaDB and MySQL 8. Write the SELECT with an alias per column: rows come back keyed by them.

type Executor = Pick<PrimaryDb, 'execute'>;

export async function selectInShareMode(tx: Executor, select: SQL): Promise<Array<Record<string, unknown>>> {
  const result = await tx.execute(sql`${select} LOCK IN SHARE MODE`);
  return (result as unknown as { rows: Array<Record<string, unknown>> }).rows;
}
