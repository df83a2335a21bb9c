import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { mkdtemp, rm, unlink } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ComputeAgent } from '../../agent/agent.ts';
import { parseAgentConfig } from '../../agent/config.ts';
import type { DriverInstance } from '../../agent/drivers/driver.ts';
import { POWER_STATE } from '../../agent/drivers/driver.ts';
import type { FakeDriverOptions } from '../../agent/drivers/fake.ts';
import { FakeDriver } from '../../agent/drivers/fake.ts';
import { makeCompatible } from '../../schema/objects/base.ts';
import {
  COMPUTE_COMMAND_NAMES,
  type DeliveredCommand,
  isHostCommandName,
} from '../../schema/objects/compute-command.ts';
import { type InstanceData, InstanceObject } from '../../schema/objects/instance.ts';
import type { Vif } from '../../schema/objects/network-info.ts';
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
  /** What report answers list as evacuated away from this host. */
  evacuated: string[] = [];
  /** Answer reports 204 with no body, as an API from before evacuation cleanup does. */
  reportsWithoutBody = false;
  /** Set: live_migration heartbeats answer 200 with this control; unset: 204 like other commands. */
  control: 'cancel' | 'force_complete' | null | undefined;
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
      if (this.reportsWithoutBody) return this.noContent(response);
      return this.json(response, 200, { evacuated: this.evacuated });
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
    if (path.endsWith('/heartbeat') && this.control !== undefined) {
      return this.json(response, 200, { control: this.control });
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
    this.notify();
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

/** A VIF of network info with one fixed address, as the control plane's cache holds it. */
const NETWORK_INFO_VIF: Vif = {
  id: 'port-aaaaaaaaaaaa',
  address: 'fa:16:3e:00:00:01',
  devname: 'tapport-aaaaaa',
  type: 'bridge',
  active: true,
  preserve_on_delete: false,
  network: {
    id: 'net-1',
    label: 'private',
    bridge: null,
    vlan: null,
    mtu: 1500,
    subnets: [
      {
        cidr: '10.0.0.0/24',
        version: 4,
        gateway: '10.0.0.1',
        dns: [],
        routes: [],
        ips: [{ address: '10.0.0.5', type: 'fixed', version: 4, floating_ips: [] }],
      },
    ],
  },
};

function instanceData(
  uuid: string,
  sizes: { vcpus: number; memory_mb: number } = { vcpus: 2, memory_mb: 512 },
): InstanceData {
  return {
    uuid,
    name: 'vm-1',
    project_id: 'project-a',
    image_ref: 'image-1',
    ...sizes,
    root_gb: 1,
    host: HOST,
    node: HOST,
  };
}

function instancePrimitive(
  uuid: string,
  version = '1.0',
  sizes?: { vcpus: number; memory_mb: number },
): Record<string, unknown> {
  return {
    'nova_object.name': 'Instance',
    'nova_object.namespace': 'nova',
    'nova_object.version': version,
    'nova_object.data': instanceData(uuid, sizes),
  };
}

/** Every field of the current Instance, backported to `version` as the control plane sends it. */
function currentInstancePrimitive(uuid: string, version: string, networkInfo: Vif[] = []) {
  return makeCompatible(
    InstanceObject,
    {
      ...instanceData(uuid),
      availability_zone: 'az-1',
      metadata: {},
      flavor: {
        flavorid: '1',
        name: 'm1.tiny',
        memory_mb: 512,
        vcpus: 2,
        root_gb: 1,
        ephemeral_gb: 0,
        swap: 0,
      },
      network_info: networkInfo,
    },
    version,
  ) as unknown as Record<string, unknown>;
}

function command(name: DeliveredCommand['name'], uuid: string, version?: string): DeliveredCommand {
  return { command_id: randomUUID(), name, instance: instancePrimitive(uuid, version), params: {} };
}

/** A migration command with its params; the instance carries `sizes` (the flavor the step applies). */
function migrationCommand(
  name: DeliveredCommand['name'],
  uuid: string,
  params: Record<string, unknown>,
  sizes?: { vcpus: number; memory_mb: number },
): DeliveredCommand {
  return { command_id: randomUUID(), name, instance: instancePrimitive(uuid, '1.0', sizes), params };
}

let api: FakeComputeApi;
let apiUrl: string;
let stateDir: string;
let logs: string[];
const running: ComputeAgent[] = [];

beforeEach(async () => {
  api = new FakeComputeApi();
  apiUrl = await api.listen();
  stateDir = await mkdtemp(join(tmpdir(), 'agent-commands-'));
  logs = [];
});

afterEach(async () => {
  await Promise.all(running.splice(0).map((agent) => agent.stop()));
  await api.close();
  await rm(stateDir, { recursive: true, force: true });
});

type FakeKnobs = Pick<FakeDriverOptions, 'latencyMs' | 'failureProbability'>;

/** The host's fake driver; latency and failures are the test's to set. */
function fakeDriver(knobs: FakeKnobs = {}): FakeDriver {
  return new FakeDriver({
    stateDir,
    hypervisorHostname: HOST,
    vcpus: 8,
    memoryMb: 16384,
    localGb: 200,
    ...knobs,
  });
}

/** An agent handed a fake driver with `knobs`; `env` adds AGENT_* variables to its configuration. */
async function startAgent({
  env = {},
  ...knobs
}: FakeKnobs & { env?: Record<string, string> } = {}): Promise<ComputeAgent> {
  const config = parseAgentConfig({
    AGENT_API_URL: apiUrl,
    AGENT_HOST: HOST,
    AGENT_CREDENTIAL: SECRET,
    AGENT_STATE_DIR: stateDir,
    AGENT_AVAILABILITY_ZONE: 'az-1',
    ...env,
  });
  const agent = new ComputeAgent(config, fakeDriver(knobs), { log: (line) => logs.push(line) });
  running.push(agent);
  await agent.start();
  return agent;
}

/** The guests on the host as a fresh driver reads them from disk. */
async function guestsOnHost(): Promise<DriverInstance[]> {
  return fakeDriver().listInstances();
}

async function instancesOnHost(): Promise<string[]> {
  return (await guestsOnHost()).map((instance) => instance.uuid);
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
      supported_commands: [...COMPUTE_COMMAND_NAMES],
    });
    const report = api.requestsTo('/report')[0]?.body as { metrics: Array<{ name: string }> };
    expect(report).toMatchObject({ vcpus: 8, memory_mb: 16384, local_gb: 200, instances: [] });
    expect(report.metrics.map((metric) => metric.name).sort()).toEqual(['cpu.frequency', 'cpu.percent']);
  });

  it('keeps reporting without complaint to an API that answers reports with no body', async () => {
    api.reportsWithoutBody = true;
    await startAgent({ env: { AGENT_REPORT_INTERVAL_SECONDS: '0.05' } });
    await api.until(() => api.requestsTo('/report').length >= 3);
    expect(logs.filter((line) => line.includes('report failed'))).toEqual([]);
  });

  it('registers again when a report says the host is not registered', async () => {
    api.reportConflictsLeft = 1;
    await startAgent({ env: { AGENT_REPORT_INTERVAL_SECONDS: '0.05' } });
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
    await startAgent({ failureProbability: { spawn: 1 } });
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

  it("fails every instance command it runs through that command's own fake failure knob", async () => {
    const uuid = randomUUID();
    // live_migration looks for its guest before the copy, and so before the injected failure.
    await fakeDriver().spawn(instanceData(uuid));
    await startAgent({
      failureProbability: Object.fromEntries(COMPUTE_COMMAND_NAMES.map((name) => [name, 1])),
    });
    // Every command's params at once: each command reads its own and ignores the others. The
    // network commands carry Instance 1.4, whose network info has the port they name.
    const port = randomUUID();
    const params = { power_on: true, block_migration: false, dest_host: 'compute-2', port_id: port };
    const withPort = currentInstancePrimitive(uuid, '1.4', [{ ...NETWORK_INFO_VIF, id: port }]);
    const commands = COMPUTE_COMMAND_NAMES.filter((name) => !isHostCommandName(name)).map((name) =>
      ['plug_vifs', 'attach_interface', 'detach_interface'].includes(name)
        ? { command_id: randomUUID(), name, instance: withPort, params }
        : migrationCommand(name, uuid, params),
    );
    api.deliver(...commands);

    for (const delivered of commands) {
      expect(await resultOf(delivered)).toEqual({
        status: 'failed',
        error: {
          type: 'FakeInjectedFailure',
          message: `Injected ${delivered.name} failure for instance ${uuid}`,
        },
      });
    }
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
    await startAgent({ latencyMs: { spawn: 500 }, env: { AGENT_HEARTBEAT_INTERVAL_SECONDS: '0.05' } });
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
    await startAgent({ latencyMs: { spawn: 200, terminate: 0 } });
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
    const agent = new ComputeAgent(config, fakeDriver(), { log: () => undefined });
    await expect(agent.start()).rejects.toThrow(/403 forbidden: Bad host credential/);
    await agent.stop();
  });
});

