import { createDatabase, type PrimaryDb } from '../../schema/db.ts';
import { type ControlPlaneConfig, ControlPlaneEnv, parseConfig } from '../shared/config.ts';
import { keepAliveFetch } from '../shared/keep-alive-fetch.ts';

export interface ConductorContext {
  config: ControlPlaneConfig;
  /** Workflow steps decide writes, so they read and write the primary only. */
  db: PrimaryDb;
}

/** The primary as workflow steps reach it: from Node, over keep-alive connections (keep-alive-fetch.ts). */
export function conductorDatabase(primaryUrl: string): PrimaryDb {
  return createDatabase({ primary: primaryUrl, replicas: [] }, { fetch: keepAliveFetch }).$primary;
}

export function createConductorContext(env: Record<string, string | undefined>): ConductorContext {
  const config = parseConfig(ControlPlaneEnv, env);
  return { config, db: conductorDatabase(config.DATABASE_URL) };
}
