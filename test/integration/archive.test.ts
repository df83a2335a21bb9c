import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { DescribeExecutionCommand, SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { getTableName, inArray, sql } from 'drizzle-orm';
import type { MySqlTable } from 'drizzle-orm/mysql-core';
import { afterEach, describe, expect, it } from 'vitest';
import { ARCHIVE_PLAN, archiveDeletedRows, purgeShadowRows } from '../../schema/archive.ts';
import * as tables from '../../schema/tables/index.ts';
import { primaryDb, stackInfo } from '../helpers/api.ts';
import { newInstanceRow } from '../helpers/instance-rows.ts';
import { waitUntil } from '../helpers/wait.ts';

// Every test works in its own distant past (deleted_at in the 1970s) and archives with a cut-off in
// that past, so rows other test files delete today are never in its way, and it cleans up its rows.

const ARCHIVE_STATE_MACHINE = 'arn:aws:states:us-east-1:000000000000:stateMachine:archive-deleted-rows';
const CLI = new URL('../../schema/archive-cli.ts', import.meta.url).pathname;
const execFileAsync = promisify(execFile);

interface Seeded {
  uuid: string;
  actionIds: number[];
}

const seededUuids: string[] = [];

/** An instance with two actions (two events each), a fault and a migration, all history rows live. */
async function seedInstance(
  deletedAt: Date | null,
  options: { deletedFaultAt?: Date } = {},
): Promise<Seeded> {
  const db = primaryDb();
  const uuid = randomUUID();
  seededUuids.push(uuid);
  const created = new Date('1970-06-01T00:00:00Z');
  const [row] = await db
    .insert(tables.instances)
    .values(newInstanceRow({ uuid, vm_state: deletedAt ? 'deleted' : 'active', created_at: created }))
    .$returningId();
  if (!row) throw new Error('instance not inserted');
  if (deletedAt)
    await db
      .update(tables.instances)
      .set({ deleted: row.id, deleted_at: deletedAt })
      .where(inArray(tables.instances.id, [row.id]));
  const actionIds: number[] = [];
  for (const action of ['create', 'delete']) {
    const [inserted] = await db
      .insert(tables.instanceActions)
      .values({
        action,
        instance_uuid: uuid,
        request_id: `req-${randomUUID()}`,
        project_id: 'archive-test',
        user_id: 'archive-test',
        start_time: created,
        created_at: created,
      })
      .$returningId();
    if (!inserted) throw new Error('action not inserted');
    actionIds.push(inserted.id);
    await db.insert(tables.instanceActionEvents).values(
      ['schedule', 'spawn'].map((event) => ({
        action_id: inserted.id,
        event,
        start_time: created,
        created_at: created,
      })),
    );
  }
  await db
    .insert(tables.instanceFaults)
    .values({ instance_uuid: uuid, code: 500, message: 'boom', created_at: created });
  if (options.deletedFaultAt) {
    const [fault] = await db
      .insert(tables.instanceFaults)
      .values({ instance_uuid: uuid, code: 404, message: 'old', created_at: created })
      .$returningId();
    if (fault)
      await db
        .update(tables.instanceFaults)
        .set({ deleted: fault.id, deleted_at: options.deletedFaultAt })
        .where(inArray(tables.instanceFaults.id, [fault.id]));
  }
  await db.insert(tables.migrations).values({
    instance_uuid: uuid,
    migration_type: 'migration',
    status: 'confirmed',
    created_at: created,
  });
  return { uuid, actionIds };
}

type Counts = Record<'instances' | 'actions' | 'events' | 'faults' | 'migrations', number>;

async function countIn(uuids: string[], where: 'live' | 'shadow'): Promise<Counts> {
  const db = primaryDb();
  const live = where === 'live';
  const pick = (liveTable: MySqlTable, shadowTable: MySqlTable) => (live ? liveTable : shadowTable);
  const count = async (query: ReturnType<typeof sql>) =>
    Number(((await db.execute(query)).rows as Array<{ n: number | string }>)[0]?.n ?? 0);
  const list = sql.join(
    uuids.map((uuid) => sql`${uuid}`),
    sql`, `,
  );
  const name = (table: MySqlTable) => sql.identifier(getTableName(table));
  const actionsLive = name(tables.instanceActions);
  const actionsShadow = name(tables.shadowInstanceActions);
  return {
    instances: await count(
      sql`SELECT COUNT(*) AS n FROM ${name(pick(tables.instances, tables.shadowInstances))} WHERE uuid IN (${list})`,
    ),
    actions: await count(
      sql`SELECT COUNT(*) AS n FROM ${live ? actionsLive : actionsShadow} WHERE instance_uuid IN (${list})`,
    ),
    // Events are counted through their actions wherever those are now.
    events: await count(
      sql`SELECT COUNT(*) AS n FROM ${name(pick(tables.instanceActionEvents, tables.shadowInstanceActionEvents))}
        WHERE action_id IN (SELECT id FROM ${actionsLive} WHERE instance_uuid IN (${list})
          UNION SELECT id FROM ${actionsShadow} WHERE instance_uuid IN (${list}))`,
    ),
    faults: await count(
      sql`SELECT COUNT(*) AS n FROM ${name(pick(tables.instanceFaults, tables.shadowInstanceFaults))} WHERE instance_uuid IN (${list})`,
    ),
    migrations: await count(
      sql`SELECT COUNT(*) AS n FROM ${name(pick(tables.migrations, tables.shadowMigrations))} WHERE instance_uuid IN (${list})`,
    ),
  };
}

function sum(a: Counts, b: Counts): Counts {
  return {
    instances: a.instances + b.instances,
    actions: a.actions + b.actions,
    events: a.events + b.events,
    faults: a.faults + b.faults,
    migrations: a.migrations + b.migrations,
  };
}

/** Live rows whose instance is no longer in the live table: what archiving must never leave. */
async function orphans(uuids: string[]): Promise<number> {
  const db = primaryDb();
  const list = sql.join(
    uuids.map((uuid) => sql`${uuid}`),
    sql`, `,
  );
  const result = await db.execute(sql`SELECT
      (SELECT COUNT(*) FROM instance_actions a WHERE a.instance_uuid IN (${list})
         AND NOT EXISTS (SELECT 1 FROM instances i WHERE i.uuid = a.instance_uuid))
    + (SELECT COUNT(*) FROM instance_faults f WHERE f.instance_uuid IN (${list})
         AND NOT EXISTS (SELECT 1 FROM instances i WHERE i.uuid = f.instance_uuid))
    + (SELECT COUNT(*) FROM instance_action_events e WHERE e.action_id IN
         (SELECT id FROM shadow_instance_actions WHERE instance_uuid IN (${list}))) AS n`);
  return Number((result.rows as Array<{ n: number | string }>)[0]?.n ?? 0);
}

afterEach(async () => {
  const uuids = seededUuids.splice(0);
  if (uuids.length === 0) return;
  const db = primaryDb();
  for (const [actions] of [[tables.instanceActions], [tables.shadowInstanceActions]] as const) {
    const ids = (
      await db.select({ id: actions.id }).from(actions).where(inArray(actions.instance_uuid, uuids))
    ).map((row) => row.id);
    if (ids.length === 0) continue;
    await db.delete(tables.instanceActionEvents).where(inArray(tables.instanceActionEvents.action_id, ids));
    await db
      .delete(tables.shadowInstanceActionEvents)
      .where(inArray(tables.shadowInstanceActionEvents.action_id, ids));
  }
  for (const table of [
    tables.instanceActions,
    tables.shadowInstanceActions,
    tables.instanceFaults,
    tables.shadowInstanceFaults,
    tables.migrations,
    tables.shadowMigrations,
  ])
    await db.delete(table).where(inArray(table.instance_uuid, uuids));
  await db.delete(tables.instances).where(inArray(tables.instances.uuid, uuids));
  await db.delete(tables.shadowInstances).where(inArray(tables.shadowInstances.uuid, uuids));
});

describe('archive deleted rows', () => {
  it('lists every table before the table it belongs to', () => {
    const order = ARCHIVE_PLAN.map((entry) => getTableName(entry.live));
    for (const entry of ARCHIVE_PLAN) {
      if (!entry.belongsTo) continue;
      const child = order.indexOf(getTableName(entry.live));
      const parent = order.indexOf(getTableName(entry.belongsTo[1].table));
      expect(parent, `${order[child]} must precede its parent`).toBeGreaterThan(child);
    }
  });

  it('has a shadow with the same columns and no unique key but the primary key for every soft-deletable table', async () => {
    const db = primaryDb();
    const softDeletable = Object.values(tables)
      .filter(
        (value): value is typeof tables.instances =>
          typeof value === 'object' && value !== null && 'deleted_at' in value,
      )
      .map((table) => getTableName(table))
      .filter((name) => !name.startsWith('shadow_'));
    expect(ARCHIVE_PLAN.map((entry) => getTableName(entry.live)).sort()).toEqual(softDeletable.sort());
    const columns = await db.execute(sql`SELECT TABLE_NAME AS t, COLUMN_NAME AS c, COLUMN_TYPE AS type,
        IS_NULLABLE AS nullable, COLUMN_DEFAULT AS dflt FROM information_schema.COLUMNS
      WHERE TABLE_SCHEMA = DATABASE() ORDER BY TABLE_NAME, ORDINAL_POSITION`);
    const byTable = new Map<string, string[]>();
    for (const row of columns.rows as Array<Record<string, string | null>>) {
      const list = byTable.get(String(row.t)) ?? [];
      list.push(`${row.c} ${row.type} ${row.nullable} ${row.dflt}`);
      byTable.set(String(row.t), list);
    }
    for (const entry of ARCHIVE_PLAN) {
      const live = getTableName(entry.live);
      // Order may differ (ALTER TABLE appends); rows are copied by column name.
      expect(byTable.get(`shadow_${live}`)?.sort(), `shadow_${live}`).toEqual(byTable.get(live)?.sort());
    }
    const uniques =
      await db.execute(sql`SELECT DISTINCT TABLE_NAME AS t, INDEX_NAME AS i FROM information_schema.STATISTICS
      WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME LIKE 'shadow\\_%' AND NON_UNIQUE = 0 AND INDEX_NAME <> 'PRIMARY'`);
    expect(uniques.rows).toEqual([]);
  });

  it('moves deleted instances with their history, keeps live rows, and the counts add up', async () => {
    const cutoff = new Date('1971-06-01T00:00:00Z');
    const gone = await seedInstance(new Date('1971-03-01T00:00:00Z'));
    const live = await seedInstance(null, { deletedFaultAt: new Date('1971-02-01T00:00:00Z') });
    const recent = await seedInstance(new Date('1971-09-01T00:00:00Z'));
    const uuids = [gone.uuid, live.uuid, recent.uuid];
    const before = sum(await countIn(uuids, 'live'), await countIn(uuids, 'shadow'));

    const report = await archiveDeletedRows(primaryDb(), { before: cutoff, maxRows: 1000 });

    expect(report.finished).toBe(true);
    expect(report.tables).toMatchObject({
      instances: 1,
      instance_actions: 2,
      instance_action_events: 4,
      instance_faults: 2,
      migrations: 1,
    });
    expect(sum(await countIn(uuids, 'live'), await countIn(uuids, 'shadow'))).toEqual(before);
    expect(await countIn([gone.uuid], 'live')).toEqual({
      instances: 0,
      actions: 0,
      events: 0,
      faults: 0,
      migrations: 0,
    });
    expect(await countIn([live.uuid], 'live')).toEqual({
      instances: 1,
      actions: 2,
      events: 4,
      faults: 1,
      migrations: 1,
    });
    expect(await countIn([recent.uuid], 'live')).toEqual({
      instances: 1,
      actions: 2,
      events: 4,
      faults: 1,
      migrations: 1,
    });
    const liveRowsInShadow = await primaryDb()
      .select({ uuid: tables.shadowInstances.uuid })
      .from(tables.shadowInstances)
      .where(inArray(tables.shadowInstances.uuid, [live.uuid, recent.uuid]));
    expect(liveRowsInShadow).toEqual([]);
  });

  it('never orphans a child when runs stop between batches, and a later run finishes the job', async () => {
    const cutoff = new Date('1972-06-01T00:00:00Z');
    const seeded = [];
    for (let i = 0; i < 4; i++) seeded.push(await seedInstance(new Date('1972-01-01T00:00:00Z')));
    const uuids = seeded.map((instance) => instance.uuid);
    const before = sum(await countIn(uuids, 'live'), await countIn(uuids, 'shadow'));
    let runs = 0;
    for (;;) {
      const report = await archiveDeletedRows(primaryDb(), { before: cutoff, maxRows: 3, batchSize: 2 });
      runs++;
      expect(await orphans(uuids)).toBe(0);
      expect(sum(await countIn(uuids, 'live'), await countIn(uuids, 'shadow'))).toEqual(before);
      if (report.total === 0) break;
      expect(runs).toBeLessThan(100);
    }
    expect(runs).toBeGreaterThan(5);
    expect(await countIn(uuids, 'shadow')).toEqual(before);
  });

  it('rolls back a batch that fails and continues on the next run', async () => {
    const cutoff = new Date('1973-06-01T00:00:00Z');
    const seeded = [];
    for (let i = 0; i < 3; i++) seeded.push(await seedInstance(new Date('1973-01-01T00:00:00Z')));
    const uuids = seeded.map((instance) => instance.uuid);
    const db = primaryDb();
    const before = sum(await countIn(uuids, 'live'), await countIn(uuids, 'shadow'));
    const faults = await db
      .select()
      .from(tables.instanceFaults)
      .where(inArray(tables.instanceFaults.instance_uuid, uuids))
      .orderBy(tables.instanceFaults.id);
    const blocked = faults[1];
    if (!blocked) throw new Error('faults not seeded');
    // A shadow row already holding the second fault's id makes that batch's INSERT fail.
    await db.insert(tables.shadowInstanceFaults).values({ ...blocked, instance_uuid: 'not-an-instance' });

    await expect(archiveDeletedRows(db, { before: cutoff, maxRows: 1000, batchSize: 1 })).rejects.toThrow();
    const stillLive = await db
      .select({ id: tables.instanceFaults.id })
      .from(tables.instanceFaults)
      .where(inArray(tables.instanceFaults.instance_uuid, uuids));
    expect(stillLive.map((row) => row.id)).toContain(blocked.id);
    expect(await orphans(uuids)).toBe(0);
    expect(sum(await countIn(uuids, 'live'), await countIn(uuids, 'shadow'))).toEqual(before);

    await db
      .delete(tables.shadowInstanceFaults)
      .where(inArray(tables.shadowInstanceFaults.instance_uuid, ['not-an-instance']));
    const report = await archiveDeletedRows(db, { before: cutoff, maxRows: 1000, batchSize: 1 });
    expect(report.finished).toBe(true);
    expect(await countIn(uuids, 'shadow')).toEqual(before);
  });

  it('purges shadow rows deleted before the retention, with the history archived alongside them', async () => {
    const old = await seedInstance(new Date('1974-01-01T00:00:00Z'));
    const newer = await seedInstance(new Date('1974-09-01T00:00:00Z'));
    const db = primaryDb();
    await archiveDeletedRows(db, { before: new Date('1975-01-01T00:00:00Z'), maxRows: 1000 });
    const archived = await countIn([newer.uuid], 'shadow');

    const report = await purgeShadowRows(db, { before: new Date('1974-06-01T00:00:00Z'), maxRows: 1000 });

    expect(report.finished).toBe(true);
    expect(report.tables).toMatchObject({
      instances: 1,
      instance_actions: 2,
      instance_action_events: 4,
      instance_faults: 1,
    });
    expect(await countIn([old.uuid], 'shadow')).toEqual({
      instances: 0,
      actions: 0,
      events: 0,
      faults: 0,
      migrations: 0,
    });
    expect(await countIn([newer.uuid], 'shadow')).toEqual(archived);
  });

  it('runs as a CLI that prints the rows moved per table', async () => {
    await seedInstance(new Date('1976-01-01T00:00:00Z'));
    const { stdout } = await execFileAsync(
      process.execPath,
      ['--import', 'tsx', CLI, '--max-rows', '100', '--before', '1976-06-01'],
      { env: { ...process.env, DATABASE_URL: stackInfo().database.primaryUrl } },
    );
    expect(stdout).toMatch(/^\s*instances\s+1$/m);
    expect(stdout).toMatch(/^\s*instance_action_events\s+4$/m);
    expect(stdout).toMatch(/^\s*key_pairs\s+0$/m);
  });

  it('tells the operator what to do when it finds no database', async () => {
    const emptyDir = await mkdtemp(join(tmpdir(), 'archive-cli-'));
    try {
      const env: Record<string, string | undefined> = { ...process.env, LOCAL_DATA_DIR: emptyDir };
      delete env.DATABASE_URL;
      const failure = await execFileAsync(
        process.execPath,
        ['--import', 'tsx', CLI, '--max-rows', '1', '--before', '1977-01-01'],
        { env },
      ).then(
        () => undefined,
        (error: { code: number; stderr: string }) => error,
      );
      expect(failure?.code).not.toBe(0);
      expect(failure?.stderr).toMatch(/DATABASE_URL.*npm start/s);
    } finally {
      await rm(emptyDir, { recursive: true, force: true });
    }
  });

  it('runs as the archive-deleted-rows workflow, looping until nothing is left', async () => {
    const seeded = [];
    for (let i = 0; i < 2; i++) seeded.push(await seedInstance(new Date('1978-01-01T00:00:00Z')));
    const uuids = seeded.map((instance) => instance.uuid);
    const before = sum(await countIn(uuids, 'live'), await countIn(uuids, 'shadow'));
    const sfn = new SFNClient({
      region: 'us-east-1',
      endpoint: stackInfo().sfnEndpoint,
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    });
    const started = await sfn.send(
      new StartExecutionCommand({
        stateMachineArn: ARCHIVE_STATE_MACHINE,
        input: JSON.stringify({
          before: '1978-06-01T00:00:00.000Z',
          purge_before: '1977-01-01T00:00:00.000Z',
          rows_per_step: 5,
          batch_size: 3,
        }),
      }),
    );
    const description = await waitUntil(
      'the archive execution to end',
      () => sfn.send(new DescribeExecutionCommand({ executionArn: started.executionArn })),
      { timeoutMs: 30_000, intervalMs: 100, until: (execution) => execution.status !== 'RUNNING' },
    );
    expect(description.status).toBe('SUCCEEDED');
    const output = JSON.parse(description.output ?? '{}') as {
      run: { archived: Record<string, number>; archived_total: number };
    };
    expect(output.run.archived).toMatchObject({
      instances: 2,
      instance_actions: 4,
      instance_action_events: 8,
    });
    expect(await countIn(uuids, 'shadow')).toEqual(before);
  });
});
