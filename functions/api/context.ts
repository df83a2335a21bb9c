import type { SFNClient } from '@aws-sdk/client-sfn';
import type { SQSClient } from '@aws-sdk/client-sqs';
import type { Database } from '../../schema/db.ts';
import type { ApiConfig } from '../shared/config.ts';
import type { Extension } from './nova/extension.ts';

/** Who is calling, from a verified identity token (functions/identity/tokens.ts). */
export interface Caller {
  userId: string;
  userName: string;
  projectId: string;
  projectName: string;
  roles: string[];
  isAdmin: boolean;
  /** The deployment's POLICY_OVERRIDES, so that every policy check applies them (functions/api/policy.ts). */
  policyOverrides?: ApiConfig['POLICY_OVERRIDES'];
}

export interface AppVariables {
  requestId: string;
  config: ApiConfig;
  db: Database;
  sqs: SQSClient;
  sfn: SFNClient;
  caller: Caller;
  /** The compute host an agent request authenticated as (functions/api/compute-agent/host-auth.ts). */
  host: string;
  /** The extensions this deployment serves (functions/api/nova/registry.ts). */
  extensions: Extension[];
  /** Extension versions the client pinned (functions/api/middleware/extension-versions.ts). */
  extensionVersions: Map<string, number>;
  /** Which compute face answers: `/v3` (Havana's API) or `/v2.1` (functions/api/nova-v21/). */
  computeFace: 'v3' | 'v2.1';
  /** The v2.1 microversion's minor number (2.X) this request runs at; 1 on the v3 face. */
  microversion: number;
}

/** Workers bindings: strings only (vars and secrets). */
export type AppBindings = Record<string, string | undefined>;

export interface AppEnv {
  Bindings: AppBindings;
  Variables: AppVariables;
}
