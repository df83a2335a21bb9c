import { join } from 'node:path';
import { eq } from 'drizzle-orm';
import { type AgentSpec, startAgentProcess } from '../../infra/local/agents.ts';
import { computeNodes, services } from '../../schema/tables/index.ts';
import { call, login, primaryDb, stackInfo } from './api.ts';
import { waitUntil } from './wait.ts';

/** Issues a host credential through the admin API, as an operator would. */
export async function issueHostCredential(host: string): Promise<string> {
  const response = await call<{ credential: { secret: string } }>('POST', '/compute-agent/v1/credentials', {
    token: await login(),
    body: { host },
  });
  if (response.status !== 201) throw new Error(`credential for ${host}: ${response.status}`);
  return response.body.credential.secret;
}

/** A real agent process (fake driver) for one test's own host in its own availability zone. */
export async function startTestAgent(spec: AgentSpec, stateDir: string) {
  const credential = await issueHostCredential(spec.host);
  const lines: string[] = [];
  const agent = startAgentProcess(spec, {
    apiUrl: stackInfo().apiUrl,
    credential,
    stateDir,
    log: (line) => lines.push(line),
  });
  return { agent, lines };
}

/** Speaks the agent protocol directly, to act as a (possibly misbehaving) host. */
export function hostClient(host: string, secret: string) {
  const authorization = `Host ${host}:${secret}`;
  return (method: string, path: string, body?: unknown) =>
    call(method, `/compute-agent/v1${path}`, { token: null, body, headers: { authorization } });
}

/** Waits until `host` has registered its compute node and reported since `since` (so: this agent, not an earlier one). */
export async function waitRegistered(host: string, since: Date): Promise<void> {
  await waitUntil(
    `${host} to register, seen since ${since.toISOString()}`,
    async () => {
      const [service] = await primaryDb().select().from(services).where(eq(services.host, host));
      const [node] = await primaryDb().select().from(computeNodes).where(eq(computeNodes.host, host));
      return { service, node };
    },
    {
      timeoutMs: 20_000,
      intervalMs: 100,
      until: ({ service, node }) => Boolean(node && service?.last_seen_at && service.last_seen_at >= since),
    },
  );
}

/**
 * A real agent for one test's own host, in the stack's agent directory, returned once its compute
 * node has registered (so a boot into its zone can land there).
 */
export async function startRegisteredTestAgent(spec: AgentSpec): Promise<{ stop(): Promise<void> }> {
  const since = new Date(Date.now() - 1000);
  const { agent } = await startTestAgent(spec, join(stackInfo().dataDir, 'agents', spec.host));
  try {
    await waitRegistered(spec.host, since);
  } catch (error) {
    await agent.stop();
    throw error;
  }
  return agent;
}
