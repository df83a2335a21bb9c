import { createDatabase, type PrimaryDb } from '../../schema/db.ts';
import { type ControlPlaneConfig, ControlPlaneEnv, parseConfig } from '../shared/config.ts';

export interface ConductorContext {
  config: ControlPlaneConfig;
  /** Workflow steps decide writes, so they read and write the primary only. */
  db: PrimaryDb;
}

export function createConductorContext(env: Record<string, string | undefined>): ConductorContext {
  const config = parseConfig(ControlPlaneEnv, env);
  const db = createDatabase({ primary: config.DATABASE_URL, replicas: [] }).$primary;
  return { config, db };
}