function cacheImages(params: Record<string, unknown>): DeliveredCommand {
  return { command_id: randomUUID(), name: 'cache_images', instance: {}, params };
}

describe('ComputeAgent cache_images', () => {
  it('caches the images with no instance, answering per image: cached now, or already there', async () => {
    const first = await startAgent();
    const [imageA, imageB] = [randomUUID(), randomUUID()];
    const once = cacheImages({ image_ids: [imageA] });
    api.deliver(once);
    expect(await resultOf(once)).toEqual({ status: 'succeeded', output: { images: { [imageA]: 'cached' } } });

    const twice = cacheImages({ image_ids: [imageA, imageB] });
    api.deliver(twice);
    expect(await resultOf(twice)).toEqual({
      status: 'succeeded',
      output: { images: { [imageA]: 'existing', [imageB]: 'cached' } },
    });

    // The cache is on disk, as a host's image cache survives a restart of its agent.
    await first.stop();
    await startAgent();
    const again = cacheImages({ image_ids: [imageB] });
    api.deliver(again);
    expect(await resultOf(again)).toEqual({
      status: 'succeeded',
      output: { images: { [imageB]: 'existing' } },
    });
    expect(await instancesOnHost()).toEqual([]);
  });

  it('reports an image it could not cache as error, and still answers for the others', async () => {
    await startAgent({ failureProbability: { cache_images: 1 } });
    const image = randomUUID();
    const failing = cacheImages({ image_ids: [image] });
    api.deliver(failing);
    expect(await resultOf(failing)).toEqual({
      status: 'succeeded',
      output: { images: { [image]: 'error' } },
    });
    expect(logs.some((line) => line.includes(`caching image ${image} failed (FakeInjectedFailure`))).toBe(
      true,
    );
  });

  it('answers InvalidCommandParams, naming the field, when no images are named', async () => {
    await startAgent();
    const empty = cacheImages({ image_ids: [] });
    const missing = cacheImages({});
    api.deliver(empty, missing);
    for (const delivered of [empty, missing]) {
      expect(await resultOf(delivered)).toMatchObject({
        status: 'failed',
        error: { type: 'InvalidCommandParams', message: expect.stringContaining('image_ids') },
      });
    }
  });
});

