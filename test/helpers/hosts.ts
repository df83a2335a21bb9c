import { join } from 'node:path';
import { eq } from 'drizzle-orm';
import { type AgentSpec, startAgentProcess } from '../../infra/local/agents.ts';
import { computeNodes } from '../../schema/tables/index.ts';
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

/**
 * A real agent for one test's own host, in the stack's agent directory, returned once its compute
 * node has registered (so a boot into its zone can land there).
 */
export async function startRegisteredTestAgent(spec: AgentSpec): Promise<{ stop(): Promise<void> }> {
  const { agent } = await startTestAgent(spec, join(stackInfo().dataDir, 'agents', spec.host));
  try {
    await waitUntil(
      `${spec.host} to register its compute node`,
      async () => {
        const [node] = await primaryDb().select().from(computeNodes).where(eq(computeNodes.host, spec.host));
        return node;
      },
      { timeoutMs: 20_000, intervalMs: 100 },
    );
  } catch (error) {
    await agent.stop();
    throw error;
  }
  return agent;
}
