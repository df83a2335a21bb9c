import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import * as v from 'valibot';
import { decodePrimitive } from '../schema/objects/base.ts';
import type {
  CacheImagesOutput,
  CommandHeartbeat,
  CommandHeartbeatAnswer,
  DeliveredCommand,
  GuestVifsOutput,
  ImageCacheStatus,
  InstanceCommandName,
} from '../schema/objects/compute-command.ts';
import {
  COMPUTE_COMMAND_NAMES,
  CommandResult,
  isHostCommandName,
} from '../schema/objects/compute-command.ts';
import type { InstanceData } from '../schema/objects/instance.ts';
import { InstanceObject } from '../schema/objects/instance.ts';
import type { Vif } from '../schema/objects/network-info.ts';
import type { RegisterResponse } from './api-client.ts';
import { AgentApiClient, AgentApiError, isRetryableApiFailure } from './api-client.ts';
import {
  CacheImagesParams,
  commandParams,
  InterfaceParams,
  InvalidCommandParams,
  LiveMigrationParams,
  PowerOnParams,
  PreLiveMigrationParams,
} from './command-params.ts';
import type { AgentConfig } from './config.ts';
import type { LiveMigrationControl, LiveMigrationMonitor, VirtDriver } from './drivers/driver.ts';
import { readJsonState, writeJsonStateAtomically } from './state-file.ts';

// SQS hands over at most 10 messages per receive; more than a handful of simultaneous hypervisor
// operations would only make each of them slower.
const MAX_CONCURRENT_COMMANDS = 8;
const RECEIVE_WAIT_SECONDS = 20;
const RESULT_SEND_ATTEMPTS = 6;
const RETRY_BASE_DELAY_MS = 250;
const RETRY_MAX_DELAY_MS = 15_000;

const COMPLETED_COMMANDS_FILE = 'completed-commands.json';
// Redeliveries arrive within a visibility timeout or two, so a bounded tail of answers is enough.
const COMPLETED_COMMANDS_KEPT = 1000;

export interface ComputeAgentOptions {
  fetch?: typeof fetch;
  log?: (line: string) => void;
}

function retryDelayMs(failures: number): number {
  return Math.min(RETRY_MAX_DELAY_MS, RETRY_BASE_DELAY_MS * 2 ** Math.max(0, failures - 1));
}

