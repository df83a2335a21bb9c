import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';

const AGENT_ENTRY = new URL('../../agent/main.ts', import.meta.url).pathname;

export interface AgentSpec {
  host: string;
  availabilityZone: string;
  vcpus?: number;
  memoryMb?: number;
  localGb?: number;
  /** Extra AGENT_* variables, e.g. AGENT_FAKE_FAIL or AGENT_FAKE_LATENCY_MS. */
  env?: Record<string, string>;
}

/** The default fleet: three fake hosts over two availability zones. */
export const DEFAULT_AGENTS: AgentSpec[] = [
  { host: 'compute-1', availabilityZone: 'az-1' },
  { host: 'compute-2', availabilityZone: 'az-1' },
  { host: 'compute-3', availabilityZone: 'az-2' },
];

export interface AgentProcess {
  host: string;
  stop(): Promise<void>;
  /** SIGKILL, as a host losing power: no cleanup, commands in flight stay unanswered. */
  crash(): Promise<void>;
}

/**
 * Starts one agent as its own process, as on a real host: it gets the API URL and its host credential,
 * nothing else. It runs on this Node (the pinned 24) through tsx.
 */
export function startAgentProcess(
  spec: AgentSpec,
  options: { apiUrl: string; credential: string; stateDir: string; log: (line: string) => void },
): AgentProcess {
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', AGENT_ENTRY], {
    env: {
      PATH: process.env.PATH ?? '',
      AGENT_API_URL: options.apiUrl,
      AGENT_HOST: spec.host,
      AGENT_CREDENTIAL: options.credential,
      AGENT_AVAILABILITY_ZONE: spec.availabilityZone,
      AGENT_STATE_DIR: options.stateDir,
      ...(spec.vcpus ? { AGENT_VCPUS: String(spec.vcpus) } : {}),
      ...(spec.memoryMb ? { AGENT_MEMORY_MB: String(spec.memoryMb) } : {}),
      ...(spec.localGb ? { AGENT_LOCAL_GB: String(spec.localGb) } : {}),
      ...spec.env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  for (const stream of [child.stdout, child.stderr]) {
    stream?.setEncoding('utf8');
    stream?.on('data', (chunk: string) => {
      for (const line of chunk.split('\n')) if (line.trim()) options.log(line);
    });
  }
  return {
    host: spec.host,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(timer);
    },
    async crash() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = once(child, 'exit');
      child.kill('SIGKILL');
      await exited;
    },
  };
}
