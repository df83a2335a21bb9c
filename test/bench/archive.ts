import { randomBytes } from 'node:crypto';
import { sql } from 'drizzle-orm';
import { archiveDeletedRows, purgeShadowRows } from '../../schema/archive.ts';
import { createDatabase } from '../../schema/db.ts';
import { type Figure, round } from './stats.ts';

// Archive rate over 100k deleted instances, each with one action (two events) and one fault: the
// rows are generated inside the database (a digits cross join), deleted in a year no real row has
// (1985), archived with a cut-off in that year, then purged again, which is also the clean-up.
const INSTANCES = 100_000;
const DELETED_AT = '1985-01-01 00:00:00.000';
const CUT_OFF = new Date('1986-01-01T00:00:00Z');

const digits = sql.raw(
  `(SELECT 0 d UNION ALL SELECT 1 UNION ALL SELECT 2 UNION ALL SELECT 3 UNION ALL SELECT 4
    UNION ALL SELECT 5 UNION ALL SELECT 6 UNION ALL SELECT 7 UNION ALL SELECT 8 UNION ALL SELECT 9)`,
);

export async function archiveBench(ctx: { primaryUrl: string }): Promise<Figure[]> {
  const db = createDatabase({ primary: ctx.primaryUrl, replicas: [] }).$primary;
  const marker = `bench-archive-${randomBytes(4).toString('hex')}`;
  await db.execute(sql`INSERT INTO instances (uuid, project_id, user_id, display_name, image_ref, flavor, vm_state,
      metadata, reservation_id, created_at, deleted_at, deleted)
    SELECT CONCAT(${marker}, '-', n), ${marker}, ${marker}, CONCAT('bench-', n), 'image', '{}', 'deleted', '{}',
      'r-bench', ${DELETED_AT}, ${DELETED_AT}, 1
    FROM (SELECT a.d + 10 * b.d + 100 * c.d + 1000 * e.d + 10000 * f.d AS n
      FROM ${digits} a, ${digits} b, ${digits} c, ${digits} e, ${digits} f) numbers
    WHERE n < ${INSTANCES}`);
  // deleted = id, as a real soft delete leaves it.
  await db.execute(sql`UPDATE instances SET deleted = id WHERE project_id = ${marker}`);
  await db.execute(sql`INSERT INTO instance_actions (action, instance_uuid, request_id, project_id, user_id,
      start_time, created_at)
    SELECT 'delete', uuid, CONCAT('req-', uuid), project_id, user_id, created_at, created_at
    FROM instances WHERE project_id = ${marker}`);
  await db.execute(sql`INSERT INTO instance_action_events (action_id, event, start_time, created_at)
    SELECT a.id, e.event, a.start_time, a.created_at FROM instance_actions a,
      (SELECT 'compute_terminate_instance' AS event UNION ALL SELECT 'release_claims') e
    WHERE a.project_id = ${marker}`);
  await db.execute(sql`INSERT INTO instance_faults (instance_uuid, code, message, created_at)
    SELECT uuid, 500, 'bench fault', created_at FROM instances WHERE project_id = ${marker}`);

  const started = performance.now();
  const archived = await archiveDeletedRows(db, {
    before: CUT_OFF,
    maxRows: Number.POSITIVE_INFINITY,
    batchSize: 1000,
  });
  const archiveSeconds = (performance.now() - started) / 1000;
  const purgeStarted = performance.now();
  const purged = await purgeShadowRows(db, {
    before: CUT_OFF,
    maxRows: Number.POSITIVE_INFINITY,
    batchSize: 1000,
  });
  const purgeSeconds = (performance.now() - purgeStarted) / 1000;
  const rows = (report: { tables: Record<string, number> }) =>
    `${report.tables.instances} instances, ${report.tables.instance_actions} actions, ${report.tables.instance_action_events} events, ${report.tables.instance_faults} faults`;
  return [
    {
      name: 'archive rate (100k deleted instances)',
      value: round(archived.total / archiveSeconds, 0),
      unit: 'rows/s',
      detail: `${archived.total} rows (${rows(archived)}) in ${round(archiveSeconds, 1)} s, batches of 1000, through the PlanetScale HTTP bridge`,
    },
    {
      name: 'purge rate (same rows from shadow tables)',
      value: round(purged.total / purgeSeconds, 0),
      unit: 'rows/s',
      detail: `${purged.total} rows in ${round(purgeSeconds, 1)} s, batches of 1000`,
    },
  ];
}
