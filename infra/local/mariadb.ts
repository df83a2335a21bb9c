import { execFile, spawn } from 'node:child_process';
import { mkdir, readdir, readFile, rename, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { type Connection, createConnection, type RowDataPacket } from 'mysql2/promise';
import { ensureDebianPackage, findExecutable } from './debian-packages.ts';
import { freePort } from './free-port.ts';

const execFileAsync = promisify(execFile);

const SERVER_BINARY = 'mariadbd';
const INSTALL_DB_BINARY = 'mariadb-install-db';

const READY_TIMEOUT_MS = 30_000;
// InnoDB flushes on a clean shutdown; give it time before falling back to SIGKILL.
const STOP_TIMEOUT_MS = 30_000;
const REPLICATION_TIMEOUT_MS = 15_000;
const POLL_INTERVAL_MS = 50;
// The kernel limit for a unix socket path (sun_path) is 108 bytes including the terminator.
const MAX_SOCKET_PATH_BYTES = 107;

const REPLICATION_USER = 'repl';
const REPLICATION_PASSWORD = 'repl';

export interface MariaDbServer {
  readonly port: number;
  readonly dir: string;
  stop(): Promise<void>;
}

export interface DatabasePair {
  primary: MariaDbServer;
  replica: MariaDbServer;
  database: string;
  stop(): Promise<void>;
}

interface ServerBinaries {
  server: string;
  installDb: string;
}

async function findServerBinaries(): Promise<ServerBinaries | undefined> {
  const [server, installDb] = await Promise.all([
    findExecutable(SERVER_BINARY),
    findExecutable(INSTALL_DB_BINARY),
  ]);
  return server !== undefined && installDb !== undefined ? { server, installDb } : undefined;
}

function missingServerMessage(reason: string): string {
  return (
    `The MariaDB server binaries (${SERVER_BINARY}, ${INSTALL_DB_BINARY}) were not found on PATH or in ` +
    `/usr/sbin or /usr/bin, and ${reason}. Install the \`mariadb-server\` package ` +
    '(Debian/Ubuntu: `sudo apt-get install -y mariadb-server`; `mysql-server` is the alternative where MariaDB ' +
    'is not packaged) and run again.'
  );
}

/**
 * Makes sure the MariaDB server binaries exist, installing `mariadb-server` with apt-get when we are root on a
 * Debian/Ubuntu system, because the local stack cannot run without a real database server.
 */
export async function ensureMariaDbInstalled(): Promise<void> {
  await ensureDebianPackage(
    'mariadb-server',
    [SERVER_BINARY, INSTALL_DB_BINARY],
    (reason) => new Error(missingServerMessage(reason)),
  );
}

async function requireServerBinaries(): Promise<ServerBinaries> {
  const binaries = await findServerBinaries();
  if (binaries === undefined) {
    throw new Error(
      missingServerMessage('startMariaDb does not install them (call ensureMariaDbInstalled first)'),
    );
  }
  return binaries;
}

// mariadbd refuses to run as root unless told to, and ignores --user otherwise.
function userArgs(): string[] {
  return process.getuid?.() === 0 ? ['--user=root'] : [];
}

async function hasEntries(dir: string): Promise<boolean> {
  try {
    return (await readdir(dir)).length > 0;
  } catch {
    return false;
  }
}

// Installing into a staging directory and renaming it means a half-initialised data dir (an install that was
// interrupted) is never mistaken for a usable one on the next start.
async function initialiseDataDir(
  installDb: string,
  dir: string,
  dataDir: string,
  tmpDir: string,
): Promise<void> {
  if (await hasEntries(dataDir)) return;
  const staging = join(dir, 'data.initialising');
  await rm(staging, { recursive: true, force: true });
  try {
    await execFileAsync(installDb, [
      '--no-defaults',
      ...userArgs(),
      `--datadir=${staging}`,
      `--tmpdir=${tmpDir}`,
      '--auth-root-authentication-method=normal',
      '--skip-test-db',
    ]);
  } catch (error) {
    const output = error instanceof Error && 'stderr' in error ? String(error.stderr) : '';
    throw new Error(`${INSTALL_DB_BINARY} failed for ${dataDir}: ${tail(output)}`, { cause: error });
  }
  await rm(dataDir, { recursive: true, force: true });
  await rename(staging, dataDir);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

// A crashed earlier run leaves its pid and socket files behind; they only block a start when that server is
// in fact still running on this data dir, and then starting a second one would corrupt it.
async function clearStaleRunFiles(pidFile: string, socketFile: string, dataDir: string): Promise<void> {
  const pid = Number.parseInt(await readFile(pidFile, 'utf8').catch(() => ''), 10);
  if (Number.isInteger(pid) && pid > 0 && isAlive(pid)) {
    const commandLine = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
    if (commandLine.includes(dataDir)) {
      throw new Error(
        `a MariaDB server (pid ${pid}) is still running on ${dataDir}; stop it before starting another`,
      );
    }
  }
  await Promise.all([pidFile, socketFile, `${socketFile}.lock`].map((file) => rm(file, { force: true })));
}

function tail(text: string, maxChars = 2000): string {
  const trimmed = text.trim();
  return trimmed.length > maxChars ? `...${trimmed.slice(-maxChars)}` : trimmed;
}

async function errorLogTail(errorLog: string): Promise<string> {
  return tail(await readFile(errorLog, 'utf8').catch(() => '(no error log written)'));
}

function connectAsRoot(port: number): Promise<Connection> {
  return createConnection({ host: '127.0.0.1', port, user: 'root', connectTimeout: 2000 });
}

async function withRoot<T>(port: number, work: (connection: Connection) => Promise<T>): Promise<T> {
  const connection = await connectAsRoot(port);
  try {
    return await work(connection);
  } finally {
    await connection.end();
  }
}

async function canConnect(port: number): Promise<boolean> {
  try {
    await withRoot(port, (connection) => connection.ping());
    return true;
  } catch {
    return false;
  }
}

const sleep = (ms: number) => new Promise<void>((done) => setTimeout(done, ms));

function within<T>(promise: Promise<T>, ms: number): Promise<T | 'timed out'> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'timed out'>((done) => {
    timer = setTimeout(() => done('timed out'), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

// The server runs under a small sh watchdog that holds the read end of a pipe whose write end only this Node
// process holds. When Node exits for any reason (even SIGKILL) the pipe reaches EOF and the watchdog stops the
// server cleanly, so no mariadbd outlives the process that started it.
const WATCHDOG_SCRIPT = [
  'exec 3<&0',
  '"$@" 0</dev/null 3<&- &',
  'server=$!',
  '(read -r _ <&3; kill -TERM "$server" 2>/dev/null) 0</dev/null &',
  'watcher=$!',
  'exec 3<&-',
  'wait "$server"',
  'status=$?',
  'kill "$watcher" 2>/dev/null',
  'exit "$status"',
].join('\n');

/**
 * Starts a private mariadbd on 127.0.0.1:`port` with everything (data, socket, pid file, error log) under `dir`.
 * The data dir is created on first use and kept across restarts.
 */
export async function startMariaDb(opts: {
  dir: string;
  serverId: number;
  port: number;
}): Promise<MariaDbServer> {
  const binaries = await requireServerBinaries();
  const dir = resolve(opts.dir);
  const dataDir = join(dir, 'data');
  const socketFile = join(dir, 'mysqld.sock');
  const pidFile = join(dir, 'mysqld.pid');
  const errorLog = join(dir, 'error.log');
  // A starting mariadbd deletes every #sql* file in its tmpdir; a shared /tmp lets one server (or a parallel
  // mariadb-install-db) wipe another's temporary tables.
  const tmpDir = join(dir, 'tmp');
  if (Buffer.byteLength(socketFile) > MAX_SOCKET_PATH_BYTES) {
    throw new Error(`${socketFile} is too long for a unix socket path; use a shorter database dir`);
  }
  await mkdir(tmpDir, { recursive: true });
  await initialiseDataDir(binaries.installDb, dir, dataDir, tmpDir);
  await clearStaleRunFiles(pidFile, socketFile, dataDir);

  const serverArgs = [
    '--no-defaults',
    ...userArgs(),
    `--datadir=${dataDir}`,
    `--tmpdir=${tmpDir}`,
    `--port=${opts.port}`,
    '--bind-address=127.0.0.1',
    `--socket=${socketFile}`,
    `--pid-file=${pidFile}`,
    `--log-error=${errorLog}`,
    `--server-id=${opts.serverId}`,
    // Relative names land in the data dir; fixing them keeps logs valid if the hostname changes between runs.
    '--log-bin=binlog',
    '--relay-log=relay-bin',
    '--binlog-format=ROW',
    '--log-slave-updates',
    // Replication is (re)pointed explicitly on every start: the primary's port from a previous run may now
    // belong to an unrelated process.
    '--skip-slave-start',
    '--expire-logs-days=7',
    '--character-set-server=utf8mb4',
    '--collation-server=utf8mb4_unicode_ci',
    '--default-time-zone=+00:00',
    '--innodb-buffer-pool-size=64M',
    '--innodb-log-file-size=16M',
    // A local stand-in trades durability on OS crash for speed; a killed mariadbd still loses nothing.
    '--innodb-flush-log-at-trx-commit=2',
    '--sync-binlog=0',
    '--skip-name-resolve',
  ];
  const child = spawn('sh', ['-c', WATCHDOG_SCRIPT, 'mariadb-watchdog', binaries.server, ...serverArgs], {
    stdio: ['pipe', 'ignore', 'pipe'],
    // Its own process group, so a last-resort SIGKILL reaches the watchdog and the server together.
    detached: true,
  });
  let stderr = '';
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
    stderr = tail(stderr + chunk, 4000);
  });
  const exited = new Promise<string>((done) => {
    child.once('exit', (code, signal) => done(signal === null ? `exit code ${code}` : `signal ${signal}`));
    child.once('error', (error) => done(`spawn error: ${error.message}`));
  });
  let exitReason: string | undefined;
  void exited.then((reason) => {
    exitReason = reason;
  });

  const forceKill = () => {
    if (child.pid !== undefined && exitReason === undefined) {
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        // the group is already gone
      }
    }
  };
  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      if (exitReason !== undefined) return;
      child.stdin?.end();
      if ((await within(exited, STOP_TIMEOUT_MS)) === 'timed out') {
        forceKill();
        await exited;
      }
    })();
    return stopping;
  };

  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (!(await canConnect(opts.port))) {
    if (exitReason !== undefined || Date.now() > deadline) {
      const why =
        exitReason === undefined
          ? `did not accept connections within ${READY_TIMEOUT_MS} ms`
          : `exited (${exitReason})`;
      await stop();
      throw new Error(
        `mariadbd in ${dir} on port ${opts.port} ${why}.\nerror log tail:\n${await errorLogTail(errorLog)}` +
          (stderr === '' ? '' : `\nstderr:\n${stderr}`),
      );
    }
    await sleep(POLL_INTERVAL_MS);
  }
  return { port: opts.port, dir, stop };
}

