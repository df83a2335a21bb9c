import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Connection } from 'mysql2/promise';

// Migrations are tracked by id (`<release>/<sequence>_<name>`), not by a high-water mark: a
// migration backported to a release branch keeps its id, so a deployment that already ran it on
// the branch neither re-applies nor skips it after upgrading. Every statement is written to be
// re-runnable (IF NOT EXISTS), so a migration that failed half way is simply applied again.
const MIGRATIONS_DIR = new URL('./migrations/', import.meta.url).pathname;
const STATEMENT_BREAK = '--> statement-breakpoint';

export interface MigrationFile {
  id: string;
  statements: string[];
}

function compareReleases(a: string, b: string): number {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const diff = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (diff !== 0) return diff;
  }
  return 0;
}

export async function listMigrations(dir = MIGRATIONS_DIR): Promise<MigrationFile[]> {
  const releases = (await readdir(dir, { withFileTypes: true }))
    .filter((entry) => entry.isDirectory() && /^\d+(\.\d+)*$/.test(entry.name))
    .map((entry) => entry.name)
    .sort(compareReleases);
  const files: MigrationFile[] = [];
  for (const release of releases) {
    const names = (await readdir(join(dir, release))).filter((name) => /^\d{4}_.+\.sql$/.test(name)).sort();
    for (const name of names) {
      const sql = await readFile(join(dir, release, name), 'utf8');
      const statements = sql
        .split(STATEMENT_BREAK)
        .map((statement) => statement.trim())
        .filter((statement) => statement.length > 0);
      files.push({ id: `${release}/${name.replace(/\.sql$/, '')}`, statements });
    }
  }
  return files;
}

async function ensureJournal(connection: Connection): Promise<void> {
  await connection.query(
    'CREATE TABLE IF NOT EXISTS `schema_migrations` (`id` varchar(255) NOT NULL PRIMARY KEY, `applied_at` datetime(3) NOT NULL)',
  );
}

export async function appliedMigrationIds(connection: Connection): Promise<Set<string>> {
  await ensureJournal(connection);
  const [rows] = await connection.query('SELECT id FROM schema_migrations');
  return new Set((rows as Array<{ id: string }>).map((row) => row.id));
}

/** Applies every migration that is not in the journal yet, in release/sequence order. Returns their ids. */
export async function applyMigrations(connection: Connection, dir = MIGRATIONS_DIR): Promise<string[]> {
  const applied = await appliedMigrationIds(connection);
  const newlyApplied: string[] = [];
  for (const migration of await listMigrations(dir)) {
    if (applied.has(migration.id)) continue;
    for (const statement of migration.statements) await connection.query(statement);
    await connection.query('INSERT INTO schema_migrations (id, applied_at) VALUES (?, UTC_TIMESTAMP(3))', [
      migration.id,
    ]);
    newlyApplied.push(migration.id);
  }
  return newlyApplied;
}
