import { randomUUID } from 'node:crypto';
import type { PoolConnection } from 'mysql2/promise';

/**
 * The session the bridge hands to the driver, which stores it and sends it back on the next call of the same
 * Connection. `transaction` lets the bridge tell "this session's transaction is gone" (reaped, or the bridge
 * restarted) from "this session never had one", so a lost transaction fails loudly instead of its remaining
 * statements silently autocommitting.
 */
export interface PsdbSession {
  id: string;
  transaction: boolean;
}

export type StatementKind = 'begin' | 'commit' | 'rollback' | 'other';

const BEGIN = /^\s*(BEGIN(\s+WORK)?|START\s+TRANSACTION\b[^;]*)\s*;?\s*$/i;
const COMMIT = /^\s*COMMIT(\s+WORK)?\s*;?\s*$/i;
// Only a whole-transaction rollback ends the session; ROLLBACK TO SAVEPOINT (nested drizzle transactions) does not.
const ROLLBACK = /^\s*ROLLBACK(\s+WORK)?\s*;?\s*$/i;

export function classifyStatement(sql: string): StatementKind {
  if (BEGIN.test(sql)) return 'begin';
  if (COMMIT.test(sql)) return 'commit';
  if (ROLLBACK.test(sql)) return 'rollback';
  return 'other';
}

interface PinnedTransaction {
  connection: PoolConnection;
  lastUsedAt: number;
  statementsInFlight: number;
}

/** One database connection pinned per open transaction, so every statement of a transaction runs on it. */
export class TransactionSessions {
  readonly #pinned = new Map<string, PinnedTransaction>();
  readonly #idleMs: number;
  readonly #reaper: NodeJS.Timeout;

  constructor(idleMs: number) {
    this.#idleMs = idleMs;
    this.#reaper = setInterval(() => void this.#reapIdle(), Math.max(10, Math.min(idleMs / 2, 5000)));
    this.#reaper.unref();
  }

  /** Pins `connection` to a new session id. */
  open(connection: PoolConnection): PsdbSession {
    const id = randomUUID();
    this.#pinned.set(id, { connection, lastUsedAt: Date.now(), statementsInFlight: 0 });
    return { id, transaction: true };
  }

  has(id: string): boolean {
    return this.#pinned.has(id);
  }

  /** Runs `work` on the session's pinned connection; the reaper leaves a session alone while it is in use. */
  async use<T>(id: string, work: (connection: PoolConnection) => Promise<T>): Promise<T> {
    const pinned = this.#pinned.get(id);
    if (pinned === undefined) throw new Error(`no open transaction for session ${id}`);
    pinned.statementsInFlight += 1;
    try {
      return await work(pinned.connection);
    } finally {
      pinned.statementsInFlight -= 1;
      pinned.lastUsedAt = Date.now();
    }
  }

  /** Unpins the session; a connection whose state is unknown (it failed mid-transaction) is discarded. */
  async close(id: string, outcome: 'finished' | 'unknown'): Promise<void> {
    const pinned = this.#pinned.get(id);
    if (pinned === undefined) return;
    this.#pinned.delete(id);
    if (outcome === 'finished') {
      pinned.connection.release();
      return;
    }
    await rollbackAndRelease(pinned.connection);
  }

  /** Rolls back every open transaction, e.g. when the bridge stops. */
  async closeAll(): Promise<void> {
    clearInterval(this.#reaper);
    const open = [...this.#pinned.keys()];
    await Promise.all(open.map((id) => this.close(id, 'unknown')));
  }

  // A client that dies mid-transaction never sends COMMIT or ROLLBACK; without this its row locks and its
  // connection would be held until the bridge stops.
  async #reapIdle(): Promise<void> {
    const idleSince = Date.now() - this.#idleMs;
    const abandoned = [...this.#pinned].filter(
      ([, pinned]) => pinned.statementsInFlight === 0 && pinned.lastUsedAt < idleSince,
    );
    await Promise.all(abandoned.map(([id]) => this.close(id, 'unknown')));
  }
}

async function rollbackAndRelease(connection: PoolConnection): Promise<void> {
  try {
    await connection.query('ROLLBACK');
    connection.release();
  } catch {
    // The connection is unusable; dropping it also ends its transaction on the server.
    connection.destroy();
  }
}
