import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ComputeAgent } from '../../agent/agent.ts';
import { parseAgentConfig } from '../../agent/config.ts';
import { FakeDriver } from '../../agent/drivers/fake.ts';
import type { DeliveredCommand } from '../../schema/objects/compute-command.ts';
import { CURRENT_OBJECT_VERSIONS } from '../../schema/objects/registry.ts';

const PREFIX = '/compute-agent/v1';
const HOST = 'compute-1';
const SECRET = 's3cret';

interface RecordedRequest {
  path: string;
  authorization: string | undefined;
  body: unknown;
}

/** Just enough of the compute-agent API to watch what the agent sends; commands are queued by the test. */
class FakeComputeApi {
  readonly requests: RecordedRequest[] = [];
  receiveFailuresLeft = 0;
  reportConflictsLeft = 0;
  /** Long polls the agent gave up on (it closed the connection before an answer). */
  abandonedPolls = 0;
  private readonly queued: DeliveredCommand[] = [];
  private heldPoll: { response: ServerResponse; max: number } | undefined;
  private readonly listeners = new Set<() => void>();
  private readonly server = createServer((request, response) => {
    void this.handle(request, response);
  });

  async listen(): Promise<string> {
    this.server.listen(0, '127.0.0.1');
    await once(this.server, 'listening');
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    this.server.close();
    await once(this.server, 'close');
  }

  deliver(...commands: DeliveredCommand[]): void {
    this.queued.push(...commands);
    this.answerHeldPoll();
  }

  requestsTo(path: string): RecordedRequest[] {
    return this.requests.filter((request) => request.path === `${PREFIX}${path}`);
  }

  resultsFor(commandId: string): unknown[] {
    return this.requestsTo(`/commands/${commandId}/result`).map((request) => request.body);
  }

  /** Resolves once the recorded requests satisfy `condition` (the test's own timeout bounds the wait). */
  async until(condition: () => boolean): Promise<void> {
    while (!condition()) {
      await new Promise<void>((resolve) => {
        this.listeners.add(resolve);
      });
    }
  }

  private async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const text = Buffer.concat(chunks).toString('utf8');
    const path = request.url ?? '';
    const body: unknown = text === '' ? undefined : JSON.parse(text);
    this.requests.push({ path, authorization: request.headers.authorization, body });
    this.notify();

    if (request.headers.authorization !== `Host ${HOST}:${SECRET}`) {
      return this.json(response, 403, { forbidden: { code: 403, message: 'Bad host credential' } });
    }
    if (path === `${PREFIX}/register`) {
      return this.json(response, 200, { host: HOST, report_interval_seconds: 60 });
    }
    if (path === `${PREFIX}/report`) {
      if (this.reportConflictsLeft > 0) {
        this.reportConflictsLeft--;
        return this.json(response, 409, {
          conflictingRequest: { code: 409, message: `Compute host ${HOST} is not registered` },
        });
      }
      return this.noContent(response);
    }
    if (path === `${PREFIX}/commands/receive`) {
      if (this.receiveFailuresLeft > 0) {
        this.receiveFailuresLeft--;
        return this.json(response, 500, { computeFault: { code: 500, message: 'queue unavailable' } });
      }
      const { max } = body as { max: number };
      this.heldPoll = { response, max };
      response.on('close', () => {
        if (this.heldPoll?.response === response && !response.writableEnded) {
          this.heldPoll = undefined;
          this.abandonedPolls++;
          this.notify();
        }
      });
      this.answerHeldPoll();
      return;
    }
    if (/\/commands\/[^/]+\/(heartbeat|result)$/.test(path)) return this.noContent(response);
    this.json(response, 404, { itemNotFound: { code: 404, message: `No route ${path}` } });
  }

  private answerHeldPoll(): void {
    if (!this.heldPoll || this.queued.length === 0) return;
    const { response, max } = this.heldPoll;
    this.heldPoll = undefined;
    this.json(response, 200, { commands: this.queued.splice(0, max) });
  }

  private json(response: ServerResponse, status: number, body: unknown): void {
    response.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  }

  private noContent(response: ServerResponse): void {
    response.writeHead(204).end();
    this.notify();
  }

  private notify(): void {
    const waiting = [...this.listeners];
    this.listeners.clear();
    for (const resolve of waiting) resolve();
  }
}

