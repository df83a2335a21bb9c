import { Client, type Config } from '@planetscale/database';
import { withReplicas } from 'drizzle-orm/mysql-core';
import { drizzle } from 'drizzle-orm/planetscale-serverless';
import * as tables from './tables/index.ts';

export interface DatabaseUrls {
  /** PlanetScale-protocol URL with credentials, e.g. https://user:pass@host (http:// locally). */
  primary: string;
  replicas: string[];
}

/** How the driver reaches the database; Workers use the global fetch, Node processes may pass a faster one. */
export interface ConnectOptions {
  fetch?: Config['fetch'];
}

/** One database endpoint (primary or a single replica), without routing. */
export function connectDatabase(url: string, options: ConnectOptions = {}) {
  return drizzle({ client: new Client({ url, ...options }), schema: tables });
}

export type PrimaryDb = ReturnType<typeof connectDatabase>;

/** What a write needs: the primary itself or a transaction on it, so one write can join a larger one. */
export type PrimaryWriter = Pick<PrimaryDb, 'select' | 'insert' | 'update' | 'delete'>;

/**
 * One handle for the whole database: `db.select()` reads a replica, writes and transactions go to the
 * primary, and `db.$primary` forces the primary for reads that decide a write or must see one's own write.
 * Creating it opens nothing (the driver speaks HTTP per query), so handlers can make one per request.
 */
export function createDatabase(urls: DatabaseUrls, options: ConnectOptions = {}) {
  const primary = connectDatabase(urls.primary, options);
  const [first, ...rest] = urls.replicas.map((url) => connectDatabase(url, options));
  return first ? withReplicas(primary, [first, ...rest]) : withReplicas(primary, [primary]);
}

export type Database = ReturnType<typeof createDatabase>;
export { tables };
