import * as v from 'valibot';
import { CURRENT_OBJECT_VERSIONS } from '../schema/objects/registry.ts';
import type { FakeOperation } from './drivers/fake.ts';
import { FAKE_OPERATIONS } from './drivers/fake.ts';
import type { VirtDriverName } from './drivers/index.ts';
import { VIRT_DRIVERS } from './drivers/index.ts';

export interface AgentConfig {
  /** Base URL of the API, without a trailing slash. */
  apiUrl: string;
  host: string;
  /** The secret half of this host's API credential. */
  credential: string;
  availabilityZone: string;
  vcpus: number;
  memoryMb: number;
  localGb: number;
  stateDir: string;
  driver: VirtDriverName;
  /** Overrides the interval the API asks for at registration. */
  reportIntervalSeconds: number | undefined;
  heartbeatIntervalSeconds: number;
  fakeLatencyMs: Partial<Record<FakeOperation, number>>;
  fakeFailureProbability: Partial<Record<FakeOperation, number>>;
  /** Object name -> highest version this agent says it understands. */
  objectVersions: Record<string, string>;
}

export class AgentConfigError extends Error {
  override readonly name = 'AgentConfigError';
}

/** Object versions this agent implements; AGENT_OBJECT_VERSIONS can only override them to test mixed fleets. */
const IMPLEMENTED_OBJECT_VERSIONS: Readonly<Record<string, string>> = CURRENT_OBJECT_VERSIONS;

function isFakeOperation(name: string): name is FakeOperation {
  return (FAKE_OPERATIONS as readonly string[]).includes(name);
}

function listEntries(value: string): string[] {
  return value
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '');
}

/** `200` applies to every operation; `spawn=200,terminate=50` sets each one. */
function parseLatencySpec(value: string): Partial<Record<FakeOperation, number>> | undefined {
  const milliseconds = (text: string) => (/^\d+$/.test(text) ? Number(text) : undefined);
  const everyOperation = milliseconds(value.trim());
  if (everyOperation !== undefined) {
    return Object.fromEntries(FAKE_OPERATIONS.map((operation) => [operation, everyOperation]));
  }
  const latency: Partial<Record<FakeOperation, number>> = {};
  for (const entry of listEntries(value)) {
    const [operation = '', amount = '', ...rest] = entry.split('=').map((part) => part.trim());
    const parsed = milliseconds(amount);
    if (!isFakeOperation(operation) || parsed === undefined || rest.length > 0) return undefined;
    latency[operation] = parsed;
  }
  return latency;
}

/** `spawn` always fails spawns; `spawn:0.5` fails half of them. */
function parseFailureSpec(value: string): Partial<Record<FakeOperation, number>> | undefined {
  const failures: Partial<Record<FakeOperation, number>> = {};
  for (const entry of listEntries(value)) {
    const [operation = '', probabilityText, ...rest] = entry.split(':').map((part) => part.trim());
    const probability = probabilityText === undefined ? 1 : Number(probabilityText);
    const validProbability =
      probabilityText !== '' && Number.isFinite(probability) && probability > 0 && probability <= 1;
    if (!isFakeOperation(operation) || !validProbability || rest.length > 0) return undefined;
    failures[operation] = probability;
  }
  return failures;
}

function parseObjectVersions(value: string): Record<string, string> | undefined {
  const versions: Record<string, string> = {};
  for (const entry of listEntries(value)) {
    const [name = '', version = '', ...rest] = entry.split('=').map((part) => part.trim());
    if (!/^[A-Za-z][A-Za-z0-9]*$/.test(name) || !/^\d+\.\d+$/.test(version) || rest.length > 0)
      return undefined;
    versions[name] = version;
  }
  return versions;
}

function parsedWith<T>(parse: (value: string) => T | undefined, expectation: string) {
  return v.pipe(
    v.string(),
    v.check((value) => parse(value) !== undefined, expectation),
    v.transform((value) => parse(value) as T),
  );
}

const requiredText = (expectation: string) =>
  v.pipe(v.string(expectation), v.trim(), v.minLength(1, expectation));

const positiveInteger = (fallback: number) =>
  v.optional(
    v.pipe(
      v.string(),
      v.trim(),
      v.regex(/^[1-9]\d*$/, 'expected a positive integer'),
      v.transform((value) => Number(value)),
    ),
    String(fallback),
  );

const positiveSeconds = v.pipe(
  v.string(),
  v.trim(),
  v.regex(/^\d+(\.\d+)?$/, 'expected a number of seconds'),
  v.transform((value) => Number(value)),
  v.check((value) => value > 0, 'expected a number of seconds greater than 0'),
);

