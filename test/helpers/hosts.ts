import { type AgentSpec, startAgentProcess } from '../../infra/local/agents.ts';
import { call, login, stackInfo } from './api.ts';

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
