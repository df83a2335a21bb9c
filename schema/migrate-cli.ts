import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { type ConnectionOptions, createConnection } from 'mysql2/promise';
import * as v from 'valibot';
import { applyMigrations, MigrationError, type MigrationStatus, migrationStatus } from './migrate.ts';

// `npm run db:migrate` / `npm run db:status`. Exit codes: 0 done (status: nothing missing or changed),
// 1 a migration failed or status found something missing or changed, 2 bad usage or no database to reach.
const USAGE = [
  'usage: tsx schema/migrate-cli.ts migrate [--dry-run] [--dir <migrations dir>]',
  '       tsx schema/migrate-cli.ts status [--dir <migrations dir>]',
  '',
  'Connects to MYSQL_URL (mysql://user[:password]@host[:port]/database), or when it is unset to the primary',
  'of the local cloud that `npm start` is running (its stack.json in LOCAL_DATA_DIR, default .local).',
].join('\n');
const DEFAULT_DATA_DIR = new URL('../.local/', import.meta.url).pathname;

class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** No database could be reached; the message says what to start or set. */
class TargetError extends Error {
  override readonly name = 'TargetError';
}

const Command = v.variant('command', [
  v.object({
    command: v.literal('migrate'),
    dryRun: v.boolean(),
    dir: v.optional(v.pipe(v.string(), v.minLength(1))),
  }),
  v.object({
    command: v.literal('status'),
    dryRun: v.literal(false, '--dry-run only applies to migrate'),
    dir: v.optional(v.pipe(v.string(), v.minLength(1))),
  }),
]);
type Command = v.InferOutput<typeof Command>;

const MysqlUrl = v.pipe(
  v.string(),
  v.url('MYSQL_URL must be a URL such as mysql://root@127.0.0.1:3306/nova'),
  v.transform((text) => new URL(text)),
  v.check((url) => url.protocol === 'mysql:', 'MYSQL_URL must start with mysql://'),
  v.check(
    (url) => /^\/[A-Za-z0-9_$]+$/.test(url.pathname),
    'MYSQL_URL must name the database: mysql://…/nova',
  ),
  v.check((url) => url.username !== '', 'MYSQL_URL must name the user: mysql://root@…'),
);

const Env = v.object({
  MYSQL_URL: v.optional(MysqlUrl),
  LOCAL_DATA_DIR: v.optional(v.pipe(v.string(), v.minLength(1))),
});

// What `npm start` writes while the local cloud runs; other fields in it are not ours to read.
const StackFile = v.object({
  primary: v.object({
    host: v.pipe(v.string(), v.minLength(1)),
    port: v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(65_535)),
    database: v.pipe(v.string(), v.minLength(1)),
    user: v.pipe(v.string(), v.minLength(1)),
  }),
});

interface Target {
  options: ConnectionOptions;
  /** Where the settings came from, for messages that tell the operator what to fix. */
  source: string;
}

const OPTIONS = { 'dry-run': { type: 'boolean' }, dir: { type: 'string' } } as const;

