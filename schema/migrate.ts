import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Connection, RowDataPacket } from 'mysql2/promise';

// Migrations are tracked by id (`<release>/<sequence>_<name>`), not by a high-water mark: a
// migration backported to a release branch keeps its id, so a deployment that already ran it on
// the branch neither re-applies nor skips it after upgrading, and a gap in the numbering (an unused
// backport slot) is just a gap. The rules for writing and backporting are in migrations/README.md.
const MIGRATIONS_DIR = new URL('./migrations/', import.meta.url).pathname;
const STATEMENT_BREAK = '--> statement-breakpoint';

/** The oldest release in the tree: it has no predecessor, so its numbering starts at 0001 with no slots. */
export const FIRST_RELEASE = '2026.1';
/** Every later release keeps 0001..BACKPORT_SLOTS for fixes backported to the release before it. */
export const BACKPORT_SLOTS = 10;

const RELEASE_DIR = /^\d+\.\d+$/;
const MIGRATION_FILE = /^(\d{4})_([a-z0-9_]+)\.sql$/;
// MySQL caps lock names at 64 characters.
const MAX_LOCK_NAME = 64;
const DEFAULT_LOCK_TIMEOUT_SECONDS = 60;

export interface Migration {
  /** `<release>/<NNNN>_<name>`: the key in the journal, identical on every branch that carries the file. */
  id: string;
  release: string;
  sequence: number;
  /** sha256 of the file (line endings normalised), recorded when applied so later edits are noticed. */
  checksum: string;
  statements: string[];
  /** Whether the number lies in the block its release reserves for backports to the previous release. */
  inBackportSlot: boolean;
}

export type MigrationState = 'applied' | 'missing' | 'changed' | 'unknown';

export interface MigrationStatus {
  id: string;
  /**
   * applied: in the journal and the file is unchanged; missing: a file not yet applied; changed: applied,
   * but the file differs from what ran; unknown: in the journal, but no file has that id.
   */
  state: MigrationState;
  appliedAt: Date | undefined;
  inBackportSlot: boolean;
}

export interface ApplyOptions {
  dir?: string;
  /** Report what would be applied without touching the database (not even the journal table). */
  dryRun?: boolean;
  /** How long to wait for another runner on the same database to finish. */
  lockTimeoutSeconds?: number;
  /** Called after each migration is recorded, so a caller can report progress before a later one fails. */
  onApplied?: (id: string) => void;
}