const AgentEnv = v.object({
  AGENT_API_URL: v.pipe(
    requiredText('required: the API base URL, e.g. http://127.0.0.1:8787'),
    v.url('expected a URL such as http://127.0.0.1:8787'),
    v.check((value) => /^https?:\/\//.test(value), 'expected an http:// or https:// URL'),
    v.transform((value) => value.replace(/\/+$/, '')),
  ),
  // The host name travels as `Host <host>:<secret>`, so a colon in it would make the credential ambiguous.
  AGENT_HOST: v.pipe(
    requiredText('required: the compute host name'),
    v.regex(/^[^:\s]+$/, 'expected a host name without colons or spaces'),
  ),
  AGENT_CREDENTIAL: requiredText("required: the secret part of this host's API credential"),
  AGENT_AVAILABILITY_ZONE: v.optional(requiredText('expected a non-empty availability zone'), 'nova'),
  AGENT_VCPUS: positiveInteger(16),
  AGENT_MEMORY_MB: positiveInteger(32768),
  AGENT_LOCAL_GB: positiveInteger(500),
  AGENT_STATE_DIR: requiredText('required: the directory where the agent keeps its state'),
  AGENT_DRIVER: v.optional(
    v.pipe(v.string(), v.trim(), v.picklist(VIRT_DRIVERS, `expected one of: ${VIRT_DRIVERS.join(', ')}`)),
    'fake',
  ),
  AGENT_REPORT_INTERVAL_SECONDS: v.optional(positiveSeconds),
  AGENT_HEARTBEAT_INTERVAL_SECONDS: v.optional(positiveSeconds, '5'),
  AGENT_FAKE_LATENCY_MS: v.optional(
    parsedWith(
      parseLatencySpec,
      `expected milliseconds for every operation (e.g. 200) or per operation (e.g. spawn=200,terminate=50; operations: ${FAKE_OPERATIONS.join(', ')})`,
    ),
    '0',
  ),
  AGENT_FAKE_FAIL: v.optional(
    parsedWith(
      parseFailureSpec,
      `expected a comma list of operations, each optionally with a probability in (0, 1] (e.g. spawn or spawn:0.5; operations: ${FAKE_OPERATIONS.join(', ')})`,
    ),
    '',
  ),
  AGENT_OBJECT_VERSIONS: v.optional(
    parsedWith(parseObjectVersions, 'expected a comma list of Name=major.minor (e.g. Instance=1.0)'),
    '',
  ),
});

/** Reads the agent configuration from environment-style variables; throws AgentConfigError naming every bad variable. */
export function parseAgentConfig(env: Record<string, string | undefined>): AgentConfig {
  // Unset and empty variables both mean "use the default", as shells make the two hard to tell apart.
  const present = Object.fromEntries(
    Object.entries(env).filter(([, value]) => value !== undefined && value !== ''),
  );
  const parsed = v.safeParse(AgentEnv, present);
  if (!parsed.success) {
    const problems = parsed.issues.map((issue) => {
      const variable = issue.path?.[0]?.key;
      const name = typeof variable === 'string' ? variable : 'environment';
      return issue.kind === 'schema' && issue.input === undefined
        ? `${name} is required but not set`
        : `${name}: ${issue.message}`;
    });
    throw new AgentConfigError(`Invalid agent configuration: ${problems.join('; ')}`);
  }
  const values = parsed.output;
  return {
    apiUrl: values.AGENT_API_URL,
    host: values.AGENT_HOST,
    credential: values.AGENT_CREDENTIAL,
    availabilityZone: values.AGENT_AVAILABILITY_ZONE,
    vcpus: values.AGENT_VCPUS,
    memoryMb: values.AGENT_MEMORY_MB,
    localGb: values.AGENT_LOCAL_GB,
    stateDir: values.AGENT_STATE_DIR,
    driver: values.AGENT_DRIVER,
    reportIntervalSeconds: values.AGENT_REPORT_INTERVAL_SECONDS,
    heartbeatIntervalSeconds: values.AGENT_HEARTBEAT_INTERVAL_SECONDS,
    fakeLatencyMs: values.AGENT_FAKE_LATENCY_MS,
    fakeFailureProbability: values.AGENT_FAKE_FAIL,
    objectVersions: { ...IMPLEMENTED_OBJECT_VERSIONS, ...values.AGENT_OBJECT_VERSIONS },
  };
}