function parseArgv(argv: string[]) {
  try {
    return parseArgs({ args: argv, allowPositionals: true, options: OPTIONS });
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
}

function parseCommand(argv: string[]): Command {
  const parsed = parseArgv(argv);
  const [command, ...extra] = parsed.positionals;
  if (extra.length > 0) throw new UsageError(`unexpected arguments: ${extra.join(' ')}`);
  const result = v.safeParse(Command, {
    command,
    dryRun: parsed.values['dry-run'] ?? false,
    dir: parsed.values.dir,
  });
  if (!result.success) throw new UsageError(v.summarize(result.issues));
  return result.output;
}

async function localCloudTarget(dataDir: string): Promise<Target> {
  const stackFile = join(dataDir, 'stack.json');
  let text: string;
  try {
    text = await readFile(stackFile, 'utf8');
  } catch {
    throw new TargetError(
      `no database to migrate: MYSQL_URL is not set and ${stackFile} does not exist. ` +
        'Start the local cloud with `npm start` (it writes that file while it runs), or set MYSQL_URL.',
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new TargetError(`${stackFile} is not valid JSON; restart \`npm start\` or set MYSQL_URL`);
  }
  const parsed = v.safeParse(StackFile, json);
  if (!parsed.success) throw new TargetError(`${stackFile} is not valid: ${v.summarize(parsed.issues)}`);
  const { host, port, database, user } = parsed.output.primary;
  return {
    options: { host, port, database, user },
    source: `the local cloud's primary ${host}:${port} (from ${stackFile}; is \`npm start\` still running?)`,
  };
}

async function resolveTarget(env: NodeJS.ProcessEnv): Promise<Target> {
  const parsed = v.safeParse(Env, {
    MYSQL_URL: env.MYSQL_URL || undefined,
    LOCAL_DATA_DIR: env.LOCAL_DATA_DIR || undefined,
  });
  if (!parsed.success) throw new UsageError(v.summarize(parsed.issues));
  const url = parsed.output.MYSQL_URL;
  if (url === undefined) return localCloudTarget(resolve(parsed.output.LOCAL_DATA_DIR ?? DEFAULT_DATA_DIR));
  return {
    options: {
      host: url.hostname,
      port: url.port === '' ? 3306 : Number(url.port),
      user: decodeURIComponent(url.username),
      password: decodeURIComponent(url.password),
      database: url.pathname.slice(1),
    },
    source: `MYSQL_URL (${url.hostname}:${url.port === '' ? 3306 : url.port}${url.pathname})`,
  };
}

function describe(status: MigrationStatus): string {
  const when = status.appliedAt === undefined ? '' : status.appliedAt.toISOString();
  const notes: Record<MigrationStatus['state'], string> = {
    applied: '',
    missing: '  (not applied yet)',
    changed: '  (the file changed after it was applied)',
    unknown: '  (in the journal, but no migration file has this id)',
  };
  const slot = status.inBackportSlot ? '  [backport slot]' : '';
  return `${status.state.padEnd(8)} ${when.padEnd(24)} ${status.id}${slot}${notes[status.state]}`;
}

async function run(argv: string[], env: NodeJS.ProcessEnv): Promise<number> {
  const command = parseCommand(argv);
  const dir = command.dir === undefined ? undefined : resolve(command.dir);
  const target = await resolveTarget(env);
  const connection = await createConnection({ ...target.options, connectTimeout: 5000 }).catch(
    (error: Error) => {
      throw new TargetError(`could not connect to ${target.source}: ${error.message}`);
    },
  );
  try {
    if (command.command === 'status') {
      const statuses = await migrationStatus(connection, dir);
      for (const status of statuses) console.log(describe(status));
      const count = (state: MigrationStatus['state']) =>
        statuses.filter((status) => status.state === state).length;
      console.log(
        `\n${count('applied')} applied, ${count('missing')} missing, ${count('changed')} changed, ${count('unknown')} unknown`,
      );
      return count('missing') > 0 || count('changed') > 0 ? 1 : 0;
    }
    const verb = command.dryRun ? 'would apply' : 'applied';
    const applied = await applyMigrations(connection, {
      dir,
      dryRun: command.dryRun,
      onApplied: (id) => console.log(`${verb} ${id}`),
    });
    if (command.dryRun) for (const id of applied) console.log(`${verb} ${id}`);
    console.log(
      applied.length === 0
        ? 'nothing to apply: every migration is in the journal'
        : `${verb} ${applied.length} migration${applied.length === 1 ? '' : 's'}`,
    );
    return 0;
  } finally {
    await connection.end();
  }
}

run(process.argv.slice(2), process.env).then(
  (code) => process.exit(code),
  (error: Error) => {
    if (error instanceof UsageError) {
      console.error(`${error.message}\n\n${USAGE}`);
      process.exit(2);
    }
    if (error instanceof TargetError) {
      console.error(error.message);
      process.exit(2);
    }
    console.error(error instanceof MigrationError ? error.message : (error.stack ?? error.message));
    process.exit(1);
  },
);
