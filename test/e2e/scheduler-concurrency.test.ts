import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { and, eq, inArray } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AgentProcess } from '../../infra/local/agents.ts';
import { computeNodes, instanceFaults, instances, resourceClaims } from '../../schema/tables/index.ts';
import { call, createServer, login, primaryDb, waitForServer } from '../helpers/api.ts';
import { startTestAgent } from '../helpers/hosts.ts';
import { waitUntil } from '../helpers/wait.ts';

// Five real agents alone in their own zone, each with room for exactly 40 m1.tiny (1 GB disk each,
// disk_allocation_ratio 1: 40 GB is the binding limit; RAM and vCPUs have room to spare).
const ZONE = 'az-sched-fill';
const HOSTS = Array.from({ length: 5 }, (_, i) => `sched-fill-${i + 1}`);
const PER_HOST = 40;
const BOOTS = HOSTS.length * PER_HOST;

async function fleetNodes() {
  return primaryDb().select().from(computeNodes).where(inArray(computeNodes.host, HOSTS));
}

describe('200 concurrent boots into a fleet that fits them exactly', () => {
  let token: string;
  let stateDir: string;
  const agents: AgentProcess[] = [];
  const ids: string[] = [];

  beforeAll(async () => {
    token = await login();
    stateDir = await mkdtemp(join(tmpdir(), 'sched-fill-'));
    for (const host of HOSTS) {
      const { agent } = await startTestAgent(
        { host, availabilityZone: ZONE, vcpus: 4, memoryMb: 16384, localGb: PER_HOST },
        join(stateDir, host),
      );
      agents.push(agent);
    }
    await waitUntil('the five hosts to register', fleetNodes, {
      timeoutMs: 30_000,
      intervalMs: 250,
      until: (nodes) => nodes.length === HOSTS.length,
    });
  });

  afterAll(async () => {
    await Promise.all(ids.map((id) => call('DELETE', `/v3/servers/${id}`, { token })));
    await Promise.all(ids.map((id) => waitForServer(token, id, ['DELETED'], 120_000).catch(() => null)));
    await Promise.all(agents.map((agent) => agent.stop()));
    await rm(stateDir, { recursive: true, force: true });
  }, 240_000);

  it('lands every server, over-commits no host, and answers NoValidHost only once the fleet is full', async () => {
    ids.push(
      ...(await Promise.all(
        Array.from({ length: BOOTS }, (_, i) =>
          createServer(token, { name: `fill-${i}`, flavor_ref: '1', availability_zone: ZONE }),
        ),
      )),
    );
    const db = primaryDb();
    const settled = await waitUntil(
      'every boot to settle',
      () =>
        db
          .select({ uuid: instances.uuid, vm_state: instances.vm_state, host: instances.host })
          .from(instances)
          .where(inArray(instances.uuid, ids)),
      {
        timeoutMs: 180_000,
        intervalMs: 250,
        until: (rows) => rows.every((row) => row.vm_state !== 'building'),
      },
    );
    const faults = await db
      .select({ uuid: instanceFaults.instance_uuid, message: instanceFaults.message })
      .from(instanceFaults)
      .where(inArray(instanceFaults.instance_uuid, ids));
    expect(faults).toEqual([]);
    expect(settled.filter((row) => row.vm_state !== 'active')).toEqual([]);

    const perHost = new Map<string, number>();
    for (const row of settled) perHost.set(row.host ?? 'none', (perHost.get(row.host ?? 'none') ?? 0) + 1);
    expect(Object.fromEntries(perHost)).toEqual(Object.fromEntries(HOSTS.map((host) => [host, PER_HOST])));

    for (const node of await fleetNodes()) {
      expect(node.local_gb_used).toBe(PER_HOST);
      expect(node.running_vms).toBe(PER_HOST);
      const claims = await db
        .select()
        .from(resourceClaims)
        .where(eq(resourceClaims.compute_node_id, node.id));
      expect(claims).toHaveLength(PER_HOST);
    }

    // Full now: one more boot into the zone is refused by the scheduler, and says why.
    const extra = await createServer(token, { name: 'fill-extra', flavor_ref: '1', availability_zone: ZONE });
    ids.push(extra);
    const refused = await waitForServer(token, extra, ['ERROR', 'ACTIVE']);
    expect(refused?.status).toBe('ERROR');
    expect(refused?.fault?.message).toMatch(/No valid host was found.*DiskFilter: 5/);
    const [extraRow] = await db
      .select({ host: instances.host })
      .from(instances)
      .where(and(eq(instances.uuid, extra), eq(instances.deleted, 0)));
    expect(extraRow?.host).toBeNull();
  }, 300_000);
});