/** Heartbeat bodies the agent sent for one command. */
function heartbeatsOf(delivered: DeliveredCommand): unknown[] {
  return api.requestsTo(`/commands/${delivered.command_id}/heartbeat`).map((request) => request.body);
}

function progressReported(delivered: DeliveredCommand): number[] {
  return heartbeatsOf(delivered).flatMap((body) => {
    const progress = (body as { progress?: number } | undefined)?.progress;
    return progress === undefined ? [] : [progress];
  });
}

describe('ComputeAgent migration commands', () => {
  it('runs a cold move: prep_resize and finish_resize answer the node, migrate_disk_and_power_off keeps the guest off', async () => {
    await startAgent();
    const source = randomUUID();
    const spawn = command('spawn', source);
    api.deliver(spawn);
    await resultOf(spawn);

    const powerOff = command('migrate_disk_and_power_off', source);
    api.deliver(powerOff);
    expect(await resultOf(powerOff)).toEqual({ status: 'succeeded', output: {} });
    expect(await guestsOnHost()).toMatchObject([{ uuid: source, power_state: POWER_STATE.SHUTDOWN }]);

    const arriving = randomUUID();
    const prep = command('prep_resize', arriving);
    api.deliver(prep);
    expect(await resultOf(prep)).toEqual({ status: 'succeeded', output: { node: HOST } });
    const finish = migrationCommand(
      'finish_resize',
      arriving,
      { power_on: true },
      { vcpus: 4, memory_mb: 4096 },
    );
    api.deliver(finish);
    expect(await resultOf(finish)).toEqual({
      status: 'succeeded',
      output: { power_state: POWER_STATE.RUNNING, node: HOST },
    });
    const arrived = (await guestsOnHost()).find((guest) => guest.uuid === arriving);
    expect(arrived).toMatchObject({ vcpus: 4, memory_mb: 4096, power_state: POWER_STATE.RUNNING });
  });

  it('reverts a resize on the source with the old flavor, off when the instance was stopped', async () => {
    await startAgent();
    const uuid = randomUUID();
    for (const step of [command('spawn', uuid), command('migrate_disk_and_power_off', uuid)]) {
      api.deliver(step);
      await resultOf(step);
    }
    const revert = migrationCommand('finish_revert_resize', uuid, { power_on: false });
    api.deliver(revert);
    expect(await resultOf(revert)).toEqual({
      status: 'succeeded',
      output: { power_state: POWER_STATE.SHUTDOWN },
    });
    expect(await guestsOnHost()).toMatchObject([{ uuid, vcpus: 2, memory_mb: 512 }]);
  });

  it('answers InstanceNotFound for a move of an instance the host does not have', async () => {
    await startAgent();
    const powerOff = command('migrate_disk_and_power_off', randomUUID());
    const revert = migrationCommand('finish_revert_resize', randomUUID(), { power_on: true });
    const live = migrationCommand('live_migration', randomUUID(), {
      dest_host: 'compute-2',
      block_migration: false,
    });
    api.deliver(powerOff, revert, live);
    for (const missing of [powerOff, revert, live]) {
      expect(await resultOf(missing)).toMatchObject({
        status: 'failed',
        error: { type: 'InstanceNotFound' },
      });
    }
    expect(await instancesOnHost()).toEqual([]);
  });

  it('answers InvalidCommandParams, naming the field, when a migration command lacks its params', async () => {
    await startAgent();
    const uuid = randomUUID();
    const finish = command('finish_resize', uuid);
    const live = migrationCommand('live_migration', uuid, { dest_host: 'compute-2' });
    api.deliver(finish, live);
    expect(await resultOf(finish)).toEqual({
      status: 'failed',
      error: { type: 'InvalidCommandParams', message: expect.stringContaining('power_on') },
    });
    expect(await resultOf(live)).toEqual({
      status: 'failed',
      error: { type: 'InvalidCommandParams', message: expect.stringContaining('block_migration') },
    });
    expect(await instancesOnHost()).toEqual([]);
  });

  it('fails only the migration command named for failure injection', async () => {
    await startAgent({ failureProbability: { finish_resize: 1 } });
    const uuid = randomUUID();
    const prep = command('prep_resize', uuid);
    const finish = migrationCommand('finish_resize', uuid, { power_on: true });
    api.deliver(prep, finish);
    expect(await resultOf(prep)).toMatchObject({ status: 'succeeded' });
    expect(await resultOf(finish)).toMatchObject({
      status: 'failed',
      error: { type: 'FakeInjectedFailure' },
    });
    expect(await instancesOnHost()).toEqual([]);
  });

  it('answers a finish_resize run again after a crash (its answer never recorded) the same way, with one guest', async () => {
    const first = await startAgent();
    const uuid = randomUUID();
    const finish = migrationCommand('finish_resize', uuid, { power_on: true }, { vcpus: 4, memory_mb: 2048 });
    api.deliver(finish);
    const answer = await resultOf(finish);
    await first.stop();
    // As if the agent died between acting and recording its answer: the redelivery runs it again.
    await unlink(join(stateDir, 'completed-commands.json'));

    await startAgent();
    api.deliver(finish);
    expect(await resultOf(finish, 2)).toEqual(answer);
    expect(await guestsOnHost()).toMatchObject([{ uuid, vcpus: 4, power_state: POWER_STATE.RUNNING }]);
  });

  it('receives a live migration paused and runs it after post_live_migration_at_destination', async () => {
    await startAgent();
    const uuid = randomUUID();
    const pre = migrationCommand('pre_live_migration', uuid, { block_migration: true });
    api.deliver(pre);
    expect(await resultOf(pre)).toEqual({ status: 'succeeded', output: { node: HOST } });
    expect(await guestsOnHost()).toMatchObject([{ uuid, power_state: POWER_STATE.PAUSED }]);

    const post = command('post_live_migration_at_destination', uuid);
    api.deliver(post);
    expect(await resultOf(post)).toEqual({
      status: 'succeeded',
      output: { power_state: POWER_STATE.RUNNING, node: HOST },
    });
    expect(await guestsOnHost()).toMatchObject([{ uuid, power_state: POWER_STATE.RUNNING }]);
  });

  describe('live_migration on the source', () => {
    async function migrating(latencyMs: number): Promise<DeliveredCommand> {
      await startAgent({
        latencyMs: { live_migration: latencyMs },
        env: { AGENT_HEARTBEAT_INTERVAL_SECONDS: '0.05' },
      });
      const uuid = randomUUID();
      const spawn = command('spawn', uuid);
      api.deliver(spawn);
      await resultOf(spawn);
      const live = migrationCommand('live_migration', uuid, {
        dest_host: 'compute-2',
        block_migration: false,
      });
      api.deliver(live);
      return live;
    }

    it('reports its progress with its heartbeats and answers {} once the copy is done', async () => {
      api.control = null;
      const live = await migrating(600);
      expect(await resultOf(live)).toEqual({ status: 'succeeded', output: {} });

      const progress = progressReported(live);
      expect(progress.length).toBeGreaterThanOrEqual(2);
      expect(progress).toEqual([...progress].sort((a, b) => a - b));
      expect(progress.every((percent) => Number.isInteger(percent) && percent >= 0 && percent <= 100)).toBe(
        true,
      );
      expect(new Set(progress).size).toBeGreaterThan(1);
      // The source guest keeps running until the workflow terminates it.
      expect(await guestsOnHost()).toMatchObject([{ power_state: POWER_STATE.RUNNING }]);
    });

    it('stops with MigrationCancelled when a heartbeat answers cancel, the guest still running here', async () => {
      api.control = null;
      // Left alone, this copy would take far longer than the test may run.
      const live = await migrating(600_000);
      await api.until(() => progressReported(live).length > 0);
      api.control = 'cancel';

      expect(await resultOf(live)).toEqual({
        status: 'failed',
        error: { type: 'MigrationCancelled', message: expect.stringContaining('compute-2') },
      });
      expect(await guestsOnHost()).toMatchObject([{ power_state: POWER_STATE.RUNNING }]);
    });

    it('completes at once when a heartbeat answers force_complete', async () => {
      api.control = null;
      const live = await migrating(600_000);
      await api.until(() => progressReported(live).length > 0);
      api.control = 'force_complete';

      expect(await resultOf(live)).toEqual({ status: 'succeeded', output: {} });
    });
  });

  it('destroys the local guests of instances the API says were evacuated, and nothing else', async () => {
    const kept = randomUUID();
    const evacuated = randomUUID();
    api.evacuated = [evacuated, randomUUID()];
    await startAgent({ env: { AGENT_REPORT_INTERVAL_SECONDS: '0.05' } });
    for (const uuid of [kept, evacuated]) {
      const spawn = command('spawn', uuid);
      api.deliver(spawn);
      await resultOf(spawn);
    }
    const reportsBefore = api.requestsTo('/report').length;
    await api.until(() => api.requestsTo('/report').length >= reportsBefore + 2);
    await api.until(() => {
      const last = api.requestsTo('/report').at(-1)?.body as { instances: string[] } | undefined;
      return last?.instances.length === 1;
    });

    expect(await instancesOnHost()).toEqual([kept]);
    expect(logs.some((line) => line.includes(`instance ${evacuated} was evacuated`))).toBe(true);
    // The cleanup is local: the agent answered the two spawns and nothing else.
    expect(api.requests.filter((request) => request.path.endsWith('/result'))).toHaveLength(2);
  });
});

