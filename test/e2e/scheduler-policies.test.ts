import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { and, eq, inArray } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AgentProcess } from '../../infra/local/agents.ts';
import { computeNodes, flavorExtraSpecs, flavors, instances } from '../../schema/tables/index.ts';
import { call, IMAGE, login, primaryDb, waitForServer } from '../helpers/api.ts';
import { startTestAgent } from '../helpers/hosts.ts';
import { createMember } from '../helpers/identity.ts';
import { waitUntil } from '../helpers/wait.ts';

interface HintView {
  name: string;
  schema: Record<string, unknown>;
  filters: string[];
  policies: string[];
}

/** Two real agents alone in `zone`; the first has twice the second's RAM. */
async function startZone(zone: string, hosts: [string, string], stateDir: string): Promise<AgentProcess[]> {
  const agents = await Promise.all(
    hosts.map(async (host, index) => {
      const { agent } = await startTestAgent(
        { host, availabilityZone: zone, vcpus: 8, memoryMb: index === 0 ? 8192 : 4096, localGb: 100 },
        join(stateDir, host),
      );
      return agent;
    }),
  );
  await waitUntil(
    `hosts of ${zone} to register`,
    () => primaryDb().select().from(computeNodes).where(inArray(computeNodes.host, hosts)),
    { timeoutMs: 30_000, intervalMs: 200, until: (nodes) => nodes.length >= 2 },
  );
  return agents;
}

async function boot(token: string, server: Record<string, unknown>) {
  return call<{ server: { id: string } }>('POST', '/v3/servers', {
    token,
    body: { server: { image_ref: IMAGE, flavor_ref: '1', ...server } },
  });
}

async function bootActive(token: string, server: Record<string, unknown>, created: string[]) {
  const response = await boot(token, server);
  expect(response.status, JSON.stringify(response.body)).toBe(202);
  created.push(response.body.server.id);
  const view = await waitForServer(token, response.body.server.id, ['ACTIVE', 'ERROR']);
  return { id: response.body.server.id, view };
}

async function cleanUp(token: string, ids: string[], agents: AgentProcess[], stateDir: string) {
  await Promise.all(ids.map((id) => call('DELETE', `/v3/servers/${id}`, { token })));
  await Promise.all(ids.map((id) => waitForServer(token, id, ['DELETED'], 60_000).catch(() => null)));
  await Promise.all(agents.map((agent) => agent.stop()));
  await rm(stateDir, { recursive: true, force: true });
}

