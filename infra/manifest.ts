// What production deploys and how each deployed component is configured, as plain data. infra/*.ts
// builds the resources from it and test/unit/infra-wiring.test.ts checks it against the code that
// runs, so a new workflow, config variable or AWS call cannot be forgotten in infra.
import type { WorkflowName } from '../workflows/index.ts';

/** State machines deployed to AWS Step Functions (one per entry of workflows/index.ts). */
export const DEPLOYED_WORKFLOWS = [
  'archive-deleted-rows',
  'boot-server',
  'cache-images',
  'delete-server',
  'migrate-server',
  'network-migration',
  'server-action',
  'server-interface',
] as const satisfies readonly WorkflowName[];

/** Workflows EventBridge Scheduler starts on a timetable (UTC), with the input each start gets. */
export const SCHEDULED_WORKFLOWS = {
  // Daily, off-peak: archive rows deleted more than 90 days ago, purge those archived over a year ago.
  'archive-deleted-rows': {
    schedule: 'cron(30 3 * * ? *)',
    input: { older_than_days: 90, purge_older_than_days: 365, max_rows: 100_000 },
  },
} as const satisfies Partial<
  Record<(typeof DEPLOYED_WORKFLOWS)[number], { schedule: string; input: object }>
>;

/** Logical name of the conductor Lambda (sst.aws.Function) every conductor Task state invokes. */
export const CONDUCTOR_FUNCTION = 'Conductor';

/** Logical name of the API worker (sst.cloudflare.Worker). */
export const API_WORKER = 'Api';

/** sst.Secret names, set per stage with `sst secret set <Name> <value>`. */
export const SECRETS = ['DatabaseUrl', 'DatabaseReplicaUrls', 'TokenSecret'] as const;
export type SecretName = (typeof SECRETS)[number];

/** Where production takes one environment variable's value from. */
export type EnvSource =
  | { readonly from: 'secret'; readonly secret: SecretName }
  /** Computed by infra from what it deploys (region, ARNs, the API's access key); sensitive ones are bound as secrets. */
  | { readonly from: 'deployment'; readonly sensitive: boolean }
  | { readonly from: 'setting'; readonly value: string }
  /** Set by the platform itself: Lambda reserves AWS_REGION and its execution role's credentials. */
  | { readonly from: 'runtime' }
  /** Left unset in production: only the local stack points the SDKs at stand-ins. */
  | { readonly from: 'unset' };

const secret = <Name extends SecretName>(name: Name) => ({ from: 'secret', secret: name }) as const;
const setting = (value: string) => ({ from: 'setting', value }) as const;
const deployed = { from: 'deployment', sensitive: false } as const;
const deployedSecret = { from: 'deployment', sensitive: true } as const;
const runtime = { from: 'runtime' } as const;
const unset = { from: 'unset' } as const;

// One definition for what the API and the conductor both read, so the two never disagree (e.g. on
// when a compute service counts as down).
const SHARED_CONTROL_PLANE_ENV = {
  DATABASE_URL: secret('DatabaseUrl'),
  DATABASE_REPLICA_URLS: secret('DatabaseReplicaUrls'),
  DATABASE_FLAVOR: setting('mysql'),
  SQS_ENDPOINT: unset,
  SFN_ENDPOINT: unset,
  STATE_MACHINE_ARNS: deployed,
  COMPUTE_QUEUE_PREFIX: deployed,
  SERVICE_DOWN_TIME_SECONDS: setting('60'),
  REPORT_INTERVAL_SECONDS: setting('10'),
  RESIZE_CONFIRM_WINDOW_SECONDS: setting('86400'),
  NETWORK_API: setting('neutron'),
} as const;

/** The API worker's environment (functions/shared/config.ts ApiEnv). It runs on Cloudflare, so infra hands it an AWS access key. */
export const API_ENV = {
  ...SHARED_CONTROL_PLANE_ENV,
  AWS_REGION: deployed,
  AWS_ACCESS_KEY_ID: deployed,
  AWS_SECRET_ACCESS_KEY: deployedSecret,
  // An IAM user's key does not expire, so there is no session token to hand over.
  AWS_SESSION_TOKEN: unset,
  TOKEN_SECRET: secret('TokenSecret'),
  TOKEN_TTL_SECONDS: setting('3600'),
  REGION_NAME: setting('RegionOne'),
  DISABLED_EXTENSIONS: setting(''),
  POLICY_OVERRIDES: setting('{}'),
  COMMAND_VISIBILITY_TIMEOUT_SECONDS: setting('120'),
  REPLICA_WAIT_MS: setting('2000'),
} as const satisfies Record<string, EnvSource>;

/** The conductor Lambda's environment (functions/shared/config.ts ControlPlaneEnv). */
export const CONDUCTOR_ENV = {
  ...SHARED_CONTROL_PLANE_ENV,
  AWS_REGION: runtime,
  AWS_ACCESS_KEY_ID: runtime,
  AWS_SECRET_ACCESS_KEY: runtime,
  AWS_SESSION_TOKEN: runtime,
} as const satisfies Record<string, EnvSource>;