interface ReplicaStatus extends RowDataPacket {
  Slave_IO_Running: string;
  Slave_SQL_Running: string;
  Last_IO_Error: string;
  Last_SQL_Error: string;
}

async function replicaStatus(connection: Connection): Promise<ReplicaStatus | undefined> {
  const [rows] = await connection.query<ReplicaStatus[]>('SHOW SLAVE STATUS');
  return rows[0];
}

function describeReplicaStatus(status: ReplicaStatus | undefined): string {
  if (status === undefined) return 'replication is not configured';
  const errors = [status.Last_IO_Error, status.Last_SQL_Error].filter((error) => error !== '').join('; ');
  return `IO thread ${status.Slave_IO_Running}, SQL thread ${status.Slave_SQL_Running}${errors === '' ? '' : `: ${errors}`}`;
}

/**
 * Makes `replica` replicate `primary` by GTID. Safe to call on every start: the replica keeps its GTID position
 * (slave_pos) and is only re-pointed at the primary's current port.
 */
export async function startReplication(primary: MariaDbServer, replica: MariaDbServer): Promise<void> {
  await withRoot(primary.port, async (connection) => {
    await connection.query('CREATE USER IF NOT EXISTS ?@? IDENTIFIED BY ?', [
      REPLICATION_USER,
      '127.0.0.1',
      REPLICATION_PASSWORD,
    ]);
    await connection.query('GRANT REPLICATION SLAVE ON *.* TO ?@?', [REPLICATION_USER, '127.0.0.1']);
  });
  await withRoot(replica.port, async (connection) => {
    await connection.query('SET GLOBAL read_only = 1');
    await connection.query('STOP SLAVE');
    await connection.query(
      "CHANGE MASTER TO MASTER_HOST = '127.0.0.1', MASTER_PORT = ?, MASTER_USER = ?, MASTER_PASSWORD = ?, " +
        'MASTER_CONNECT_RETRY = 1, MASTER_USE_GTID = slave_pos',
      [primary.port, REPLICATION_USER, REPLICATION_PASSWORD],
    );
    await connection.query('START SLAVE');
    const deadline = Date.now() + REPLICATION_TIMEOUT_MS;
    for (;;) {
      const status = await replicaStatus(connection);
      if (status?.Slave_IO_Running === 'Yes' && status.Slave_SQL_Running === 'Yes') return;
      if (Date.now() > deadline) {
        throw new Error(
          `replica on port ${replica.port} did not start replicating from port ${primary.port} within ` +
            `${REPLICATION_TIMEOUT_MS} ms (${describeReplicaStatus(status)})`,
        );
      }
      await sleep(POLL_INTERVAL_MS);
    }
  });
}

