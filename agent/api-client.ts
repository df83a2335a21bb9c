import * as v from 'valibot';
import type { CommandHeartbeat, CommandResult } from '../schema/objects/compute-command.ts';
import { CommandHeartbeatAnswer, DeliveredCommand } from '../schema/objects/compute-command.ts';

export const AGENT_API_PREFIX = '/compute-agent/v1';

// A request that hangs (half-open connection) must not stall a loop forever; the long poll gets its
// wait time on top of this.
const REQUEST_TIMEOUT_MS = 30_000;

export interface RegisterRequest {
  host: string;
  availability_zone: string;
  hypervisor_hostname: string;
  hypervisor_type: string;
  hypervisor_version: number;
  vcpus: number;
  memory_mb: number;
  local_gb: number;
  supported_objects: Record<string, string>;
  /** Every command this agent runs, so the control plane never sends one it does not. */
  supported_commands: readonly string[];
}

export const RegisterResponse = v.object({
  host: v.string(),
  report_interval_seconds: v.pipe(
    v.number(),
    v.check((seconds) => seconds > 0, 'must be greater than 0'),
  ),
});
export type RegisterResponse = v.InferOutput<typeof RegisterResponse>;

export interface HostReport {
  vcpus: number;
  memory_mb: number;
  local_gb: number;
  metrics: Array<{ name: string; value: number; timestamp: string; source: string }>;
  /** Uuids of the instances the driver has. */
  instances: string[];
}

export const HostReportAnswer = v.object({
  /** Reported instances that were evacuated to another host: their local guests are stale copies. */
  evacuated: v.array(v.string()),
});
export type HostReportAnswer = v.InferOutput<typeof HostReportAnswer>;

export interface ReceiveRequest {
  /** Long-poll duration, 0..20. */
  wait_seconds: number;
  /** Most commands to hand over at once, 1..10. */
  max: number;
}

const ReceiveResponse = v.object({ commands: v.array(DeliveredCommand) });

// Nova's error body: one key naming the fault, e.g. {"conflictingRequest": {"code": 409, "message": "..."}}.
const NovaErrorBody = v.pipe(
  v.record(v.string(), v.object({ code: v.optional(v.number()), message: v.string() })),
  v.check((body) => Object.keys(body).length === 1),
);

export class AgentApiError extends Error {
  override readonly name = 'AgentApiError';

  constructor(
    readonly status: number,
    /** The fault key of a Nova error body, e.g. 'conflictingRequest'. */
    readonly fault: string | undefined,
    message: string,
  ) {
    super(message);
  }
}

/** Network failures and server errors may pass; a 4xx or a malformed answer will not improve by retrying. */
export function isRetryableApiFailure(error: unknown): boolean {
  if (error instanceof AgentApiError) return error.status >= 500;
  return !(error instanceof Error && error.name === 'AbortError');
}

// Reading the (empty) body to the end lets fetch reuse the connection.
async function discardBody(response: Promise<Response>): Promise<void> {
  await (await response).arrayBuffer();
}

export interface AgentApiClientOptions {
  apiUrl: string;
  host: string;
  credential: string;
  fetch?: typeof fetch;
}

export class AgentApiClient {
  private readonly baseUrl: string;
  private readonly authorization: string;
  private readonly fetchImpl: typeof fetch;

  constructor(options: AgentApiClientOptions) {
    this.baseUrl = `${options.apiUrl.replace(/\/+$/, '')}${AGENT_API_PREFIX}`;
    this.authorization = `Host ${options.host}:${options.credential}`;
    this.fetchImpl = options.fetch ?? fetch;
  }

  async register(body: RegisterRequest, signal?: AbortSignal): Promise<RegisterResponse> {
    const response = await this.post('/register', body, { signal });
    return this.parseBody(response, RegisterResponse, 'register');
  }

  async report(body: HostReport, signal?: AbortSignal): Promise<HostReportAnswer> {
    const response = await this.post('/report', body, { signal });
    // An API from before evacuation cleanup answers 204: nothing was evacuated as far as it knows.
    if (response.status === 204) {
      await response.arrayBuffer();
      return { evacuated: [] };
    }
    return this.parseBody(response, HostReportAnswer, 'report');
  }

  async receiveCommands(request: ReceiveRequest, signal?: AbortSignal): Promise<DeliveredCommand[]> {
    const response = await this.post('/commands/receive', request, {
      signal,
      timeoutMs: REQUEST_TIMEOUT_MS + request.wait_seconds * 1000,
    });
    return (await this.parseBody(response, ReceiveResponse, 'commands/receive')).commands;
  }

  /** Tells the workflow the command still runs; the answer carries what an admin asked of a live migration. */
  async heartbeat(
    commandId: string,
    body: CommandHeartbeat,
    signal?: AbortSignal,
  ): Promise<CommandHeartbeatAnswer> {
    const response = await this.post(`/commands/${encodeURIComponent(commandId)}/heartbeat`, body, {
      signal,
    });
    // 204: a command nobody can steer (anything but a live migration).
    if (response.status === 204) {
      await response.arrayBuffer();
      return { control: null };
    }
    return this.parseBody(response, CommandHeartbeatAnswer, 'heartbeat');
  }

  async sendResult(commandId: string, result: CommandResult, signal?: AbortSignal): Promise<void> {
    await discardBody(this.post(`/commands/${encodeURIComponent(commandId)}/result`, result, { signal }));
  }

  private async post(
    path: string,
    body: unknown,
    options: { signal: AbortSignal | undefined; timeoutMs?: number },
  ): Promise<Response> {
    const timeout = AbortSignal.timeout(options.timeoutMs ?? REQUEST_TIMEOUT_MS);
    const response = await this.fetchImpl(`${this.baseUrl}${path}`, {
      method: 'POST',
      headers: {
        authorization: this.authorization,
        accept: 'application/json',
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: options.signal ? AbortSignal.any([options.signal, timeout]) : timeout,
    });
    if (!response.ok) throw await this.errorFrom(path, response);
    return response;
  }

  private async parseBody<TSchema extends v.GenericSchema>(
    response: Response,
    schema: TSchema,
    operation: string,
  ): Promise<v.InferOutput<TSchema>> {
    const text = await response.text();
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      throw new AgentApiError(
        response.status,
        undefined,
        `${operation}: the API answered with a body that is not JSON`,
      );
    }
    const parsed = v.safeParse(schema, json);
    if (!parsed.success) {
      throw new AgentApiError(
        response.status,
        undefined,
        `${operation}: unexpected answer from the API: ${v.summarize(parsed.issues)}`,
      );
    }
    return parsed.output;
  }

  private async errorFrom(path: string, response: Response): Promise<AgentApiError> {
    const text = await response.text();
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
    const nova = v.safeParse(NovaErrorBody, json);
    if (nova.success) {
      const [fault, detail] = Object.entries(nova.output)[0] ?? [];
      if (fault && detail) {
        return new AgentApiError(
          response.status,
          fault,
          `POST ${path} -> ${response.status} ${fault}: ${detail.message}`,
        );
      }
    }
    const excerpt = text.length > 200 ? `${text.slice(0, 200)}...` : text;
    return new AgentApiError(response.status, undefined, `POST ${path} -> ${response.status}: ${excerpt}`);
  }
}