describe('ComputeAgent network commands', () => {
  const vif = (id: string, mac: string, address: string): Vif => ({
    ...NETWORK_INFO_VIF,
    id,
    address: mac,
    devname: `tap${id.slice(0, 11)}`,
    network: {
      ...NETWORK_INFO_VIF.network,
      subnets: NETWORK_INFO_VIF.network.subnets.map((subnet) => ({
        ...subnet,
        ips: [{ address, type: 'fixed' as const, version: 4 as const, floating_ips: [] }],
      })),
    },
  });
  const first = vif(randomUUID(), 'fa:16:3e:00:00:01', '10.0.0.5');
  const second = vif(randomUUID(), 'fa:16:3e:00:00:02', '10.0.0.6');

  /** A command carrying Instance 1.4 with `networkInfo`. */
  function networkCommand(
    name: DeliveredCommand['name'],
    uuid: string,
    networkInfo: Vif[],
    params: Record<string, unknown> = {},
  ): DeliveredCommand {
    return {
      command_id: randomUUID(),
      name,
      instance: currentInstancePrimitive(uuid, '1.4', networkInfo),
      params,
    };
  }

  async function run(delivered: DeliveredCommand): Promise<unknown> {
    api.deliver(delivered);
    return resultOf(delivered);
  }

  it('spawns with the VIFs of the network info, re-plugs them, and attaches and detaches one at a time', async () => {
    await startAgent();
    const uuid = randomUUID();
    await run(networkCommand('spawn', uuid, [first]));

    expect(await run(networkCommand('plug_vifs', uuid, [first]))).toEqual({
      status: 'succeeded',
      output: { vifs: [{ id: first.id, address: first.address, ips: ['10.0.0.5'] }] },
    });
    const attached = await run(
      networkCommand('attach_interface', uuid, [first, second], { port_id: second.id }),
    );
    expect(attached).toMatchObject({
      status: 'succeeded',
      output: { vifs: [{ id: first.id }, { id: second.id, address: second.address, ips: ['10.0.0.6'] }] },
    });
    const detached = await run(networkCommand('detach_interface', uuid, [second], { port_id: first.id }));
    expect(detached).toEqual({
      status: 'succeeded',
      output: { vifs: [{ id: second.id, address: second.address, ips: ['10.0.0.6'] }] },
    });
  });

  it('answers MissingNetworkInfo for plug_vifs carrying Instance 1.3, which has no network info', async () => {
    await startAgent({ env: { AGENT_OBJECT_VERSIONS: 'Instance=1.3' } });
    const uuid = randomUUID();
    const at13 = (name: DeliveredCommand['name']): DeliveredCommand => ({
      command_id: randomUUID(),
      name,
      instance: currentInstancePrimitive(uuid, '1.3', [first]),
      params: {},
    });
    await run(at13('spawn'));
    expect(await instancesOnHost()).toEqual([uuid]);

    expect(await run(at13('plug_vifs'))).toMatchObject({
      status: 'failed',
      error: { type: 'MissingNetworkInfo' },
    });
  });

  it('answers InvalidCommandParams for an attach naming a port the network info does not have', async () => {
    await startAgent();
    const uuid = randomUUID();
    await run(networkCommand('spawn', uuid, [first]));
    const attach = networkCommand('attach_interface', uuid, [first], { port_id: second.id });
    expect(await run(attach)).toMatchObject({
      status: 'failed',
      error: { type: 'InvalidCommandParams', message: expect.stringContaining(second.id) },
    });
    const noPort = networkCommand('detach_interface', uuid, [first]);
    expect(await run(noPort)).toMatchObject({
      status: 'failed',
      error: { type: 'InvalidCommandParams', message: expect.stringContaining('port_id') },
    });
  });
});