async function twoDistinctPorts(): Promise<[number, number]> {
  const first = await freePort();
  for (;;) {
    const second = await freePort();
    if (second !== first) return [first, second];
  }
}

async function stopAll(servers: MariaDbServer[]): Promise<void> {
  await Promise.all(servers.map((server) => server.stop()));
}

const DATABASE_NAME = /^[A-Za-z0-9_]{1,64}$/;

/**
 * Starts a primary (`dir/primary`, server-id 1) and a GTID replica of it (`dir/replica`, server-id 2) on fresh
 * ports, and makes sure `database` exists on both.
 */
export async function startDatabasePair(opts: { dir: string; database: string }): Promise<DatabasePair> {
  if (!DATABASE_NAME.test(opts.database)) {
    throw new Error(`database name ${JSON.stringify(opts.database)} must match ${DATABASE_NAME}`);
  }
  const [primaryPort, replicaPort] = await twoDistinctPorts();
  const started = await Promise.allSettled([
    startMariaDb({ dir: join(opts.dir, 'primary'), serverId: 1, port: primaryPort }),
    startMariaDb({ dir: join(opts.dir, 'replica'), serverId: 2, port: replicaPort }),
  ]);
  const running = started.flatMap((outcome) => (outcome.status === 'fulfilled' ? [outcome.value] : []));
  const [primary, replica] = running;
  if (primary === undefined || replica === undefined || running.length !== 2) {
    await stopAll(running);
    const failure = started.find((outcome) => outcome.status === 'rejected');
    throw failure?.reason ?? new Error('database pair did not start');
  }
  const pair: DatabasePair = {
    primary,
    replica,
    database: opts.database,
    stop: () => stopAll([replica, primary]),
  };
  try {
    await startReplication(primary, replica);
    await withRoot(primary.port, (connection) =>
      connection.query(
        `CREATE DATABASE IF NOT EXISTS \`${opts.database}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`,
      ),
    );
    await waitForReplicaToCatchUp(pair);
    const [schemas] = await withRoot(replica.port, (connection) =>
      connection.query<RowDataPacket[]>('SELECT 1 FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?', [
        opts.database,
      ]),
    );
    if (schemas.length === 0) throw new Error(`database ${opts.database} did not appear on the replica`);
  } catch (error) {
    await pair.stop();
    throw error;
  }
  return pair;
}