function describeError(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

function failedResult(error: unknown): CommandResult {
  if (v.isValiError(error)) {
    return { status: 'failed', error: { type: 'InvalidInstance', message: v.summarize(error.issues) } };
  }
  if (error instanceof Error)
    return { status: 'failed', error: { type: error.name, message: error.message } };
  return { status: 'failed', error: { type: 'Error', message: String(error) } };
}

type InstanceCommand = DeliveredCommand & { name: InstanceCommandName };

/** A network command reached this agent with an instance decoded below Instance 1.4 (no network_info). */
export class MissingNetworkInfo extends Error {
  override readonly name = 'MissingNetworkInfo';
}

/** The network info a network command acts on: only Instance 1.4 and later carry it. */
function networkInfoOf(command: InstanceCommand, instance: InstanceData): Vif[] {
  if (instance.network_info === undefined) {
    throw new MissingNetworkInfo(
      `${command.name} needs the instance's network_info (Instance 1.4 or later); this agent was sent an older version`,
    );
  }
  return instance.network_info;
}

/** The VIF attach_interface adds: the port the instance's network info names. */
function interfaceToAttach(command: InstanceCommand, instance: InstanceData): Vif {
  const { port_id } = commandParams(InterfaceParams, command);
  const vif = networkInfoOf(command, instance).find((candidate) => candidate.id === port_id);
  if (!vif) {
    throw new InvalidCommandParams(
      `${command.name}: port ${port_id} is not in the network info of instance ${instance.uuid}`,
    );
  }
  return vif;
}

function isInstanceCommand(command: DeliveredCommand): command is InstanceCommand {
  return !isHostCommandName(command.name);
}

/** Commands on one instance run in order; the uuid is read before decoding so even undecodable ones queue. */
function instanceKey(command: DeliveredCommand): string {
  const data = command.instance['nova_object.data'];
  if (typeof data === 'object' && data !== null && 'uuid' in data && typeof data.uuid === 'string') {
    return data.uuid;
  }
  return `command:${command.command_id}`;
}

const CompletedCommandsFile = v.object({
  commands: v.array(v.object({ command_id: v.string(), result: CommandResult, completed_at: v.string() })),
});
type CompletedCommand = v.InferOutput<typeof CompletedCommandsFile>['commands'][number];

/** The answers already given, kept on disk so a command redelivered after a restart is not run twice. */
class CompletedCommands {
  private entries: Map<string, CompletedCommand> | undefined;
  private persistQueue: Promise<void> = Promise.resolve();

  constructor(private readonly path: string) {}

  async load(): Promise<void> {
    if (this.entries) return;
    const stored = await readJsonState(this.path, CompletedCommandsFile, { commands: [] });
    this.entries = new Map(stored.commands.map((entry) => [entry.command_id, entry]));
  }

  async resultOf(commandId: string): Promise<CommandResult | undefined> {
    await this.load();
    return this.entries?.get(commandId)?.result;
  }

  async record(commandId: string, result: CommandResult): Promise<void> {
    await this.load();
    const entries = this.entries ?? new Map<string, CompletedCommand>();
    entries.set(commandId, { command_id: commandId, result, completed_at: new Date().toISOString() });
    for (const oldest of entries.keys()) {
      if (entries.size <= COMPLETED_COMMANDS_KEPT) break;
      entries.delete(oldest);
    }
    const write = this.persistQueue.then(() =>
      writeJsonStateAtomically(this.path, { commands: [...entries.values()] }),
    );
    this.persistQueue = write.catch(() => undefined);
    await write;
  }
}

/** What a running command shares with its heartbeats: progress going out, an admin's request coming back. */
class CommandMonitor implements LiveMigrationMonitor {
  private percent: number | undefined;
  private requested: LiveMigrationControl | null = null;

  progress(percent: number): void {
    this.percent = percent;
  }

  control(): LiveMigrationControl | null {
    return this.requested;
  }

  heartbeat(): CommandHeartbeat {
    return this.percent === undefined ? {} : { progress: this.percent };
  }

  /** An admin's request is not taken back: a later answer without one (say, a heartbeat racing the row's update) leaves it. */
  heard(answer: CommandHeartbeatAnswer): void {
    if (answer.control) this.requested = answer.control;
  }
}

export class ComputeAgent {
  private readonly api: AgentApiClient;
  private readonly completed: CompletedCommands;
  private readonly log: (line: string) => void;
  private readonly stopping = new AbortController();
  private startup: Promise<void> | undefined;
  private loops: Promise<void> | undefined;
  private reportIntervalSeconds: number;
  /** Commands received and not yet answered, by command id. */
  private readonly inFlight = new Map<string, Promise<void>>();
  /** The last queued operation per instance, so the next one starts after it. */
  private readonly instanceTails = new Map<string, Promise<void>>();

  constructor(
    private readonly config: AgentConfig,
    private readonly driver: VirtDriver,
    options: ComputeAgentOptions = {},
  ) {
    this.api = new AgentApiClient({
      apiUrl: config.apiUrl,
      host: config.host,
      credential: config.credential,
      ...(options.fetch ? { fetch: options.fetch } : {}),
    });
    this.completed = new CompletedCommands(join(config.stateDir, COMPLETED_COMMANDS_FILE));
    this.log = options.log ?? ((line) => console.log(`[${config.host}] ${line}`));
    this.reportIntervalSeconds = config.reportIntervalSeconds ?? 10;
  }

  /**
   * Registers (retrying while the API is unreachable or failing), then runs the report and command loops
   * in the background. Rejects if the API refuses the registration (4xx) or the local state is unreadable.
   */
  async start(): Promise<void> {
    if (this.startup) throw new Error('A ComputeAgent can be started only once');
    this.startup = this.startUp();
    await this.startup;
  }

  /** Stops the loops, aborting the pending long poll, and waits for the commands already received. */
  async stop(): Promise<void> {
    this.stopping.abort();
    await this.startup?.catch(() => undefined);
    await this.loops;
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight.values()]);
    this.log('stopped');
  }

  private async startUp(): Promise<void> {
    await Promise.all([this.completed.load(), this.driver.listInstances()]);
    const registration = await this.registerUntilAccepted();
    if (!registration || this.stopping.signal.aborted) return;
    this.loops = Promise.all([this.reportLoop(), this.receiveLoop()]).then(() => undefined);
  }

  private async register(): Promise<RegisterResponse> {
    const resources = this.driver.hostResources();
    const registration = await this.api.register(
      {
        host: this.config.host,
        availability_zone: this.config.availabilityZone,
        ...resources,
        supported_objects: this.config.objectVersions,
        supported_commands: COMPUTE_COMMAND_NAMES,
      },
      this.stopping.signal,
    );
    this.reportIntervalSeconds = this.config.reportIntervalSeconds ?? registration.report_interval_seconds;
    this.log(`registered as ${registration.host}; reporting every ${this.reportIntervalSeconds} s`);
    return registration;
  }

  private async registerUntilAccepted(): Promise<RegisterResponse | undefined> {
    for (let failures = 1; !this.stopping.signal.aborted; failures++) {
      try {
        return await this.register();
      } catch (error) {
        if (this.stopping.signal.aborted) return undefined;
        if (!isRetryableApiFailure(error)) throw error;
        const wait = retryDelayMs(failures);
        this.log(`registration failed (${describeError(error)}); retrying in ${wait} ms`);
        await this.pause(wait);
      }
    }
    return undefined;
  }

  private async reportLoop(): Promise<void> {
    while (!this.stopping.signal.aborted) {
      try {
        await this.report();
      } catch (error) {
        if (this.stopping.signal.aborted) return;
        this.log(`report failed (${describeError(error)})`);
        // The API forgets a host it has deleted or never saw; registering again restores it.
        if (error instanceof AgentApiError && error.status === 409) await this.reRegister();
      }
      await this.pause(this.reportIntervalSeconds * 1000);
    }
  }

  private async reRegister(): Promise<void> {
    try {
      await this.register();
    } catch (error) {
      if (!this.stopping.signal.aborted) this.log(`registration failed (${describeError(error)})`);
    }
  }

  private async report(): Promise<void> {
    const resources = this.driver.hostResources();
    const [metrics, instances] = await Promise.all([this.driver.metrics(), this.driver.listInstances()]);
    const reported = instances.map((instance) => instance.uuid);
    const answer = await this.api.report(
      {
        vcpus: resources.vcpus,
        memory_mb: resources.memory_mb,
        local_gb: resources.local_gb,
        metrics,
        instances: reported,
      },
      this.stopping.signal,
    );
    const local = new Set(reported);
    await this.destroyEvacuated(answer.evacuated.filter((uuid) => local.has(uuid)));
  }

  /**
   * Instances evacuated while this host was down now run elsewhere: only the stale local guest goes.
   * Nothing else is touched (not the instance's record, not its new host); a failure is retried with
   * the next report, which still lists the guest.
   */
  private async destroyEvacuated(uuids: string[]): Promise<void> {
    for (const uuid of uuids) {
      try {
        await this.inInstanceOrder(uuid, () => this.driver.destroy({ uuid }));
        this.log(`instance ${uuid} was evacuated to another host; destroyed the local guest left here`);
      } catch (error) {
        this.log(
          `instance ${uuid} was evacuated, but destroying its local guest failed (${describeError(error)})`,
        );
      }
    }
  }

  private async receiveLoop(): Promise<void> {
    for (let failures = 0; !this.stopping.signal.aborted; ) {
      if (this.inFlight.size >= MAX_CONCURRENT_COMMANDS) {
        await Promise.race(this.inFlight.values());
        continue;
      }
      try {
        const commands = await this.api.receiveCommands(
          {
            wait_seconds: RECEIVE_WAIT_SECONDS,
            max: Math.min(10, MAX_CONCURRENT_COMMANDS - this.inFlight.size),
          },
          this.stopping.signal,
        );
        failures = 0;
        for (const command of commands) this.accept(command);
      } catch (error) {
        if (this.stopping.signal.aborted) return;
        failures++;
        const wait = retryDelayMs(failures);
        this.log(`receiving commands failed (${describeError(error)}); retrying in ${wait} ms`);
        await this.pause(wait);
      }
    }
  }

  private accept(command: DeliveredCommand): void {
    const { command_id: commandId } = command;
    // A redelivery while the first delivery still runs is answered by that first run.
    if (this.inFlight.has(commandId)) {
      this.log(`command ${commandId} redelivered while still running; ignoring the copy`);
      return;
    }
    const handling = this.handle(command)
      .catch((error: unknown) =>
        this.log(`command ${commandId} could not be handled (${describeError(error)})`),
      )
      .finally(() => this.inFlight.delete(commandId));
    this.inFlight.set(commandId, handling);
  }

  private async handle(command: DeliveredCommand): Promise<void> {
    const { command_id: commandId } = command;
    const monitor = new CommandMonitor();
    const stopHeartbeat = this.startHeartbeat(commandId, monitor);
    let result: CommandResult;
    try {
      const stored = await this.completed.resultOf(commandId);
      if (stored) {
        this.log(
          `command ${commandId} was already answered (${stored.status}); sending the stored result again`,
        );
        result = stored;
      } else {
        result = await this.inInstanceOrder(instanceKey(command), () => this.execute(command, monitor));
        await this.completed
          .record(commandId, result)
          .catch((error: unknown) =>
            this.log(`command ${commandId}: could not record its result (${describeError(error)})`),
          );
      }
    } finally {
      await stopHeartbeat();
    }
    await this.sendResult(commandId, result);
  }

  private inInstanceOrder<T>(key: string, task: () => Promise<T>): Promise<T> {
    const previous = this.instanceTails.get(key) ?? Promise.resolve();
    const run = previous.then(task);
    const tail = run.then(
      () => undefined,
      () => undefined,
    );
    this.instanceTails.set(key, tail);
    void tail.then(() => {
      if (this.instanceTails.get(key) === tail) this.instanceTails.delete(key);
    });
    return run;
  }

  private async execute(command: DeliveredCommand, monitor: CommandMonitor): Promise<CommandResult> {
    const label = isInstanceCommand(command)
      ? `command ${command.command_id} (${command.name} ${instanceKey(command)})`
      : `command ${command.command_id} (${command.name})`;
    this.log(`${label} started`);
    let result: CommandResult;
    try {
      result = isInstanceCommand(command)
        ? await this.runOnInstance(command, label, monitor)
        : await this.cacheImages(command);
    } catch (error) {
      result = failedResult(error);
    }
    this.log(
      result.status === 'succeeded'
        ? `${label} succeeded`
        : `${label} failed (${result.error.type}: ${result.error.message})`,
    );
    return result;
  }

  private async runOnInstance(
    command: InstanceCommand,
    label: string,
    monitor: CommandMonitor,
  ): Promise<CommandResult> {
    // Decoded as the version this agent reports, so an agent pinned to an older one refuses anything newer.
    const instance = decodePrimitive(
      InstanceObject,
      command.instance,
      this.config.objectVersions[InstanceObject.name],
    );
    this.log(`${label} carries ${InstanceObject.name} ${instance.version}`);
    return this.runOnDriver(command, instance.data, monitor);
  }

  /**
   * Nova's compute manager answers per image, one after another: an image that fails is reported as
   * `error` and fails neither the others nor the command.
   */
  private async cacheImages(command: DeliveredCommand): Promise<CommandResult> {
    const { image_ids } = commandParams(CacheImagesParams, command);
    const images: Record<string, ImageCacheStatus> = {};
    for (const imageId of image_ids) {
      try {
        images[imageId] = (await this.driver.cacheImage(imageId)) ? 'cached' : 'existing';
      } catch (error) {
        images[imageId] = 'error';
        this.log(`caching image ${imageId} failed (${describeError(error)})`);
      }
    }
    const output: CacheImagesOutput = { images };
    return { status: 'succeeded', output };
  }

  private async runOnDriver(
    command: InstanceCommand,
    instance: InstanceData,
    monitor: CommandMonitor,
  ): Promise<CommandResult> {
    const node = this.driver.hostResources().hypervisor_hostname;
    const succeeded = (output: Record<string, unknown>): CommandResult => ({ status: 'succeeded', output });
    switch (command.name) {
      case 'spawn': {
        const spawned = await this.driver.spawn(instance);
        return succeeded({ host: this.config.host, node, power_state: spawned.power_state });
      }
      case 'terminate':
        await this.driver.destroy(instance);
        return succeeded({});
      case 'prep_resize':
        await this.driver.prepResize(instance);
        return succeeded({ node });
      case 'migrate_disk_and_power_off':
        await this.driver.migrateDiskAndPowerOff(instance);
        return succeeded({});
      case 'finish_resize': {
        const { power_on } = commandParams(PowerOnParams, command);
        const finished = await this.driver.finishResize(instance, power_on);
        return succeeded({ power_state: finished.power_state, node });
      }
      case 'finish_revert_resize': {
        const { power_on } = commandParams(PowerOnParams, command);
        const reverted = await this.driver.finishRevertResize(instance, power_on);
        return succeeded({ power_state: reverted.power_state });
      }
      case 'pre_live_migration': {
        const { block_migration } = commandParams(PreLiveMigrationParams, command);
        await this.driver.preLiveMigration(instance, block_migration);
        return succeeded({ node });
      }
      case 'live_migration': {
        const params = commandParams(LiveMigrationParams, command);
        await this.driver.liveMigration(
          instance,
          { destHost: params.dest_host, blockMigration: params.block_migration },
          monitor,
        );
        return succeeded({});
      }
      case 'post_live_migration_at_destination': {
        const arrived = await this.driver.postLiveMigrationAtDestination(instance);
        return succeeded({ power_state: arrived.power_state, node });
      }
      case 'plug_vifs': {
        const output: GuestVifsOutput = {
          vifs: await this.driver.plugVifs(instance, networkInfoOf(command, instance)),
        };
        return succeeded(output);
      }
      case 'attach_interface': {
        const output: GuestVifsOutput = {
          vifs: await this.driver.attachInterface(instance, interfaceToAttach(command, instance)),
        };
        return succeeded(output);
      }
      case 'detach_interface': {
        const { port_id } = commandParams(InterfaceParams, command);
        const output: GuestVifsOutput = { vifs: await this.driver.detachInterface(instance, port_id) };
        return succeeded(output);
      }
      default: {
        const changed = await this.driver.power(instance, command.name);
        return succeeded({ power_state: changed.power_state });
      }
    }
  }

  /**
   * Heartbeats tell the workflow the host is still working (and keep the command's queue message hidden);
   * they carry a live migration's progress and bring back an admin's cancel or force_complete.
   * Returns a function that ends them.
   */
  private startHeartbeat(commandId: string, monitor: CommandMonitor): () => Promise<void> {
    let pending: Promise<void> = Promise.resolve();
    const timer = setInterval(() => {
      pending = pending.then(() =>
        this.api
          .heartbeat(commandId, monitor.heartbeat())
          .then((answer) => monitor.heard(answer))
          .catch((error: unknown) =>
            this.log(`command ${commandId}: heartbeat failed (${describeError(error)})`),
          ),
      );
    }, this.config.heartbeatIntervalSeconds * 1000);
    return async () => {
      clearInterval(timer);
      // A heartbeat landing after the result would be refused; let the last one finish first.
      await pending;
    };
  }

  private async sendResult(commandId: string, result: CommandResult): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        await this.api.sendResult(commandId, result);
        this.log(`command ${commandId}: result sent (${result.status})`);
        return;
      } catch (error) {
        const retryable = isRetryableApiFailure(error);
        // The result is on disk, so a redelivery answers it even if these attempts run out.
        if (!retryable || attempt >= RESULT_SEND_ATTEMPTS || this.stopping.signal.aborted) {
          this.log(`command ${commandId}: result not accepted (${describeError(error)}); giving up`);
          return;
        }
        const wait = retryDelayMs(attempt);
        this.log(
          `command ${commandId}: sending the result failed (${describeError(error)}); retrying in ${wait} ms`,
        );
        await this.pause(wait);
      }
    }
  }

  /** Sleeps, cut short by stop(); never leaves a timer behind. */
  private async pause(milliseconds: number): Promise<void> {
    await delay(milliseconds, undefined, { signal: this.stopping.signal }).catch(() => undefined);
  }
}