describe('scheduling policies and discoverable hints', () => {
  const ZONE = 'az-sched-policy';
  const HOSTS: [string, string] = ['sched-pol-1', 'sched-pol-2'];
  let token: string;
  let stateDir: string;
  let agents: AgentProcess[] = [];
  const ids: string[] = [];

  beforeAll(async () => {
    token = await login();
    stateDir = await mkdtemp(join(tmpdir(), 'sched-policy-'));
    agents = await startZone(ZONE, HOSTS, stateDir);
  });

  afterAll(async () => {
    await call('DELETE', '/v3/os-scheduler/policies/sched-json', { token });
    await cleanUp(token, ids, agents, stateDir);
  }, 120_000);

  it('lists the hints the active policies honour, and refuses the others with 400 at create time', async () => {
    const listed = await call<{ scheduler_hints: HintView[] }>('GET', '/v3/os-scheduler-hints', { token });
    expect(listed.status).toBe(200);
    const names = listed.body.scheduler_hints.map((hint) => hint.name);
    expect(names).toEqual(expect.arrayContaining(['different_host', 'group', 'group_policy', 'same_host']));
    expect(names).not.toContain('query');
    expect(listed.body.scheduler_hints.find((hint) => hint.name === 'different_host')).toMatchObject({
      filters: ['DifferentHostFilter'],
      policies: ['default'],
      schema: { oneOf: expect.any(Array) },
    });

    const unknown = await boot(token, {
      name: 'unhonoured',
      availability_zone: 'az-1',
      'os-scheduler-hints:scheduler_hints': { query: '["=", "$host", "x"]' },
    });
    expect(unknown.status).toBe(400);
    expect(JSON.stringify(unknown.body)).toContain("scheduler hint 'query' is not honoured");
    const malformed = await boot(token, {
      name: 'malformed',
      availability_zone: 'az-1',
      'os-scheduler-hints:scheduler_hints': { different_host: 'not-a-uuid' },
    });
    expect(malformed.status).toBe(400);
    expect(JSON.stringify(malformed.body)).toContain("scheduler hint 'different_host'");
  });

  it('schedules a zone by the policy bound to it and records which policy chose the host', async () => {
    const created = await call('POST', '/v3/os-scheduler/policies', {
      token,
      body: {
        policy: {
          name: 'sched-json',
          description: 'stack, and honour JSON queries',
          filters: [
            'ComputeFilter',
            'AvailabilityZoneFilter',
            'RamFilter',
            'CoreFilter',
            'DiskFilter',
            'JsonFilter',
          ],
          weighers: [{ name: 'RAMWeigher', multiplier: -1 }],
        },
      },
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    // Unbound, it is not active: its hint is not honoured yet.
    const before = await call<{ scheduler_hints: HintView[] }>('GET', '/v3/os-scheduler-hints', { token });
    expect(before.body.scheduler_hints.map((hint) => hint.name)).not.toContain('query');

    const bound = await call('POST', '/v3/os-scheduler/policies/sched-json/bindings', {
      token,
      body: { binding: { kind: 'availability_zone', value: ZONE } },
    });
    expect(bound.status, JSON.stringify(bound.body)).toBe(201);
    const after = await call<{ scheduler_hints: HintView[] }>('GET', '/v3/os-scheduler-hints', { token });
    expect(after.body.scheduler_hints.find((hint) => hint.name === 'query')).toMatchObject({
      filters: ['JsonFilter'],
      policies: ['sched-json'],
    });

    // The policy stacks (RAM multiplier -1): the host with less free RAM wins without a hint...
    const stacked = await bootActive(token, { name: 'stacked', availability_zone: ZONE }, ids);
    expect(stacked.view?.status).toBe('ACTIVE');
    expect(stacked.view?.['os-extended-server-attributes:host']).toBe('sched-pol-2');
    // ...and the JSON query overrides that.
    const queried = await bootActive(
      token,
      {
        name: 'queried',
        availability_zone: ZONE,
        'os-scheduler-hints:scheduler_hints': { query: '["=", "$host", "sched-pol-1"]' },
      },
      ids,
    );
    expect(queried.view?.['os-extended-server-attributes:host']).toBe('sched-pol-1');
    const rows = await primaryDb()
      .select({ uuid: instances.uuid, policy: instances.scheduler_policy })
      .from(instances)
      .where(inArray(instances.uuid, [stacked.id, queried.id]));
    expect(rows.map((row) => row.policy)).toEqual(['sched-json', 'sched-json']);

    // Another zone still uses the default policy, which does not read `query`.
    const elsewhere = await boot(token, {
      name: 'elsewhere',
      availability_zone: 'az-1',
      'os-scheduler-hints:scheduler_hints': { query: '["=", "$host", "compute-1"]' },
    });
    expect(elsewhere.status).toBe(202);
    ids.push(elsewhere.body.server.id);
  });

  it('dry-runs select-destinations with the deciding policy, ranked hosts and why each other host failed', async () => {
    const response = await call<{
      policy: string;
      chosen_by: string;
      destinations: Array<{ host: string; weight: number; weights: Record<string, number> }>;
      rejected_hosts: Array<{ host: string; filter: string; reason: string }>;
    }>('POST', '/v3/os-scheduler/select-destinations', {
      token,
      body: {
        request_spec: {
          project_id: 'dry-run',
          flavor_ref: '1',
          availability_zone: ZONE,
          scheduler_hints: { query: '["=", "$host", "sched-pol-1"]' },
        },
      },
    });
    expect(response.status, JSON.stringify(response.body)).toBe(200);
    expect(response.body).toMatchObject({ policy: 'sched-json', chosen_by: `availability_zone=${ZONE}` });
    expect(response.body.destinations.map((destination) => destination.host)).toEqual(['sched-pol-1']);
    expect(response.body.rejected_hosts).toContainEqual(
      expect.objectContaining({ host: 'sched-pol-2', filter: 'JsonFilter' }),
    );
    expect(response.body.rejected_hosts).toContainEqual(
      expect.objectContaining({ host: 'compute-1', filter: 'AvailabilityZoneFilter' }),
    );
  });

  it('refuses a dry run or a policy with a key it does not know, naming it, instead of dropping it', async () => {
    const misspeltFlavor = await call<{ badRequest: { message: string } }>(
      'POST',
      '/v3/os-scheduler/select-destinations',
      { token, body: { request_spec: { project_id: 'dry-run', flavor_id: '1' } } },
    );
    expect(misspeltFlavor.status).toBe(400);
    expect(misspeltFlavor.body.badRequest.message).toContain("'request_spec.flavor_id'");
    const misspeltSetting = await call<{ badRequest: { message: string } }>(
      'POST',
      '/v3/os-scheduler/policies',
      {
        token,
        body: {
          policy: {
            name: 'sched-misspelt',
            filters: ['NumInstancesFilter'],
            weighers: [],
            settings: { max_instance_per_host: 1 },
          },
        },
      },
    );
    expect(misspeltSetting.status).toBe(400);
    expect(misspeltSetting.body.badRequest.message).toContain("'policy.settings.max_instance_per_host'");
    const listed = await call<{ policies: Array<{ name: string }> }>('GET', '/v3/os-scheduler/policies', {
      token,
    });
    expect(listed.body.policies.map((policy) => policy.name)).not.toContain('sched-misspelt');
  });
});

describe('whole hosts dedicated to one project', () => {
  const ZONE = 'az-sched-dedicated';
  const HOSTS: [string, string] = ['sched-ded-1', 'sched-ded-2'];
  const FLAVOR = 'sched-dedicated-tiny';
  let admin: string;
  let member: string;
  let memberProject: string;
  let stateDir: string;
  let agents: AgentProcess[] = [];
  const ids: string[] = [];
  const dedications: number[] = [];

  beforeAll(async () => {
    admin = await login();
    ({ projectId: memberProject } = await createMember('sched-dedicated-user', 'sched-dedicated-password'));
    member = await login('sched-dedicated-user', 'sched-dedicated-password');
    stateDir = await mkdtemp(join(tmpdir(), 'sched-dedicated-'));
    agents = await startZone(ZONE, HOSTS, stateDir);
    const db = primaryDb();
    await db.insert(flavors).values({
      flavorid: FLAVOR,
      name: FLAVOR,
      memory_mb: 512,
      vcpus: 1,
      root_gb: 1,
      created_at: new Date(),
    });
    const [flavor] = await db
      .select()
      .from(flavors)
      .where(and(eq(flavors.flavorid, FLAVOR), eq(flavors.deleted, 0)));
    await db
      .insert(flavorExtraSpecs)
      .values({ flavor_id: flavor?.id ?? 0, key: 'dedicated', value: 'true', created_at: new Date() });
  });

  afterAll(async () => {
    for (const id of dedications)
      await call('DELETE', `/v3/os-scheduler/dedicated-hosts/${id}`, { token: admin });
    await cleanUp(admin, ids, agents, stateDir);
    const db = primaryDb();
    const [flavor] = await db.select().from(flavors).where(eq(flavors.flavorid, FLAVOR));
    await db.delete(flavorExtraSpecs).where(eq(flavorExtraSpecs.flavor_id, flavor?.id ?? 0));
    await db.delete(flavors).where(eq(flavors.flavorid, FLAVOR));
  }, 120_000);

  it("refuses to dedicate a host with other projects' servers, then keeps everyone else off a dedicated one", async () => {
    const first = await bootActive(admin, { name: 'occupant', availability_zone: ZONE }, ids);
    const occupied = String(first.view?.['os-extended-server-attributes:host']);
    const free = HOSTS.find((host) => host !== occupied) ?? '';

    const refused = await call('POST', '/v3/os-scheduler/dedicated-hosts', {
      token: admin,
      body: { dedicated_host: { project_id: memberProject, host: occupied } },
    });
    expect(refused.status).toBe(409);
    expect(JSON.stringify(refused.body)).toContain(first.id);

    const forbidden = await call('POST', '/v3/os-scheduler/dedicated-hosts', {
      token: member,
      body: { dedicated_host: { project_id: memberProject, host: free } },
    });
    expect(forbidden.status).toBe(403);

    const dedicated = await call<{ dedicated_host: { id: number } }>(
      'POST',
      '/v3/os-scheduler/dedicated-hosts',
      {
        token: admin,
        body: { dedicated_host: { project_id: memberProject, host: free } },
      },
    );
    expect(dedicated.status, JSON.stringify(dedicated.body)).toBe(201);
    dedications.push(dedicated.body.dedicated_host.id);

    // Other projects never land there, however the weighers would rank it.
    for (let i = 0; i < 3; i++) {
      const other = await bootActive(admin, { name: `other-${i}`, availability_zone: ZONE }, ids);
      expect(other.view?.['os-extended-server-attributes:host']).toBe(occupied);
    }
    // The project's dedicated flavor lands only on its dedicated host...
    const own = await bootActive(member, { name: 'own', availability_zone: ZONE, flavor_ref: FLAVOR }, ids);
    expect(own.view?.status).toBe('ACTIVE');
    const [ownRow] = await primaryDb()
      .select({ host: instances.host })
      .from(instances)
      .where(eq(instances.uuid, own.id));
    expect(ownRow?.host).toBe(free);
    // ...and another project's boot of that flavor finds no host at all.
    const none = await bootActive(
      admin,
      { name: 'no-dedicated', availability_zone: ZONE, flavor_ref: FLAVOR },
      ids,
    );
    expect(none.view?.status).toBe('ERROR');
    expect(none.view?.fault?.message).toMatch(/No valid host was found.*DedicatedHostsFilter: 2/);
  });
});
