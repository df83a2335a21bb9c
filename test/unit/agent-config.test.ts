import { describe, expect, it } from 'vitest';
import { AgentConfigError, parseAgentConfig } from '../../agent/config.ts';
import { FAKE_OPERATIONS } from '../../agent/drivers/fake.ts';
import { ApiEnv, ConfigError, parseConfig } from '../../functions/shared/config.ts';
import { COMPUTE_COMMAND_NAMES } from '../../schema/objects/compute-command.ts';
import { CURRENT_OBJECT_VERSIONS } from '../../schema/objects/registry.ts';

const REQUIRED = {
  AGENT_API_URL: 'http://127.0.0.1:8787',
  AGENT_HOST: 'compute-1',
  AGENT_CREDENTIAL: 's3cret',
  AGENT_STATE_DIR: '.local/agent/compute-1',
};

function configError(env: Record<string, string | undefined>): AgentConfigError {
  try {
    parseAgentConfig(env);
  } catch (error) {
    if (error instanceof AgentConfigError) return error;
    throw error;
  }
  throw new Error('expected the configuration to be rejected');
}

describe('parseAgentConfig', () => {
  it('fills in the documented defaults when only the required variables are set', () => {
    expect(parseAgentConfig(REQUIRED)).toEqual({
      apiUrl: 'http://127.0.0.1:8787',
      host: 'compute-1',
      credential: 's3cret',
      availabilityZone: 'nova',
      vcpus: 16,
      memoryMb: 32768,
      localGb: 500,
      stateDir: '.local/agent/compute-1',
      driver: 'fake',
      reportIntervalSeconds: undefined,
      heartbeatIntervalSeconds: 5,
      fakeLatencyMs: Object.fromEntries(FAKE_OPERATIONS.map((operation) => [operation, 0])),
      fakeFailureProbability: {},
      objectVersions: { ...CURRENT_OBJECT_VERSIONS },
    });
  });

  it('names every missing required variable', () => {
    const { message } = configError({ AGENT_VCPUS: '4' });
    for (const name of ['AGENT_API_URL', 'AGENT_HOST', 'AGENT_CREDENTIAL', 'AGENT_STATE_DIR']) {
      expect(message).toContain(`${name} is required`);
    }
  });

  it('treats an empty variable like an unset one', () => {
    expect(parseAgentConfig({ ...REQUIRED, AGENT_VCPUS: '', AGENT_AVAILABILITY_ZONE: '' })).toMatchObject({
      vcpus: 16,
      availabilityZone: 'nova',
    });
    expect(configError({ ...REQUIRED, AGENT_HOST: '' }).message).toContain('AGENT_HOST is required');
  });

  it('reads sizes, intervals and the availability zone', () => {
    const config = parseAgentConfig({
      ...REQUIRED,
      AGENT_API_URL: 'http://127.0.0.1:8787/',
      AGENT_AVAILABILITY_ZONE: 'az-2',
      AGENT_VCPUS: '8',
      AGENT_MEMORY_MB: '4096',
      AGENT_LOCAL_GB: '40',
      AGENT_REPORT_INTERVAL_SECONDS: '2.5',
      AGENT_HEARTBEAT_INTERVAL_SECONDS: '1',
    });
    expect(config).toMatchObject({
      apiUrl: 'http://127.0.0.1:8787',
      availabilityZone: 'az-2',
      vcpus: 8,
      memoryMb: 4096,
      localGb: 40,
      reportIntervalSeconds: 2.5,
      heartbeatIntervalSeconds: 1,
    });
  });

  it('names the variable holding a bad number', () => {
    expect(configError({ ...REQUIRED, AGENT_VCPUS: 'lots' }).message).toMatch(
      /AGENT_VCPUS: expected a positive integer/,
    );
    expect(configError({ ...REQUIRED, AGENT_MEMORY_MB: '0' }).message).toMatch(/AGENT_MEMORY_MB/);
    expect(configError({ ...REQUIRED, AGENT_REPORT_INTERVAL_SECONDS: '0' }).message).toMatch(
      /AGENT_REPORT_INTERVAL_SECONDS/,
    );
    expect(configError({ ...REQUIRED, AGENT_HEARTBEAT_INTERVAL_SECONDS: '-1' }).message).toMatch(
      /AGENT_HEARTBEAT_INTERVAL_SECONDS/,
    );
  });

  it('rejects an API URL that is not http(s) and a host name that would break the credential header', () => {
    expect(configError({ ...REQUIRED, AGENT_API_URL: 'ftp://127.0.0.1' }).message).toMatch(/AGENT_API_URL/);
    expect(configError({ ...REQUIRED, AGENT_API_URL: 'not a url' }).message).toMatch(/AGENT_API_URL/);
    const { message } = configError({ ...REQUIRED, AGENT_HOST: 'compute:1' });
    expect(message).toMatch(/AGENT_HOST/);
    expect(message).not.toMatch(/AGENT_API_URL/);
  });

  it('reads fake latency as one number for all operations or per operation', () => {
    expect(parseAgentConfig({ ...REQUIRED, AGENT_FAKE_LATENCY_MS: '150' }).fakeLatencyMs).toEqual(
      Object.fromEntries(FAKE_OPERATIONS.map((operation) => [operation, 150])),
    );
    expect(
      parseAgentConfig({ ...REQUIRED, AGENT_FAKE_LATENCY_MS: 'spawn=200, terminate=50' }).fakeLatencyMs,
    ).toEqual({ spawn: 200, terminate: 50 });
    expect(configError({ ...REQUIRED, AGENT_FAKE_LATENCY_MS: 'teleport=10' }).message).toMatch(
      /AGENT_FAKE_LATENCY_MS/,
    );
    expect(configError({ ...REQUIRED, AGENT_FAKE_LATENCY_MS: 'spawn=fast' }).message).toMatch(
      /AGENT_FAKE_LATENCY_MS/,
    );
  });

  it('reads failure injection with an optional probability', () => {
    expect(parseAgentConfig({ ...REQUIRED, AGENT_FAKE_FAIL: 'spawn' }).fakeFailureProbability).toEqual({
      spawn: 1,
    });
    expect(
      parseAgentConfig({ ...REQUIRED, AGENT_FAKE_FAIL: 'spawn:0.5,terminate' }).fakeFailureProbability,
    ).toEqual({ spawn: 0.5, terminate: 1 });
    expect(configError({ ...REQUIRED, AGENT_FAKE_FAIL: 'spawn:1.5' }).message).toMatch(/AGENT_FAKE_FAIL/);
    expect(configError({ ...REQUIRED, AGENT_FAKE_FAIL: 'spawn:' }).message).toMatch(/AGENT_FAKE_FAIL/);
    expect(configError({ ...REQUIRED, AGENT_FAKE_FAIL: 'migrate' }).message).toMatch(/AGENT_FAKE_FAIL/);
  });

  it('targets migration commands by name for latency and failure injection', () => {
    const config = parseAgentConfig({
      ...REQUIRED,
      AGENT_FAKE_LATENCY_MS: 'live_migration=5000,finish_resize=100',
      AGENT_FAKE_FAIL: 'finish_resize,post_live_migration_at_destination:0.25',
    });
    expect(config.fakeLatencyMs).toEqual({ live_migration: 5000, finish_resize: 100 });
    expect(config.fakeFailureProbability).toEqual({
      finish_resize: 1,
      post_live_migration_at_destination: 0.25,
    });
    for (const operation of [
      'prep_resize',
      'migrate_disk_and_power_off',
      'finish_revert_resize',
      'pre_live_migration',
    ]) {
      expect(parseAgentConfig({ ...REQUIRED, AGENT_FAKE_FAIL: operation }).fakeFailureProbability).toEqual({
        [operation]: 1,
      });
    }
  });

  it('takes latency and failure injection for every command the agent runs, and nothing else', () => {
    expect(Object.keys(parseAgentConfig(REQUIRED).fakeLatencyMs)).toEqual([...COMPUTE_COMMAND_NAMES]);
    for (const name of COMPUTE_COMMAND_NAMES) {
      const config = parseAgentConfig({
        ...REQUIRED,
        AGENT_FAKE_LATENCY_MS: `${name}=7`,
        AGENT_FAKE_FAIL: name,
      });
      expect(config.fakeLatencyMs).toEqual({ [name]: 7 });
      expect(config.fakeFailureProbability).toEqual({ [name]: 1 });
    }
    expect([...FAKE_OPERATIONS].sort()).toEqual([...COMPUTE_COMMAND_NAMES].sort());
  });

  it('chooses the fake virt driver unless AGENT_DRIVER names another it knows', () => {
    expect(parseAgentConfig({ ...REQUIRED, AGENT_DRIVER: ' fake ' }).driver).toBe('fake');
    const { message } = configError({ ...REQUIRED, AGENT_DRIVER: 'ipmi' });
    expect(message).toMatch(/AGENT_DRIVER: expected one of: fake/);
  });

  it('lets the reported object versions be overridden', () => {
    expect(parseAgentConfig({ ...REQUIRED, AGENT_OBJECT_VERSIONS: 'Instance=2.0' }).objectVersions).toEqual({
      ...CURRENT_OBJECT_VERSIONS,
      Instance: '2.0',
    });
    expect(configError({ ...REQUIRED, AGENT_OBJECT_VERSIONS: 'Instance=latest' }).message).toMatch(
      /AGENT_OBJECT_VERSIONS/,
    );
  });
});