function instancePrimitive(uuid: string, version = '1.0'): Record<string, unknown> {
  return {
    'nova_object.name': 'Instance',
    'nova_object.namespace': 'nova',
    'nova_object.version': version,
    'nova_object.data': {
      uuid,
      name: 'vm-1',
      project_id: 'project-a',
      image_ref: 'image-1',
      memory_mb: 512,
      vcpus: 2,
      root_gb: 1,
      host: HOST,
      node: HOST,
    },
  };
}

function command(name: DeliveredCommand['name'], uuid: string, version?: string): DeliveredCommand {
  return { command_id: randomUUID(), name, instance: instancePrimitive(uuid, version) };
}

let api: FakeComputeApi;
let apiUrl: string;
let stateDir: string;
const running: ComputeAgent[] = [];

beforeEach(async () => {
  api = new FakeComputeApi();
  apiUrl = await api.listen();
  stateDir = await mkdtemp(join(tmpdir(), 'agent-commands-'));
});

afterEach(async () => {
  await Promise.all(running.splice(0).map((agent) => agent.stop()));
  await api.close();
  await rm(stateDir, { recursive: true, force: true });
});

async function startAgent(env: Record<string, string> = {}): Promise<ComputeAgent> {
  const config = parseAgentConfig({
    AGENT_API_URL: apiUrl,
    AGENT_HOST: HOST,
    AGENT_CREDENTIAL: SECRET,
    AGENT_STATE_DIR: stateDir,
    AGENT_AVAILABILITY_ZONE: 'az-1',
    AGENT_VCPUS: '8',
    AGENT_MEMORY_MB: '16384',
    AGENT_LOCAL_GB: '200',
    ...env,
  });
  const agent = new ComputeAgent(config, { log: () => undefined });
  running.push(agent);
  await agent.start();
  return agent;
}

async function instancesOnHost(): Promise<string[]> {
  const driver = new FakeDriver({
    stateDir,
    hypervisorHostname: HOST,
    vcpus: 8,
    memoryMb: 16384,
    localGb: 200,
  });
  return (await driver.listInstances()).map((instance) => instance.uuid);
}

async function resultOf(delivered: DeliveredCommand, count = 1): Promise<unknown> {
  await api.until(() => api.resultsFor(delivered.command_id).length >= count);
  return api.resultsFor(delivered.command_id)[count - 1];
}

