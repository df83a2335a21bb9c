import * as v from 'valibot';

// Configuration shared by the API worker and the conductor, from their environment (Workers
// bindings or Lambda env). Every variable is documented in the README's Configuration table.
const commaList = v.pipe(
  v.optional(v.string(), ''),
  v.transform((value) =>
    value
      .split(',')
      .map((item) => item.trim())
      .filter((item) => item.length > 0),
  ),
);

const positiveInt = (fallback: number) =>
  v.pipe(v.optional(v.string(), String(fallback)), v.transform(Number), v.integer(), v.minValue(1));

const nonNegativeInt = (fallback: number) =>
  v.pipe(v.optional(v.string(), String(fallback)), v.transform(Number), v.integer(), v.minValue(0));

const optionalUrl = v.optional(v.pipe(v.string(), v.url()));

export const ControlPlaneEnv = v.object({
  DATABASE_URL: v.pipe(v.string(), v.url()),
  DATABASE_REPLICA_URLS: commaList,
  /** How replication positions are read: `mysql` (PlanetScale/Vitess) or `mariadb` (the local stand-in). */
  DATABASE_FLAVOR: v.optional(v.picklist(['mysql', 'mariadb']), 'mysql'),
  AWS_REGION: v.optional(v.string(), 'us-east-1'),
  AWS_ACCESS_KEY_ID: v.optional(v.string()),
  AWS_SECRET_ACCESS_KEY: v.optional(v.string()),
  /** Set with temporary credentials (a Lambda role's); the SDK refuses a temporary key without it. */
  AWS_SESSION_TOKEN: v.optional(v.string()),
  SQS_ENDPOINT: optionalUrl,
  SFN_ENDPOINT: optionalUrl,
  /** JSON object: workflow name (workflows/index.ts) → state machine ARN. */
  STATE_MACHINE_ARNS: v.pipe(
    v.string(),
    v.parseJson(),
    v.record(v.string(), v.pipe(v.string(), v.startsWith('arn:'))),
  ),
  COMPUTE_QUEUE_PREFIX: v.optional(v.pipe(v.string(), v.regex(/^[A-Za-z0-9_-]*$/)), 'nova-'),
  SERVICE_DOWN_TIME_SECONDS: positiveInt(60),
  REPORT_INTERVAL_SECONDS: positiveInt(10),
  /** A resize or cold migration left unconfirmed this long is confirmed automatically; 0 never does. */
  RESIZE_CONFIRM_WINDOW_SECONDS: nonNegativeInt(86_400),
  /**
   * The network API of a deployment that has not recorded one yet: `neutron` (the networking service,
   * /network/v2.0) or `nova-network` (the deprecated legacy API). Once the migration's cut-over has
   * recorded `neutron` in network_settings, that record decides (functions/network/mode.ts).
   */
  NETWORK_API: v.optional(v.picklist(['neutron', 'nova-network']), 'neutron'),
});
export type ControlPlaneConfig = v.InferOutput<typeof ControlPlaneEnv>;

export const ApiEnv = v.object({
  ...ControlPlaneEnv.entries,
  /** HMAC key that signs identity tokens; at least 32 characters. */
  TOKEN_SECRET: v.pipe(v.string(), v.minLength(32, 'TOKEN_SECRET must be at least 32 characters')),
  TOKEN_TTL_SECONDS: positiveInt(3600),
  REGION_NAME: v.optional(v.string(), 'RegionOne'),
  /** Comma-separated aliases of v3 extensions not to serve (core extensions cannot be disabled). */
  DISABLED_EXTENSIONS: commaList,
  /** JSON object: policy rule name → `admin_api` | `admin_or_owner`, replacing that rule's default (functions/api/policy.ts). */
  POLICY_OVERRIDES: v.pipe(
    v.optional(v.string(), '{}'),
    v.parseJson(),
    v.record(v.string(), v.picklist(['admin_api', 'admin_or_owner'])),
  ),
  /**
   * How long a command received by an agent stays hidden in its host queue; every heartbeat extends it
   * by as much. Past it (the agent crashed, so no heartbeat) the same command is delivered again.
   * SQS allows at most 12 hours.
   */
  COMMAND_VISIBILITY_TIMEOUT_SECONDS: v.pipe(positiveInt(120), v.maxValue(43_200)),
  /**
   * How long a successful write waits, before it answers, for every replica to apply it, so that a
   * client sending no consistency token still reads its own writes. A replica that takes longer serves
   * no reads until it has caught up (functions/api/middleware/consistency.ts). 0 turns both off.
   */
  REPLICA_WAIT_MS: nonNegativeInt(2000),
});
export type ApiConfig = v.InferOutput<typeof ApiEnv>;

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

export function parseConfig<TSchema extends v.GenericSchema>(
  schema: TSchema,
  env: Record<string, unknown>,
): v.InferOutput<TSchema> {
  const result = v.safeParse(schema, env);
  if (result.success) return result.output;
  const problems = result.issues.map((issue) => `${v.getDotPath(issue) ?? '(env)'}: ${issue.message}`);
  throw new ConfigError(`Invalid configuration: ${problems.join('; ')}`);
}
