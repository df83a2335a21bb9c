import { randomUUID, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import {
  createPool,
  type FieldPacket,
  type Pool,
  type PoolConnection,
  type ResultSetHeader,
  type RowDataPacket,
} from 'mysql2/promise';
import * as v from 'valibot';
import { classifyStatement, type PsdbSession, TransactionSessions } from './psdb-sessions.ts';
import { type PsdbField, toPsdbField } from './psdb-types.ts';

export interface PsdbBridgeOptions {
  mysqlPort: number;
  database: string;
  username: string;
  password: string;
  /** Defaults to a free port chosen by the kernel. */
  port?: number;
  /** Transactions idle for longer than this are rolled back. Defaults to 60 s. */
  sessionIdleMs?: number;
  /** Refuse writes, as a replica should even though the bridge connects as root (which bypasses read_only). */
  readOnly?: boolean;
}

export interface PsdbBridge {
  /** `http://<username>:<password>@127.0.0.1:<port>`, ready to pass as the driver's `url`. */
  url: string;
  stop(): Promise<void>;
}

const EXECUTE_PATH = '/psdb.v1alpha1.Database/Execute';
const CREATE_SESSION_PATH = '/psdb.v1alpha1.Database/CreateSession';
const DEFAULT_SESSION_IDLE_MS = 60_000;
const MAX_BODY_BYTES = 64 * 1024 * 1024;
const POOL_SIZE = 20;
const ER_DUP_ENTRY = 1062;
const URL_SAFE_CREDENTIAL = /^[A-Za-z0-9._~-]+$/;

const SessionSchema = v.object({ id: v.string(), transaction: v.boolean() });
const ExecuteRequest = v.object({ query: v.string(), session: v.nullish(SessionSchema) });

interface PsdbRow {
  lengths: string[];
  values: string;
}

interface PsdbResult {
  fields: PsdbField[];
  rows: PsdbRow[];
  rowsAffected: string;
  insertId: string;
}

interface PsdbError {
  code: string;
  message: string;
}

interface ExecuteResponse {
  session: PsdbSession | null;
  result?: PsdbResult;
  error?: PsdbError;
  timing: number;
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

interface MysqlServerError {
  errno: number;
  sqlState: string;
  sqlMessage: string;
}

// mysql2 marks errors that killed the connection as fatal; everything else with an errno is the server
// rejecting a statement, which the driver should see as a DatabaseError with MySQL's own text.
function asStatementError(error: unknown): MysqlServerError | undefined {
  if (!(error instanceof Error) || ('fatal' in error && error.fatal === true)) return undefined;
  const { errno, sqlState, sqlMessage } = error as Partial<MysqlServerError>;
  if (typeof errno !== 'number' || typeof sqlMessage !== 'string') return undefined;
  return { errno, sqlState: sqlState ?? 'HY000', sqlMessage };
}

function describeStatementError(error: MysqlServerError): PsdbError {
  return {
    // Vitess reports duplicate keys as AlreadyExists; the message keeps the errno that callers match on.
    code: error.errno === ER_DUP_ENTRY ? 'ALREADY_EXISTS' : 'UNKNOWN',
    message: `${error.sqlMessage} (errno ${error.errno}) (sqlstate ${error.sqlState})`,
  };
}

type RawValue = Buffer | null;

// The driver decodes each row from the raw bytes the server sent, so values are forwarded untouched (DATETIMEs
// exactly as the server formats them, binary data byte for byte) rather than converted to JS and back.
async function runStatement(connection: PoolConnection, sql: string): Promise<PsdbResult> {
  const [result, fields] = await connection.query<ResultSetHeader | RowDataPacket[]>({
    sql,
    rowsAsArray: true,
    typeCast: (field) => field.buffer(),
  });
  if (!Array.isArray(result)) {
    return {
      fields: [],
      rows: [],
      rowsAffected: String(result.affectedRows),
      insertId: String(result.insertId),
    };
  }
  return {
    fields: (fields as FieldPacket[] | undefined)?.map(toPsdbField) ?? [],
    // rowsAsArray plus a typeCast returning field.buffer() makes every row an array of raw values.
    rows: (result as unknown as RawValue[][]).map(encodeRow),
    rowsAffected: '0',
    insertId: '0',
  };
}

function encodeRow(values: RawValue[]): PsdbRow {
  const present: Buffer[] = [];
  const lengths = values.map((value) => {
    if (value === null) return '-1';
    present.push(value);
    return String(value.length);
  });
  return { lengths, values: Buffer.concat(present).toString('base64') };
}

function credentialsMatch(header: string | undefined, expected: Buffer): boolean {
  if (header === undefined || !header.startsWith('Basic ')) return false;
  const given = Buffer.from(header.slice('Basic '.length).trim(), 'base64');
  return given.length === expected.length && timingSafeEqual(given, expected);
}

async function readJson(request: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    const buffer = chunk as Buffer;
    size += buffer.length;
    if (size > MAX_BODY_BYTES) throw new HttpError(413, 'RESOURCE_EXHAUSTED', 'request body too large');
    chunks.push(buffer);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  if (text.trim() === '') return {};
  try {
    return JSON.parse(text);
  } catch {
    throw new HttpError(400, 'INVALID_ARGUMENT', 'request body is not JSON');
  }
}

function sendJson(response: ServerResponse, status: number, body: unknown): void {
  const payload = JSON.stringify(body);
  response.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(payload),
  });
  response.end(payload);
}