export class MigrationError extends Error {
  override readonly name = 'MigrationError';
  constructor(
    message: string,
    readonly migrationId?: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/** Orders release names numerically, part by part: 2026.1 < 2026.2 < 2026.10 < 2027.1. */
export function compareReleases(a: string, b: string): number {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const diff = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (diff !== 0) return diff;
  }
  return 0;
}

function compareIds(a: string, b: string): number {
  const [releaseA = '', fileA = ''] = a.split('/');
  const [releaseB = '', fileB = ''] = b.split('/');
  return compareReleases(releaseA, releaseB) || fileA.localeCompare(fileB);
}

function checksumOf(sql: string): string {
  // A checkout with CRLF line endings must not look like an edited migration.
  return createHash('sha256').update(sql.replace(/\r\n/g, '\n')).digest('hex');
}

// A chunk holding only comments would be sent as an empty query, which the server rejects.
function containsSql(chunk: string): boolean {
  return chunk.split('\n').some((line) => {
    const trimmed = line.trim();
    return trimmed !== '' && !trimmed.startsWith('--');
  });
}

function splitStatements(sql: string): string[] {
  return sql
    .split(STATEMENT_BREAK)
    .map((statement) => statement.trim())
    .filter(containsSql);
}

async function listRelease(dir: string, release: string): Promise<Migration[]> {
  const bySequence = new Map<number, string>();
  const migrations: Migration[] = [];
  for (const fileName of (await readdir(join(dir, release))).filter((name) => name.endsWith('.sql'))) {
    // A misnamed file would otherwise never run and never show up in the status.
    const match = MIGRATION_FILE.exec(fileName);
    if (match === null) {
      throw new MigrationError(
        `${release}/${fileName} is not named <NNNN>_<lowercase_name>.sql (four digits, then [a-z0-9_])`,
      );
    }
    const sequence = Number(match[1]);
    if (sequence === 0) throw new MigrationError(`${release}/${fileName}: sequence numbers start at 0001`);
    const clash = bySequence.get(sequence);
    if (clash !== undefined) {
      throw new MigrationError(
        `${release}/${fileName} and ${release}/${clash} share sequence number ${match[1]}; renumber one of them`,
      );
    }
    bySequence.set(sequence, fileName);
    const sql = await readFile(join(dir, release, fileName), 'utf8');
    migrations.push({
      id: `${release}/${fileName.slice(0, -'.sql'.length)}`,
      release,
      sequence,
      checksum: checksumOf(sql),
      statements: splitStatements(sql),
      inBackportSlot: compareReleases(release, FIRST_RELEASE) > 0 && sequence <= BACKPORT_SLOTS,
    });
  }
  return migrations.sort((a, b) => a.sequence - b.sequence);
}

/** Every migration file under `dir`, in release order, then sequence order. */
export async function listMigrations(dir = MIGRATIONS_DIR): Promise<Migration[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  const releases: string[] = [];
  for (const entry of entries.filter((candidate) => candidate.isDirectory())) {
    if (!RELEASE_DIR.test(entry.name)) {
      throw new MigrationError(`${join(dir, entry.name)} is not a release directory (<year>.<n>)`);
    }
    releases.push(entry.name);
  }
  const migrations: Migration[] = [];
  for (const release of releases.sort(compareReleases)) migrations.push(...(await listRelease(dir, release)));
  return migrations;
}

interface JournalRow extends RowDataPacket {
  id: string;
  applied_at: string;
  checksum: string | null;
}

interface JournalEntry {
  appliedAt: Date;
  /** Absent for entries written before the journal recorded checksums. */
  checksum: string | undefined;
}

async function currentDatabase(connection: Connection): Promise<string> {
  const [[row]] = await connection.query<RowDataPacket[]>('SELECT DATABASE() AS name');
  const name: unknown = row?.name;
  if (typeof name !== 'string') {
    throw new MigrationError('the connection has no default database; connect with a database selected');
  }
  return name;
}

async function columnsOfJournal(connection: Connection): Promise<Set<string>> {
  const [rows] = await connection.query<RowDataPacket[]>(
    "SELECT COLUMN_NAME AS name FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'schema_migrations'",
  );
  return new Set(rows.map((row) => String(row.name)));
}

async function ensureJournal(connection: Connection): Promise<void> {
  await connection.query(
    'CREATE TABLE IF NOT EXISTS `schema_migrations` (`id` varchar(255) NOT NULL PRIMARY KEY, ' +
      '`applied_at` datetime(3) NOT NULL, `checksum` char(64) NULL)',
  );
  // Journals written by the first runner have no checksum column; MySQL has no ADD COLUMN IF NOT EXISTS.
  if (!(await columnsOfJournal(connection)).has('checksum')) {
    await connection.query('ALTER TABLE `schema_migrations` ADD COLUMN `checksum` char(64) NULL');
  }
}

/** The journal as it stands; empty when the database has never been migrated. Reads only. */
async function readJournal(connection: Connection): Promise<Map<string, JournalEntry>> {
  const columns = await columnsOfJournal(connection);
  if (columns.size === 0) return new Map();
  const checksum = columns.has('checksum') ? '`checksum`' : 'NULL';
  // Formatted by the server so the UTC value does not pass through the client's local time zone.
  const [rows] = await connection.query<JournalRow[]>(
    "SELECT `id`, CONCAT(LEFT(DATE_FORMAT(`applied_at`, '%Y-%m-%dT%H:%i:%s.%f'), 23), 'Z') AS applied_at, " +
      `${checksum} AS checksum FROM \`schema_migrations\``,
  );
  return new Map(
    rows.map((row) => [row.id, { appliedAt: new Date(row.applied_at), checksum: row.checksum ?? undefined }]),
  );
}

/** Ids recorded in the journal (an empty set for a database that was never migrated). */
export async function appliedMigrationIds(connection: Connection): Promise<Set<string>> {
  return new Set((await readJournal(connection)).keys());
}

function lockNameFor(database: string): string {
  const name = `schema_migrations.${database}`;
  if (name.length <= MAX_LOCK_NAME) return name;
  return `schema_migrations.${createHash('sha256').update(database).digest('hex').slice(0, 40)}`;
}

// GET_LOCK is server-wide and held by this session; naming it after the database lets runners for different
// databases on one server proceed in parallel while two runners for the same database queue.
async function withMigrationLock<T>(
  connection: Connection,
  timeoutSeconds: number,
  work: () => Promise<T>,
): Promise<T> {
  const lockName = lockNameFor(await currentDatabase(connection));
  const [[row]] = await connection.query<RowDataPacket[]>('SELECT GET_LOCK(?, ?) AS acquired', [
    lockName,
    timeoutSeconds,
  ]);
  if (row?.acquired !== 1) {
    throw new MigrationError(
      `another migration runner has held the lock ${lockName} for over ${timeoutSeconds} s; ` +
        'wait for it to finish, or find the session holding it (SELECT IS_USED_LOCK(...))',
    );
  }
  try {
    return await work();
  } finally {
    await connection.query('SELECT RELEASE_LOCK(?)', [lockName]);
  }
}

async function runMigration(connection: Connection, migration: Migration): Promise<void> {
  // DDL commits implicitly in MySQL, so a migration cannot be one transaction. Its statements are
  // idempotent instead, and the journal row is written only after the last one succeeded: a failure
  // leaves the id missing, and the next run repeats the statements that already took effect harmlessly.
  for (const [index, statement] of migration.statements.entries()) {
    try {
      await connection.query(statement);
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      throw new MigrationError(
        `migration ${migration.id} failed at statement ${index + 1} of ${migration.statements.length}: ${reason}. ` +
          'It is not recorded as applied; fix the cause (or the file) and run the migrations again.',
        migration.id,
        { cause: error },
      );
    }
  }
  await connection.query(
    'INSERT INTO `schema_migrations` (`id`, `applied_at`, `checksum`) VALUES (?, UTC_TIMESTAMP(3), ?)',
    [migration.id, migration.checksum],
  );
}

// Entries from before the journal kept checksums are trusted as they are now; edits from then on are noticed.
async function recordMissingChecksums(
  connection: Connection,
  journal: Map<string, JournalEntry>,
  migrations: Migration[],
): Promise<void> {
  for (const migration of migrations) {
    if (journal.has(migration.id) && journal.get(migration.id)?.checksum === undefined) {
      await connection.query(
        'UPDATE `schema_migrations` SET `checksum` = ? WHERE `id` = ? AND `checksum` IS NULL',
        [migration.checksum, migration.id],
      );
    }
  }
}

/**
 * Applies every migration whose id is not in the journal, in release/sequence order, one runner per database
 * at a time. Stops at the first failure (throwing MigrationError) with everything before it recorded.
 * Returns the ids applied (or, with `dryRun`, the ids that would be).
 */
export async function applyMigrations(connection: Connection, options: ApplyOptions = {}): Promise<string[]> {
  const migrations = await listMigrations(options.dir ?? MIGRATIONS_DIR);
  if (options.dryRun) {
    const journal = await readJournal(connection);
    return migrations.filter((migration) => !journal.has(migration.id)).map((migration) => migration.id);
  }
  return withMigrationLock(
    connection,
    options.lockTimeoutSeconds ?? DEFAULT_LOCK_TIMEOUT_SECONDS,
    async () => {
      await ensureJournal(connection);
      // Read under the lock: a runner that held it before us may have applied some of these meanwhile.
      const journal = await readJournal(connection);
      await recordMissingChecksums(connection, journal, migrations);
      const applied: string[] = [];
      for (const migration of migrations) {
        if (journal.has(migration.id)) continue;
        await runMigration(connection, migration);
        applied.push(migration.id);
        options.onApplied?.(migration.id);
      }
      return applied;
    },
  );
}

/** Each migration file's state against the journal, in apply order, then journal entries with no file. */
export async function migrationStatus(
  connection: Connection,
  dir = MIGRATIONS_DIR,
): Promise<MigrationStatus[]> {
  const migrations = await listMigrations(dir);
  const journal = await readJournal(connection);
  const statuses: MigrationStatus[] = migrations.map((migration) => {
    const entry = journal.get(migration.id);
    const state: MigrationState =
      entry === undefined
        ? 'missing'
        : entry.checksum !== undefined && entry.checksum !== migration.checksum
          ? 'changed'
          : 'applied';
    return { id: migration.id, state, appliedAt: entry?.appliedAt, inBackportSlot: migration.inBackportSlot };
  });
  const known = new Set(migrations.map((migration) => migration.id));
  const unknown = [...journal.entries()]
    .filter(([id]) => !known.has(id))
    .sort(([a], [b]) => compareIds(a, b))
    .map(
      ([id, entry]): MigrationStatus => ({
        id,
        state: 'unknown',
        appliedAt: entry.appliedAt,
        inBackportSlot: false,
      }),
    );
  return [...statuses, ...unknown];
}