/**
 * The compute agent's environment (agent/config.ts), documented here because infra deploys no agent:
 * operators install it on each host with the API URL (the `ApiUrl` output) and that host's own API
 * credential. It gets no AWS credential at all; example values are accepted by the agent's parser.
 */
export const AGENT_ENV = {
  AGENT_API_URL: { example: 'https://nova-api.example.workers.dev', purpose: 'the API worker URL' },
  AGENT_HOST: { example: 'compute-01', purpose: 'this host name, as registered with the API' },
  AGENT_CREDENTIAL: {
    example: 'host-secret-from-registration',
    purpose: "the secret part of this host's credential",
  },
  AGENT_STATE_DIR: { example: '/var/lib/nova-agent', purpose: 'where the agent keeps its state' },
  AGENT_AVAILABILITY_ZONE: { example: 'nova', purpose: 'availability zone reported for this host' },
  AGENT_VCPUS: { example: '16', purpose: 'vCPUs offered to instances' },
  AGENT_MEMORY_MB: { example: '32768', purpose: 'memory offered to instances' },
  AGENT_LOCAL_GB: { example: '500', purpose: 'local disk offered to instances' },
  AGENT_REPORT_INTERVAL_SECONDS: { example: '10', purpose: 'how often the host reports its resources' },
  AGENT_HEARTBEAT_INTERVAL_SECONDS: { example: '5', purpose: 'how often a running command heartbeats' },
} as const;

export const API_ENV_KEYS = Object.keys(API_ENV) as (keyof typeof API_ENV)[];
export const CONDUCTOR_ENV_KEYS = Object.keys(CONDUCTOR_ENV) as (keyof typeof CONDUCTOR_ENV)[];
export const AGENT_ENV_KEYS = Object.keys(AGENT_ENV) as (keyof typeof AGENT_ENV)[];

/** Task resources (besides the conductor) that act on the per-host compute queues, with the IAM actions they need. */
export const COMPUTE_QUEUE_TASK_INTEGRATIONS = {
  'arn:aws:states:::sqs:sendMessage.waitForTaskToken': ['sqs:SendMessage'],
  'arn:aws:states:::sqs:sendMessage': ['sqs:SendMessage'],
} as const satisfies Record<string, readonly string[]>;

/** AWS actions the API worker's IAM user may call, by the resources they apply to. */
export const API_AWS_ACTIONS = {
  /** Per-host FIFO queues: created when a host registers, read on the host's behalf. */
  computeQueues: [
    'sqs:CreateQueue',
    'sqs:GetQueueUrl',
    'sqs:SetQueueAttributes',
    'sqs:ReceiveMessage',
    'sqs:DeleteMessage',
    'sqs:ChangeMessageVisibility',
  ],
  stateMachines: ['states:StartExecution'],
  executions: ['states:StopExecution', 'states:DescribeExecution'],
  /** IAM cannot scope callback task tokens to a state machine; the API checks ownership before answering. */
  taskTokens: ['states:SendTaskSuccess', 'states:SendTaskFailure', 'states:SendTaskHeartbeat'],
} as const satisfies Record<string, readonly string[]>;

type KeysFrom<Spec, From extends EnvSource['from']> = {
  [Key in keyof Spec]: Spec[Key] extends { from: From } ? Key : never;
}[keyof Spec] &
  string;

type SecretsOf<Spec> = {
  [Key in keyof Spec]: Spec[Key] extends { from: 'secret'; secret: infer Name } ? Name : never;
}[keyof Spec] &
  SecretName;

export interface EnvironmentValues<Spec, Value> {
  secrets: Record<SecretsOf<Spec>, Value>;
  deployment: Record<KeysFrom<Spec, 'deployment'>, Value>;
}

export interface RenderedEnvironment<Value> {
  plain: Record<string, Value | string>;
  sensitive: Record<string, Value>;
}

/**
 * The variables infra sets for a component, split so secrets can be bound as secrets. Generic in the
 * value type: infra passes Pulumi outputs, tests pass strings. Runtime and unset variables are left out.
 */
export function renderEnvironment<Spec extends Record<string, EnvSource>, Value>(
  spec: Spec,
  values: EnvironmentValues<Spec, Value>,
): RenderedEnvironment<Value> {
  const rendered: RenderedEnvironment<Value> = { plain: {}, sensitive: {} };
  const secrets: Record<string, Value> = values.secrets;
  const deployment: Record<string, Value> = values.deployment;
  for (const [key, source] of Object.entries(spec)) {
    if (source.from === 'secret') rendered.sensitive[key] = required(secrets, source.secret);
    else if (source.from === 'setting') rendered.plain[key] = source.value;
    else if (source.from === 'deployment') {
      const value = required(deployment, key);
      if (source.sensitive) rendered.sensitive[key] = value;
      else rendered.plain[key] = value;
    }
  }
  return rendered;
}

function required<Value>(values: Record<string, Value>, key: string): Value {
  const value = values[key];
  if (value === undefined) throw new Error(`no value given for ${key}`);
  return value;
}
