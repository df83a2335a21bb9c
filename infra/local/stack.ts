import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { CreateStateMachineCommand, SFNClient } from '@aws-sdk/client-sfn';
import { SQSClient } from '@aws-sdk/client-sqs';
import { and, gte, inArray } from 'drizzle-orm';
import { startFauxqs } from 'fauxqs';
import { createConnection } from 'mysql2/promise';
import { createConductorContext } from '../../functions/conductor/context.ts';
import { runStep } from '../../functions/conductor/steps.ts';
import { bootstrapIdentity } from '../../functions/identity/bootstrap.ts';
import { createDatabase, type PrimaryDb } from '../../schema/db.ts';
import { applyMigrations } from '../../schema/migrate.ts';
import { services } from '../../schema/tables/index.ts';
import type { MoveTiming } from '../../workflows/asl.ts';
import { WORKFLOW_NAMES, WORKFLOWS } from '../../workflows/index.ts';
import { type AgentProcess, type AgentSpec, DEFAULT_AGENTS, startAgentProcess } from './agents.ts';
import { bundleApiWorker, startApiWorker } from './api-worker.ts';
import { startDatabasePair } from './mariadb.ts';
import { startPsdbBridge } from './psdb-bridge.ts';
import { reconcileInterruptedWork } from './reconcile.ts';
import { loadOrCreateSecrets, saveSecrets } from './secrets.ts';
import { startSfnEndpoint } from './sfn-endpoint.ts';

export const LOCAL_REGION = 'us-east-1';
export const LOCAL_ACCOUNT = '000000000000';
export const CONDUCTOR_FUNCTION_ARN = `arn:aws:lambda:${LOCAL_REGION}:${LOCAL_ACCOUNT}:function:conductor`;
const LOCAL_AWS_CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' };
const DATABASE = 'nova';
/** What a stack keeps in its data dir; `fresh` removes exactly these. */
const STACK_ENTRIES = ['db', 'sqs', 'agents', 'build', 'secrets.json', 'clouds.yaml', 'stack.json'];
const DATABASE_USER = 'nova';

export interface LocalStackOptions {
  /** Everything the stack keeps (databases, agent state, secrets) lives here. */
  dataDir: string;
  /** Wipe `dataDir` first. */
  fresh?: boolean;
  /** 0 picks a free port (tests); `npm start` uses 8774. */
  apiPort: number;
  agents?: AgentSpec[];
  adminPassword?: string;
  /** Seconds after which a silent compute service counts as down. */
  serviceDownTimeSeconds?: number;
  reportIntervalSeconds?: number;
  /** Bounds of a move's host commands, instead of production's (workflows/migrate-server.ts). */
  moveTiming?: MoveTiming;
  /** Control-plane settings (functions/shared/config.ts) to set instead of their defaults. */
  config?: Record<string, string>;
  log?: (line: string) => void;
}

export interface LocalStack {
  apiUrl: string;
  admin: { username: string; password: string; project: string };
  /** PlanetScale-protocol URLs (with credentials) of the primary and replica bridges. */
  database: { primaryUrl: string; replicaUrl: string; primaryPort: number; replicaPort: number };
  sqsEndpoint: string;
  sfnEndpoint: string;
  /** The bindings the API worker runs with (the conductor reads the same). */
  env: Record<string, string>;
  hostCredentials: Record<string, string>;
  /** Issues (or rotates) a host credential through the API, as an operator would. */
  createHostCredential(host: string): Promise<string>;
  stop(): Promise<void>;
}

/**
 * Starts the whole local cloud: MariaDB primary + replica behind PlanetScale-protocol bridges,
 * fauxqs, the Step Functions endpoint running the conductor in-process, the API worker in workerd,
 * and fake compute agents as separate processes. Stops everything it started if any part fails.
 */