describe('ComputeAgent protocol handling', () => {
  it('registers with its host credential and what the host offers, then reports', async () => {
    await startAgent();
    await api.until(() => api.requestsTo('/report').length > 0);

    const [registration] = api.requestsTo('/register');
    expect(registration?.authorization).toBe(`Host ${HOST}:${SECRET}`);
    expect(registration?.body).toEqual({
      host: HOST,
      availability_zone: 'az-1',
      hypervisor_hostname: HOST,
      hypervisor_type: 'fake',
      hypervisor_version: 1,
      vcpus: 8,
      memory_mb: 16384,
      local_gb: 200,
      supported_objects: CURRENT_OBJECT_VERSIONS,
    });
    const report = api.requestsTo('/report')[0]?.body as { metrics: Array<{ name: string }> };
    expect(report).toMatchObject({ vcpus: 8, memory_mb: 16384, local_gb: 200, instances: [] });
    expect(report.metrics.map((metric) => metric.name).sort()).toEqual(['cpu.frequency', 'cpu.percent']);
  });

  it('registers again when a report says the host is not registered', async () => {
    api.reportConflictsLeft = 1;
    await startAgent({ AGENT_REPORT_INTERVAL_SECONDS: '0.05' });
    await api.until(() => api.requestsTo('/register').length >= 2);
    await api.until(() => api.requestsTo('/report').length >= 2);
  });

  it('answers a delivered spawn with succeeded and the placement, and the instance exists', async () => {
    await startAgent();
    const uuid = randomUUID();
    const spawn = command('spawn', uuid);
    api.deliver(spawn);

    expect(await resultOf(spawn)).toEqual({
      status: 'succeeded',
      output: { host: HOST, node: HOST, power_state: 1 },
    });
    expect(await instancesOnHost()).toEqual([uuid]);
  });

  it('answers a redelivered command with the stored result without running it again, even after a restart', async () => {
    const first = await startAgent();
    const uuid = randomUUID();
    const spawn = command('spawn', uuid);
    const terminate = command('terminate', uuid);
    api.deliver(spawn);
    const answer = await resultOf(spawn);
    api.deliver(terminate);
    expect(await resultOf(terminate)).toEqual({ status: 'succeeded', output: {} });

    // Were the spawn run again, the instance would be back on the host.
    api.deliver(spawn);
    expect(await resultOf(spawn, 2)).toEqual(answer);
    expect(await instancesOnHost()).toEqual([]);

    await first.stop();
    await startAgent();
    api.deliver(spawn);
    expect(await resultOf(spawn, 3)).toEqual(answer);
    expect(await instancesOnHost()).toEqual([]);
  });

  it('answers failed with the driver error type when failure is injected', async () => {
    await startAgent({ AGENT_FAKE_FAIL: 'spawn' });
    const uuid = randomUUID();
    const spawn = command('spawn', uuid);
    api.deliver(spawn);

    expect(await resultOf(spawn)).toEqual({
      status: 'failed',
      error: { type: 'FakeInjectedFailure', message: expect.stringContaining(uuid) },
    });
    expect(await instancesOnHost()).toEqual([]);

    const terminate = command('terminate', uuid);
    api.deliver(terminate);
    expect(await resultOf(terminate)).toMatchObject({ status: 'succeeded' });
  });

  it('answers failed with IncompatibleObjectVersion for an instance of a newer major version', async () => {
    await startAgent();
    const spawn = command('spawn', randomUUID(), '2.0');
    api.deliver(spawn);

    expect(await resultOf(spawn)).toMatchObject({
      status: 'failed',
      error: { type: 'IncompatibleObjectVersion' },
    });
    expect(await instancesOnHost()).toEqual([]);
  });

  it('sends heartbeats while a slow command runs, and none after its result', async () => {
    await startAgent({ AGENT_FAKE_LATENCY_MS: 'spawn=500', AGENT_HEARTBEAT_INTERVAL_SECONDS: '0.05' });
    const spawn = command('spawn', randomUUID());
    api.deliver(spawn);
    await resultOf(spawn);

    const forCommand = api.requests.filter((request) => request.path.includes(spawn.command_id));
    const kinds = forCommand.map((request) => request.path.split('/').at(-1));
    expect(kinds.filter((kind) => kind === 'heartbeat').length).toBeGreaterThanOrEqual(1);
    expect(kinds.at(-1)).toBe('result');
    expect(forCommand.every((request) => request.authorization === `Host ${HOST}:${SECRET}`)).toBe(true);
  });

  it('runs commands for one instance in the order they were delivered', async () => {
    await startAgent({ AGENT_FAKE_LATENCY_MS: 'spawn=200,terminate=0' });
    const uuid = randomUUID();
    const spawn = command('spawn', uuid);
    const terminate = command('terminate', uuid);
    api.deliver(spawn, terminate);

    await resultOf(spawn);
    await resultOf(terminate);
    // A terminate overtaking the slow spawn would leave the instance running.
    expect(await instancesOnHost()).toEqual([]);
  });

  it('keeps receiving after the API fails, and stops by abandoning the pending long poll', async () => {
    api.receiveFailuresLeft = 2;
    const agent = await startAgent();
    const spawn = command('spawn', randomUUID());
    api.deliver(spawn);
    expect(await resultOf(spawn)).toMatchObject({ status: 'succeeded' });
    expect(api.requestsTo('/commands/receive').length).toBeGreaterThanOrEqual(3);

    await api.until(() => api.requestsTo('/commands/receive').length >= 4);
    await agent.stop();
    await api.until(() => api.abandonedPolls === 1);
  });

  it('refuses to start when the API rejects its credential', async () => {
    const config = parseAgentConfig({
      AGENT_API_URL: apiUrl,
      AGENT_HOST: HOST,
      AGENT_CREDENTIAL: 'wrong',
      AGENT_STATE_DIR: stateDir,
    });
    const agent = new ComputeAgent(config, { log: () => undefined });
    await expect(agent.start()).rejects.toThrow(/403 forbidden: Bad host credential/);
    await agent.stop();
  });
});
