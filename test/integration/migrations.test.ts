import { execFile } from 'node:child_process';
import { cp, mkdtemp, rm, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { type Connection, createConnection, type RowDataPacket } from 'mysql2/promise';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../infra/local/free-port.ts';
import { ensureMariaDbInstalled, type MariaDbServer, startMariaDb } from '../../infra/local/mariadb.ts';
import {
  appliedMigrationIds,
  applyMigrations,
  compareReleases,
  listMigrations,
  MigrationError,
  migrationStatus,
} from '../../schema/migrate.ts';

const execFileAsync = promisify(execFile);
const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
const serverDir = join(repoRoot, '.local', `test-migrations-${process.pid}`);
const fixtures = join(repoRoot, 'test', 'fixtures', 'migrations');
const tree = (name: string) => join(fixtures, name);
const cliPath = join(repoRoot, 'schema', 'migrate-cli.ts');

let server: MariaDbServer;
let databaseCount = 0;
const openConnections: Connection[] = [];

beforeAll(async () => {
  await ensureMariaDbInstalled();
  await rm(serverDir, { recursive: true, force: true });
  server = await startMariaDb({ dir: serverDir, serverId: 1, port: await freePort() });
}, 60_000);

afterEach(async () => {
  await Promise.all(openConnections.splice(0).map((connection) => connection.end()));
});

afterAll(async () => {
  await server?.stop();
  await rm(serverDir, { recursive: true, force: true });
}, 60_000);

function connect(database: string): Promise<Connection> {
  return createConnection({ host: '127.0.0.1', port: server.port, user: 'root', database }).then(
    (connection) => {
      openConnections.push(connection);
      return connection;
    },
  );
}

/** A new empty database (each case is its own deployment) and a connection to it. */
async function freshDatabase(): Promise<{ database: string; connection: Connection }> {
  const database = `migrations_${++databaseCount}`;
  const admin = await createConnection({ host: '127.0.0.1', port: server.port, user: 'root' });
  await admin.query(`CREATE DATABASE \`${database}\``);
  await admin.end();
  return { database, connection: await connect(database) };
}

/** How often each fixture migration's body ran (each logs one row, on purpose not idempotently). */
async function runCounts(connection: Connection): Promise<Record<string, number>> {
  const [rows] = await connection.query<RowDataPacket[]>(
    'SELECT id, COUNT(*) AS runs FROM migration_runs GROUP BY id ORDER BY MIN(seq)',
  );
  return Object.fromEntries(rows.map((row) => [String(row.id), Number(row.runs)]));
}

async function columnsOf(connection: Connection, table: string): Promise<string[]> {
  const [rows] = await connection.query<RowDataPacket[]>(
    'SELECT COLUMN_NAME AS name FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ? ORDER BY ORDINAL_POSITION',
    [table],
  );
  return rows.map((row) => String(row.name));
}

/** A private copy of a fixture tree, for cases that edit files the way a developer would. */
async function copyOfTree(name: string): Promise<string> {
  const dir = await mkdtemp(join(serverDir, `tree-${name}-`));
  await cp(tree(name), dir, { recursive: true });
  return dir;
}

const RELEASE_2026_1 = [
  '2026.1/0001_create_widgets',
  '2026.1/0002_seed_widgets',
  '2026.1/0003_widgets_name_index',
];
const BACKPORT = '2026.2/0001_widgets_add_colour';
const WORK_2026_2 = ['2026.2/0011_create_gadgets', '2026.2/0012_seed_gadgets'];

describe('migration ordering', () => {
  it('compares releases numerically, not as text', () => {
    expect(['2027.1', '2026.10', '2026.2', '2026.1'].sort(compareReleases)).toEqual([
      '2026.1',
      '2026.2',
      '2026.10',
      '2027.1',
    ]);
  });

  it('lists a tree in release then sequence order and marks the backport slots', async () => {
    const migrations = await listMigrations(tree('main-2026.2-later'));
    expect(migrations.map((migration) => migration.id)).toEqual([
      ...RELEASE_2026_1,
      BACKPORT,
      '2026.2/0002_widgets_add_weight',
      ...WORK_2026_2,
      '2026.2/0013_gadgets_colour_index',
    ]);
    expect(
      migrations.filter((migration) => migration.inBackportSlot).map((migration) => migration.id),
    ).toEqual([BACKPORT, '2026.2/0002_widgets_add_weight']);
  });

  it('refuses two migrations with the same number in one release', async () => {
    const dir = await copyOfTree('main-2026.2');
    await writeFile(join(dir, '2026.2', '0011_also_eleven.sql'), 'SELECT 1;\n');
    await expect(listMigrations(dir)).rejects.toThrow(/share sequence number 0011/);
  });
});

describe('release upgrades with a backported migration', () => {
  it('(a) main: a fresh deployment gets 2026.1, then the backport slot, then 2026.2 work', async () => {
    const { connection } = await freshDatabase();
    expect(await applyMigrations(connection, { dir: tree('main-2026.1') })).toEqual(RELEASE_2026_1);
    expect(await applyMigrations(connection, { dir: tree('main-2026.2') })).toEqual([
      BACKPORT,
      ...WORK_2026_2,
    ]);
    const [gadgets] = await connection.query<RowDataPacket[]>('SELECT id, colour FROM gadgets ORDER BY id');
    expect(gadgets).toEqual([
      { id: 1, colour: 'grey' },
      { id: 2, colour: 'grey' },
    ]);
  });

  it('(b) a stable/2026.1 deployment that ran the backport upgrades to main without re-running or skipping it', async () => {
    const { connection } = await freshDatabase();
    expect(await applyMigrations(connection, { dir: tree('main-2026.1') })).toEqual(RELEASE_2026_1);
    // The point release of stable/2026.1 carries the 2026.2 fix under its 2026.2 id.
    expect(await applyMigrations(connection, { dir: tree('stable-2026.1') })).toEqual([BACKPORT]);
    expect(await columnsOf(connection, 'widgets')).toContain('colour');

    expect(await applyMigrations(connection, { dir: tree('main-2026.2') })).toEqual(WORK_2026_2);
    expect(await runCounts(connection)).toEqual(
      Object.fromEntries([...RELEASE_2026_1, BACKPORT, ...WORK_2026_2].map((id) => [id, 1])),
    );
    const statuses = await migrationStatus(connection, tree('main-2026.2'));
    expect(statuses.map((status) => status.state)).toEqual(Array(statuses.length).fill('applied'));

    // A later backport lands in slot 0002, below numbers that already ran: a gap is not a high-water mark.
    expect(await applyMigrations(connection, { dir: tree('main-2026.2-later') })).toEqual([
      '2026.2/0002_widgets_add_weight',
      '2026.2/0013_gadgets_colour_index',
    ]);
    expect(await columnsOf(connection, 'widgets')).toEqual(['id', 'name', 'colour', 'weight_g']);
    expect(Object.values(await runCounts(connection))).toEqual(Array(8).fill(1));
  });

  it('(c) a deployment that skipped the stable update upgrades straight to main and gets everything once', async () => {
    const { connection } = await freshDatabase();
    await applyMigrations(connection, { dir: tree('main-2026.1') });
    expect(await applyMigrations(connection, { dir: tree('main-2026.2-later') })).toEqual([
      BACKPORT,
      '2026.2/0002_widgets_add_weight',
      ...WORK_2026_2,
      '2026.2/0013_gadgets_colour_index',
    ]);
    expect(await runCounts(connection)).toEqual(
      Object.fromEntries((await listMigrations(tree('main-2026.2-later'))).map(({ id }) => [id, 1])),
    );
    expect(await applyMigrations(connection, { dir: tree('main-2026.2-later') })).toEqual([]);
  });

  it('a dry run lists what would be applied and changes nothing', async () => {
    const { connection } = await freshDatabase();
    await applyMigrations(connection, { dir: tree('stable-2026.1') });
    expect(await applyMigrations(connection, { dir: tree('main-2026.2'), dryRun: true })).toEqual(
      WORK_2026_2,
    );
    expect(await appliedMigrationIds(connection)).toEqual(new Set([...RELEASE_2026_1, BACKPORT]));
    expect(await columnsOf(connection, 'gadgets')).toEqual([]);
  });
});

describe('a migration that fails half way', () => {
  it('(d) is not recorded, stops the run, and completes when run again after the fix', async () => {
    const { connection } = await freshDatabase();
    const failure = await applyMigrations(connection, { dir: tree('half-failing') }).catch(
      (error: unknown) => error,
    );
    expect(failure).toBeInstanceOf(MigrationError);
    expect((failure as MigrationError).migrationId).toBe('2026.1/0001_create_parts');
    expect((failure as MigrationError).message).toMatch(/statement 2 of 2.*nme/s);
    // The first statement took effect, but neither migration is in the journal.
    expect(await columnsOf(connection, 'parts')).toEqual(['id', 'name']);
    expect(await appliedMigrationIds(connection)).toEqual(new Set());
    expect((await migrationStatus(connection, tree('half-failing'))).map((status) => status.state)).toEqual([
      'missing',
      'missing',
    ]);

    expect(await applyMigrations(connection, { dir: tree('half-failing-fixed') })).toEqual([
      '2026.1/0001_create_parts',
      '2026.1/0002_parts_name_index',
    ]);
    const [parts] = await connection.query<RowDataPacket[]>('SELECT id, name FROM parts');
    expect(parts).toEqual([{ id: 1, name: 'bolt' }]);
  });
});

describe('status', () => {
  it('(e) reports applied, missing, changed and unknown migrations', async () => {
    const { connection } = await freshDatabase();
    const dir = await copyOfTree('main-2026.2');
    await applyMigrations(connection, { dir });
    await writeFile(
      join(dir, '2026.2', '0011_create_gadgets.sql'),
      'CREATE TABLE IF NOT EXISTS `gadgets` (`id` int NOT NULL PRIMARY KEY);\n',
    );
    await unlink(join(dir, '2026.2', '0012_seed_gadgets.sql'));
    await writeFile(join(dir, '2026.2', '0013_more.sql'), 'SELECT 1;\n');

    const byId = Object.fromEntries(
      (await migrationStatus(connection, dir)).map((status) => [status.id, status]),
    );
    expect(Object.fromEntries(Object.entries(byId).map(([id, status]) => [id, status.state]))).toEqual({
      ...Object.fromEntries([...RELEASE_2026_1, BACKPORT].map((id) => [id, 'applied'])),
      '2026.2/0011_create_gadgets': 'changed',
      '2026.2/0013_more': 'missing',
      '2026.2/0012_seed_gadgets': 'unknown',
    });
    expect(byId[BACKPORT]?.appliedAt).toBeInstanceOf(Date);
    expect(byId['2026.2/0013_more']?.appliedAt).toBeUndefined();
  });

  it('adopts a journal written before checksums were recorded without re-applying anything', async () => {
    const { connection } = await freshDatabase();
    await applyMigrations(connection, { dir: tree('main-2026.1') });
    await connection.query('ALTER TABLE schema_migrations DROP COLUMN checksum');
    expect(await applyMigrations(connection, { dir: tree('main-2026.2') })).toEqual([
      BACKPORT,
      ...WORK_2026_2,
    ]);
    expect(Object.values(await runCounts(connection))).toEqual(Array(6).fill(1));
    const [unrecorded] = await connection.query<RowDataPacket[]>(
      'SELECT id FROM schema_migrations WHERE checksum IS NULL',
    );
    expect(unrecorded).toEqual([]);
  });
});

describe('concurrent runners', () => {
  it('(f) two runners on one database apply each migration exactly once', async () => {
    const { database, connection: first } = await freshDatabase();
    const second = await connect(database);
    const dir = tree('main-2026.2-later');
    const [a, b] = await Promise.all([applyMigrations(first, { dir }), applyMigrations(second, { dir })]);
    const all = (await listMigrations(dir)).map(({ id }) => id);
    expect([...a, ...b].sort()).toEqual([...all].sort());
    expect(Object.values(await runCounts(first))).toEqual(Array(all.length).fill(1));
  });
});

describe('the real schema/migrations tree', () => {
  it('applies to an empty database, and a second run is a no-op', async () => {
    const { connection } = await freshDatabase();
    const ids = (await listMigrations()).map(({ id }) => id);
    expect(ids.length).toBeGreaterThan(0);
    expect(await applyMigrations(connection)).toEqual(ids);
    expect(await applyMigrations(connection)).toEqual([]);
    const statuses = await migrationStatus(connection);
    expect(statuses.filter((status) => status.state !== 'applied')).toEqual([]);
  });

  it('is re-runnable: every migration applies again over its own result, as after a half-way failure', async () => {
    const { connection } = await freshDatabase();
    const ids = (await listMigrations()).map(({ id }) => id);
    await applyMigrations(connection);
    await connection.query('DELETE FROM schema_migrations');
    expect(await applyMigrations(connection)).toEqual(ids);
    const [flavors] = await connection.query<RowDataPacket[]>(
      'SELECT flavorid, COUNT(*) AS copies FROM flavors GROUP BY flavorid HAVING COUNT(*) > 1',
    );
    expect(flavors).toEqual([]);
  });
});

describe('db:migrate and db:status CLI', () => {
  const runCli = async (args: string[], env: Record<string, string>) => {
    try {
      const { stdout } = await execFileAsync(process.execPath, ['--import', 'tsx', cliPath, ...args], {
        cwd: repoRoot,
        env: { ...process.env, MYSQL_URL: '', ...env },
      });
      return { code: 0, stdout, stderr: '' };
    } catch (error) {
      const failed = error as { code: number; stdout: string; stderr: string };
      return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
    }
  };

  it('migrates, then gates on status: non-zero while something is missing or changed', async () => {
    const { database } = await freshDatabase();
    const env = { MYSQL_URL: `mysql://root@127.0.0.1:${server.port}/${database}` };
    const dir = await copyOfTree('stable-2026.1');

    const migrate = await runCli(['migrate', '--dir', dir], env);
    expect(migrate.code).toBe(0);
    expect(migrate.stdout).toContain(`applied ${BACKPORT}`);
    expect((await runCli(['status', '--dir', dir], env)).code).toBe(0);

    await writeFile(join(dir, '2026.2', '0011_create_gadgets.sql'), 'SELECT 1;\n');
    const status = await runCli(['status', '--dir', dir], env);
    expect(status.code).toBe(1);
    expect(status.stdout).toMatch(/missing\s+2026\.2\/0011_create_gadgets/);
    expect(status.stdout).toMatch(/applied\s+\S+\s+2026\.2\/0001_widgets_add_colour\s+\[backport slot\]/);
  });

  it('says how to get a database when neither MYSQL_URL nor a running local cloud is there', async () => {
    const emptyDataDir = await mkdtemp(join(serverDir, 'no-stack-'));
    const result = await runCli(['status'], { LOCAL_DATA_DIR: emptyDataDir });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/npm start/);
    expect(result.stderr).toMatch(/MYSQL_URL/);
  });

  it('rejects an unknown command with the usage', async () => {
    const result = await runCli(['upgrade'], {});
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/usage: tsx schema\/migrate-cli\.ts migrate/);
  });
});