export async function startLocalStack(options: LocalStackOptions): Promise<LocalStack> {
  const log = options.log ?? (() => undefined);
  if (options.fresh) {
    // Only the stack's own entries: other runs' data dirs may live beside them (tests use .local/test-*).
    for (const entry of STACK_ENTRIES)
      await rm(join(options.dataDir, entry), { recursive: true, force: true });
  }
  await mkdir(options.dataDir, { recursive: true });
  const secrets = await loadOrCreateSecrets(options.dataDir, options.adminPassword);
  const stops: Array<() => Promise<void>> = [];
  const stopAll = async () => {
    for (const stop of stops.reverse())
      await stop().catch((error: Error) => log(`stop failed: ${error.message}`));
    stops.length = 0;
  };

  try {
    const pair = await startDatabasePair({ dir: join(options.dataDir, 'db'), database: DATABASE });
    stops.push(() => pair.stop());
    const migrator = await createConnection({
      host: '127.0.0.1',
      port: pair.primary.port,
      user: 'root',
      database: DATABASE,
    });
    const applied = await applyMigrations(migrator).finally(() => migrator.end());
    if (applied.length > 0) log(`database: applied ${applied.join(', ')}`);

    const bridgeOptions = { database: DATABASE, username: DATABASE_USER, password: secrets.databasePassword };
    const primaryBridge = await startPsdbBridge({ ...bridgeOptions, mysqlPort: pair.primary.port });
    stops.push(() => primaryBridge.stop());
    const replicaBridge = await startPsdbBridge({
      ...bridgeOptions,
      mysqlPort: pair.replica.port,
      readOnly: true,
    });
    stops.push(() => replicaBridge.stop());

    const sqs = await startFauxqs({
      port: 0,
      logger: false,
      host: '127.0.0.1',
      dataDir: join(options.dataDir, 'sqs'),
    });
    stops.push(async () => sqs.stop());

    const env: Record<string, string> = {
      DATABASE_URL: primaryBridge.url,
      DATABASE_REPLICA_URLS: replicaBridge.url,
      DATABASE_FLAVOR: 'mariadb',
      AWS_REGION: LOCAL_REGION,
      AWS_ACCESS_KEY_ID: LOCAL_AWS_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: LOCAL_AWS_CREDENTIALS.secretAccessKey,
      SQS_ENDPOINT: sqs.address,
      STATE_MACHINE_ARNS: '{}',
      COMPUTE_QUEUE_PREFIX: 'local-',
      SERVICE_DOWN_TIME_SECONDS: String(options.serviceDownTimeSeconds ?? 60),
      REPORT_INTERVAL_SECONDS: String(options.reportIntervalSeconds ?? 10),
      TOKEN_SECRET: secrets.tokenSecret,
      TOKEN_TTL_SECONDS: '86400',
      REGION_NAME: 'RegionOne',
      ...options.config,
    };
    const conductor = createConductorContext(env);
    const sqsClient = new SQSClient({
      region: LOCAL_REGION,
      endpoint: sqs.address,
      credentials: LOCAL_AWS_CREDENTIALS,
    });
    const sfn = await startSfnEndpoint({
      region: LOCAL_REGION,
      accountId: LOCAL_ACCOUNT,
      sqs: sqsClient,
      invokeLambda: async (functionArn, payload) => {
        if (functionArn !== CONDUCTOR_FUNCTION_ARN)
          throw new Error(`No local Lambda function ${functionArn}`);
        return runStep(conductor, payload);
      },
    });
    stops.push(() => sfn.stop());
    env.SFN_ENDPOINT = sfn.url;

    const sfnClient = new SFNClient({
      region: LOCAL_REGION,
      endpoint: sfn.url,
      credentials: LOCAL_AWS_CREDENTIALS,
    });
    const arns: Record<string, string> = {};
    for (const name of WORKFLOW_NAMES) {
      const created = await sfnClient.send(
        new CreateStateMachineCommand({
          name,
          definition: JSON.stringify(
            WORKFLOWS[name]({
              conductorFunctionArn: CONDUCTOR_FUNCTION_ARN,
              ...(options.moveTiming ? { moveTiming: options.moveTiming } : {}),
            }),
          ),
          roleArn: `arn:aws:iam::${LOCAL_ACCOUNT}:role/local-workflows`,
          type: 'STANDARD',
        }),
      );
      if (created.stateMachineArn) arns[name] = created.stateMachineArn;
    }
    env.STATE_MACHINE_ARNS = JSON.stringify(arns);

    const db = createDatabase({ primary: primaryBridge.url, replicas: [replicaBridge.url] }).$primary;
    const admin = { username: 'admin', password: secrets.adminPassword, project: 'admin' };
    await bootstrapIdentity(db, {
      adminUser: admin.username,
      adminPassword: admin.password,
      adminProject: admin.project,
    });
    const reconciled = await reconcileInterruptedWork(conductor, sfnClient, arns);
    if (reconciled > 0)
      log(`reconciled ${reconciled} server(s) whose workflow was lost when the stack stopped`);

    const scriptPath = join(options.dataDir, 'build', 'api-worker.mjs');
    await bundleApiWorker(scriptPath);
    const api = await startApiWorker({ scriptPath, port: options.apiPort, bindings: env });
    stops.push(() => api.stop());

    const createHostCredential = async (host: string): Promise<string> => {
      const token = await adminToken(api.url, admin);
      const response = await fetch(`${api.url}/compute-agent/v1/credentials`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-auth-token': token },
        body: JSON.stringify({ host }),
      });
      if (response.status !== 201)
        throw new Error(`credential for ${host}: ${response.status} ${await response.text()}`);
      const body = (await response.json()) as { credential: { secret: string } };
      secrets.hostCredentials[host] = body.credential.secret;
      await saveSecrets(options.dataDir, secrets);
      return body.credential.secret;
    };

    const agents: AgentProcess[] = [];
    for (const spec of options.agents ?? DEFAULT_AGENTS) {
      const credential = secrets.hostCredentials[spec.host] ?? (await createHostCredential(spec.host));
      agents.push(
        startAgentProcess(spec, {
          apiUrl: api.url,
          credential,
          stateDir: join(options.dataDir, 'agents', spec.host),
          log,
        }),
      );
    }
    stops.push(async () => {
      await Promise.all(agents.map((agent) => agent.stop()));
    });
    await waitForAgents(
      conductor.db,
      agents.map((agent) => agent.host),
    );

    return {
      apiUrl: api.url,
      admin,
      database: {
        primaryUrl: primaryBridge.url,
        replicaUrl: replicaBridge.url,
        primaryPort: pair.primary.port,
        replicaPort: pair.replica.port,
      },
      sqsEndpoint: sqs.address,
      sfnEndpoint: sfn.url,
      env,
      hostCredentials: secrets.hostCredentials,
      createHostCredential,
      stop: stopAll,
    };
  } catch (error) {
    await stopAll();
    throw error;
  }
}

async function adminToken(apiUrl: string, admin: LocalStack['admin']): Promise<string> {
  const response = await fetch(`${apiUrl}/identity/v3/auth/tokens`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      auth: {
        identity: {
          methods: ['password'],
          password: { user: { name: admin.username, password: admin.password } },
        },
        scope: { project: { name: admin.project } },
      },
    }),
  });
  const token = response.headers.get('x-subject-token');
  if (response.status !== 201 || !token)
    throw new Error(`admin login failed: ${response.status} ${await response.text()}`);
  return token;
}

/** Ready means every agent has registered and reported since this start. */
async function waitForAgents(db: PrimaryDb, hosts: string[]): Promise<void> {
  const since = new Date(Date.now() - 1000);
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    const seen = await db
      .select({ host: services.host })
      .from(services)
      .where(and(inArray(services.host, hosts), gte(services.last_seen_at, since)));
    if (seen.length === hosts.length) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`compute agents did not register within 30 s: ${hosts.join(', ')}`);
}