/**
 * Serves the PlanetScale HTTP API (`/psdb.v1alpha1.Database/*`) on 127.0.0.1 in front of a MySQL/MariaDB server,
 * so the real `@planetscale/database` driver (and drizzle-orm/planetscale-serverless) runs against it unchanged.
 */
export async function startPsdbBridge(opts: PsdbBridgeOptions): Promise<PsdbBridge> {
  for (const [name, value] of [
    ['username', opts.username],
    ['password', opts.password],
  ] as const) {
    // The driver sends the URL's userinfo as written (still percent-encoded), so only characters that need no
    // encoding survive the round trip.
    if (!URL_SAFE_CREDENTIAL.test(value)) throw new Error(`bridge ${name} must match ${URL_SAFE_CREDENTIAL}`);
  }
  const pool: Pool = createPool({
    host: '127.0.0.1',
    port: opts.mysqlPort,
    user: 'root',
    database: opts.database,
    connectionLimit: POOL_SIZE,
    supportBigNumbers: true,
    bigNumberStrings: true,
    // UPDATE reports changed rather than matched rows, MySQL's answer to a client that does not ask for found
    // rows (mysql2 asks by default); a no-op conditional UPDATE then reads as "nothing changed".
    flags: ['-FOUND_ROWS'],
  });
  const sessions = new TransactionSessions(opts.sessionIdleMs ?? DEFAULT_SESSION_IDLE_MS);
  const expectedCredentials = Buffer.from(`${opts.username}:${opts.password}`);

  const prepared = new WeakSet<object>();
  // Session settings live on the physical connection, which the pool hands out many times.
  const acquire = async (): Promise<PoolConnection> => {
    const connection = await pool.getConnection();
    if (!prepared.has(connection.connection)) {
      try {
        await connection.query("SET time_zone = '+00:00'");
        if (opts.readOnly === true) await connection.query('SET SESSION TRANSACTION READ ONLY');
      } catch (error) {
        connection.destroy();
        throw error;
      }
      prepared.add(connection.connection);
    }
    return connection;
  };

  const runUnpinned = async (sql: string): Promise<PsdbResult> => {
    const connection = await acquire();
    try {
      const result = await runStatement(connection, sql);
      connection.release();
      return result;
    } catch (error) {
      if (asStatementError(error) === undefined) connection.destroy();
      else connection.release();
      throw error;
    }
  };

  const beginTransaction = async (sql: string): Promise<{ session: PsdbSession; result: PsdbResult }> => {
    const connection = await acquire();
    try {
      const result = await runStatement(connection, sql);
      return { session: sessions.open(connection), result };
    } catch (error) {
      connection.release();
      throw error;
    }
  };

  const runInTransaction = async (session: PsdbSession, sql: string): Promise<PsdbResult> => {
    const kind = classifyStatement(sql);
    try {
      const result = await sessions.use(session.id, (connection) => runStatement(connection, sql));
      if (kind === 'commit' || kind === 'rollback') await sessions.close(session.id, 'finished');
      return result;
    } catch (error) {
      if (kind === 'commit' || kind === 'rollback' || asStatementError(error) === undefined) {
        await sessions.close(session.id, 'unknown');
      }
      throw error;
    }
  };

  const execute = async (sql: string, session: PsdbSession | null): Promise<ExecuteResponse> => {
    const startedAt = performance.now();
    const timing = () => (performance.now() - startedAt) / 1000;
    const kind = classifyStatement(sql);
    const ended = (id: string): PsdbSession => ({ id, transaction: false });
    const inOpenTransaction = session?.transaction === true && sessions.has(session.id);
    try {
      if (session?.transaction === true && !inOpenTransaction && kind !== 'begin') {
        if (kind === 'rollback') {
          return { session: ended(session.id), result: await runUnpinned(sql), timing: timing() };
        }
        return {
          session: ended(session.id),
          error: {
            code: 'ABORTED',
            message:
              `the transaction of session ${session.id} no longer exists (idle for too long, or the bridge ` +
              'restarted) and was rolled back',
          },
          timing: timing(),
        };
      }
      if (session !== null && inOpenTransaction) {
        const result = await runInTransaction(session, sql);
        const stillOpen = kind !== 'commit' && kind !== 'rollback';
        return { session: stillOpen ? session : ended(session.id), result, timing: timing() };
      }
      if (kind === 'begin') {
        const opened = await beginTransaction(sql);
        return { session: opened.session, result: opened.result, timing: timing() };
      }
      return { session, result: await runUnpinned(sql), timing: timing() };
    } catch (error) {
      const statementError = asStatementError(error);
      if (statementError === undefined) {
        const message = error instanceof Error ? error.message : String(error);
        throw new HttpError(503, 'UNAVAILABLE', `database connection failed: ${message}`);
      }
      const stillOpen = session !== null && sessions.has(session.id);
      return {
        session: session === null || stillOpen ? session : ended(session.id),
        error: describeStatementError(statementError),
        timing: timing(),
      };
    }
  };

  const handle = async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    if (!credentialsMatch(request.headers.authorization, expectedCredentials)) {
      response.setHeader('www-authenticate', 'Basic realm="psdb"');
      throw new HttpError(401, 'UNAUTHENTICATED', 'invalid username or password');
    }
    const path = new URL(request.url ?? '/', 'http://127.0.0.1').pathname;
    if (path !== EXECUTE_PATH && path !== CREATE_SESSION_PATH) {
      throw new HttpError(404, 'NOT_FOUND', `no such endpoint: ${path}`);
    }
    if (request.method !== 'POST') throw new HttpError(405, 'UNIMPLEMENTED', `${path} only accepts POST`);
    const body = await readJson(request);
    if (path === CREATE_SESSION_PATH) {
      sendJson(response, 200, { session: { id: randomUUID(), transaction: false } satisfies PsdbSession });
      return;
    }
    const parsed = v.safeParse(ExecuteRequest, body);
    if (!parsed.success) {
      const issues = parsed.issues.map((issue) => `${v.getDotPath(issue) ?? 'body'}: ${issue.message}`);
      throw new HttpError(400, 'INVALID_ARGUMENT', `invalid Execute request: ${issues.join('; ')}`);
    }
    sendJson(response, 200, await execute(parsed.output.query, parsed.output.session ?? null));
  };

  const server = createServer((request, response) => {
    handle(request, response).catch((error: unknown) => {
      const failure =
        error instanceof HttpError
          ? error
          : new HttpError(500, 'INTERNAL', error instanceof Error ? error.message : String(error));
      if (response.headersSent) {
        response.destroy();
        return;
      }
      sendJson(response, failure.status, { error: { code: failure.code, message: failure.message } });
    });
  });
  await new Promise<void>((listening, fail) => {
    server.once('error', fail);
    server.listen(opts.port ?? 0, '127.0.0.1', () => {
      server.off('error', fail);
      listening();
    });
  });
  const { port } = server.address() as AddressInfo;

  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      const closed = new Promise<void>((done) => server.close(() => done()));
      // Idle keep-alive connections from fetch would otherwise hold close() open.
      server.closeAllConnections();
      await closed;
      await sessions.closeAll();
      await pool.end();
    })();
    return stopping;
  };
  return { url: `http://${opts.username}:${opts.password}@127.0.0.1:${port}`, stop };
}
