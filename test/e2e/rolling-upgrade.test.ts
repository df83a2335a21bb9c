import { join } from 'node:path';
import { and, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InstanceObject } from '../../schema/objects/instance.ts';
import { services } from '../../schema/tables/index.ts';
import { call, createServer, login, primaryDb, stackInfo, waitForServer } from '../helpers/api.ts';
import { startTestAgent, waitRegistered } from '../helpers/hosts.ts';
import { waitUntil } from '../helpers/wait.ts';

// Rolling upgrades: the control plane is upgraded first, so it must keep driving agents that only
// understand older object versions, and refuse agents it cannot talk to at all.
const OLD_HOST = 'rolling-old-1';
const OLD_ZONE = 'az-rolling-old';
const NEW_HOST = 'rolling-new-1';
const NEW_ZONE = 'az-rolling-new';

const WAIT = { timeoutMs: 20_000, intervalMs: 100 };

async function computeService(host: string) {
  const [service] = await primaryDb()
    .select()
    .from(services)
    .where(and(eq(services.host, host), eq(services.binary, 'nova-compute')));
  return service;
}

/** The Instance version the agent logged for the command of `name` on server `id`. */
function versionReceived(lines: string[], name: 'spawn' | 'terminate', id: string): string | undefined {
  const pattern = new RegExp(`\\(${name} ${id}\\) carries Instance (\\d+\\.\\d+)$`);
  for (const line of lines) {
    const match = pattern.exec(line);
    if (match) return match[1];
  }
  return undefined;
}

async function bootAndDelete(token: string, zone: string, host: string, lines: string[]) {
  const id = await createServer(token, { name: `rolling-${zone}`, availability_zone: zone });
  const server = await waitForServer(token, id, ['ACTIVE', 'ERROR']);
  expect(server?.status, JSON.stringify(server?.fault)).toBe('ACTIVE');
  expect(server?.['os-extended-server-attributes:host']).toBe(host);
  const spawnVersion = versionReceived(lines, 'spawn', id);

  const deleted = await call('DELETE', `/v3/servers/${id}`, { token });
  expect(deleted.status).toBe(204);
  await waitForServer(token, id, ['DELETED']);
  const terminateVersion = await waitUntil(
    'the terminate command in the agent log',
    () => versionReceived(lines, 'terminate', id),
    WAIT,
  );
  return { spawnVersion, terminateVersion };
}

describe('rolling upgrade: a new control plane and agents pinned to older objects', () => {
  let token: string;
  const agents: Array<{ stop(): Promise<void> }> = [];

  beforeAll(async () => {
    token = await login();
  });

  afterAll(async () => {
    await Promise.all(agents.map((agent) => agent.stop()));
  });

  it('boots and deletes a server on an agent that understands only Instance 1.0, sending it 1.0', async () => {
    const since = new Date(Date.now() - 1000);
    const { agent, lines } = await startTestAgent(
      { host: OLD_HOST, availabilityZone: OLD_ZONE, env: { AGENT_OBJECT_VERSIONS: 'Instance=1.0' } },
      join(stackInfo().dataDir, 'agents', OLD_HOST),
    );
    agents.push(agent);
    await waitRegistered(OLD_HOST, since);
    expect((await computeService(OLD_HOST))?.supported_objects).toMatchObject({ Instance: '1.0' });

    const received = await bootAndDelete(token, OLD_ZONE, OLD_HOST, lines);
    expect(received).toEqual({ spawnVersion: '1.0', terminateVersion: '1.0' });
  });

  it('sends the current Instance version to an agent of this release', async () => {
    const since = new Date(Date.now() - 1000);
    const { agent, lines } = await startTestAgent(
      { host: NEW_HOST, availabilityZone: NEW_ZONE },
      join(stackInfo().dataDir, 'agents', NEW_HOST),
    );
    agents.push(agent);
    await waitRegistered(NEW_HOST, since);

    const received = await bootAndDelete(token, NEW_ZONE, NEW_HOST, lines);
    expect(received).toEqual({
      spawnVersion: InstanceObject.version,
      terminateVersion: InstanceObject.version,
    });
  });

  it.each([
    ['2.0', 'rolling-too-new-1'],
    ['0.9', 'rolling-too-old-1'],
  ])(
    'refuses at registration an agent that reports Instance %s, naming the object and versions',
    async (version, host) => {
      const { agent, lines } = await startTestAgent(
        {
          host,
          availabilityZone: 'az-rolling-refused',
          env: { AGENT_OBJECT_VERSIONS: `Instance=${version}` },
        },
        join(stackInfo().dataDir, 'agents', host),
      );
      agents.push(agent);
      const refusal = await waitUntil(
        'the agent to give up',
        () => lines.find((line) => line.includes('could not start')),
        WAIT,
      );
      expect(refusal).toContain(`Instance`);
      expect(refusal).toContain(version);
      expect(refusal).toContain('1.x');
      expect(await computeService(host)).toBeUndefined();
    },
  );
});