interface GtidRow extends RowDataPacket {
  position: string;
}

interface WaitRow extends RowDataPacket {
  outcome: number | null;
}

/** Resolves once the replica has applied every transaction the primary had written when this was called. */
export async function waitForReplicaToCatchUp(pair: DatabasePair, timeoutMs = 10_000): Promise<void> {
  const [[primaryRow]] = await withRoot(pair.primary.port, (connection) =>
    connection.query<GtidRow[]>('SELECT @@GLOBAL.gtid_binlog_pos AS position'),
  );
  const position = primaryRow?.position ?? '';
  if (position === '') return;
  await withRoot(pair.replica.port, async (connection) => {
    const [[waitRow]] = await connection.query<WaitRow[]>('SELECT MASTER_GTID_WAIT(?, ?) AS outcome', [
      position,
      timeoutMs / 1000,
    ]);
    if (waitRow?.outcome === 0) return;
    const [[replicaRow]] = await connection.query<GtidRow[]>('SELECT @@GLOBAL.gtid_slave_pos AS position');
    throw new Error(
      `replica on port ${pair.replica.port} did not reach the primary's GTID position ${position} within ` +
        `${timeoutMs} ms (it is at ${replicaRow?.position ?? 'unknown'}; ${describeReplicaStatus(await replicaStatus(connection))})`,
    );
  });
}