describe("COMMAND_VISIBILITY_TIMEOUT_SECONDS (the API side of the agents' command queues)", () => {
  const API_REQUIRED = {
    DATABASE_URL: 'https://user:password@db.example.com',
    STATE_MACHINE_ARNS: '{}',
    TOKEN_SECRET: 'a-token-signing-key-of-32-characters!',
  };

  it('defaults to 120 seconds and reads a configured number', () => {
    expect(parseConfig(ApiEnv, API_REQUIRED).COMMAND_VISIBILITY_TIMEOUT_SECONDS).toBe(120);
    expect(
      parseConfig(ApiEnv, { ...API_REQUIRED, COMMAND_VISIBILITY_TIMEOUT_SECONDS: '8' })
        .COMMAND_VISIBILITY_TIMEOUT_SECONDS,
    ).toBe(8);
  });

  it('refuses what SQS would refuse: zero, fractions, more than 12 hours', () => {
    for (const value of ['0', '1.5', 'soon', '43201']) {
      expect(() =>
        parseConfig(ApiEnv, { ...API_REQUIRED, COMMAND_VISIBILITY_TIMEOUT_SECONDS: value }),
      ).toThrow(ConfigError);
    }
    expect(
      parseConfig(ApiEnv, { ...API_REQUIRED, COMMAND_VISIBILITY_TIMEOUT_SECONDS: '43200' })
        .COMMAND_VISIBILITY_TIMEOUT_SECONDS,
    ).toBe(43_200);
  });
});
