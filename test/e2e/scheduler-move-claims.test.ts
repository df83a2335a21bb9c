import { randomUUID } from 'node:crypto';
import { and, eq, inArray } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  claimHost,
  insertPendingClaim,
  releaseClaims,
  scheduleAndClaim,
} from '../../functions/scheduler/claims.ts';
import { claimForMove } from '../../functions/scheduler/move-claims.ts';
import { BUILTIN_DEFAULT_POLICY } from '../../functions/scheduler/policies.ts';
import type { RequestSpec } from '../../functions/scheduler/request-spec.ts';
import { computeNodes, resourceClaims, services } from '../../schema/tables/index.ts';
import { primaryDb } from '../helpers/api.ts';
import { startRegisteredTestAgent } from '../helpers/hosts.ts';

// Two real agents alone in their own zone. The claims are made by calling the scheduler as the
// migration steps do, for instances that exist only as claims.
const ZONE = 'az-sched-move';
const HOSTS = ['sched-move-1', 'sched-move-2'];
const OPTIONS = { now: new Date(), serviceDownTimeSeconds: 60 };

function spec(overrides: Partial<RequestSpec> = {}): RequestSpec {
  return {
    instance_uuid: randomUUID(),
    project_id: 'sched-move',
    memory_mb: 1024,
    vcpus: 1,
    disk_gb: 10,
    flavor_extra_specs: {},
    image_properties: {},
    availability_zone: ZONE,
    scheduler_hints: {},
    ignore_hosts: [],
    num_instances: 1,
    ...overrides,
  };
}

/** The instance's claim rows: a host name each, `(pending)` when not counted, `(unplaced)` when on no node. */
async function claimsOf(uuid: string) {
  const rows = await primaryDb()
    .select({ host: computeNodes.host, pending: resourceClaims.pending })
    .from(resourceClaims)
    .leftJoin(computeNodes, eq(computeNodes.id, resourceClaims.compute_node_id))
    .where(eq(resourceClaims.instance_uuid, uuid));
  return rows.map((row) => `${row.host ?? '(unplaced)'}${row.pending ? ' (pending)' : ''}`).sort();
}

async function usage() {
  const rows = await primaryDb()
    .select({ host: computeNodes.host, memory: computeNodes.memory_mb_used, vms: computeNodes.running_vms })
    .from(computeNodes)
    .where(and(inArray(computeNodes.host, HOSTS), eq(computeNodes.deleted, 0)));
  return Object.fromEntries(rows.map((row) => [row.host, { memory: row.memory, vms: row.vms }]));
}

describe('claimForMove', () => {
  const agents: Array<{ stop(): Promise<void> }> = [];
  const instances: string[] = [];

  beforeAll(async () => {
    for (const host of HOSTS) {
      agents.push(
        await startRegisteredTestAgent({
          host,
          availabilityZone: ZONE,
          vcpus: 4,
          memoryMb: 4096,
          localGb: 100,
        }),
      );
    }
  });

  afterAll(async () => {
    for (const uuid of instances) await releaseClaims(primaryDb(), uuid);
    await Promise.all(agents.map((agent) => agent.stop()));
  }, 60_000);

  it('claims a new destination away from the source and leaves the source claim alone', async () => {
    const db = primaryDb();
    const moving = spec();
    instances.push(moving.instance_uuid);
    const before = await usage();
    const booted = await scheduleAndClaim(db, moving, OPTIONS);
    const source = booted.host.host;
    const destination = HOSTS.find((host) => host !== source) ?? '';

    const moved = await claimForMove(db, { ...moving, ignore_hosts: [source] }, OPTIONS);
    expect(moved.host.host).toBe(destination);
    expect(moved.attempts).toBe(1);
    expect(await claimsOf(moving.instance_uuid)).toEqual([...HOSTS].sort());
    const after = await usage();
    for (const host of HOSTS) {
      expect(after[host]?.memory).toBe((before[host]?.memory ?? 0) + 1024);
      expect(after[host]?.vms).toBe((before[host]?.vms ?? 0) + 1);
    }

    // A retried step gets the destination its earlier try claimed, and claims nothing more.
    const retried = await claimForMove(db, { ...moving, ignore_hosts: [source] }, OPTIONS);
    expect(retried).toMatchObject({ host: { host: destination }, attempts: 0 });
    expect(await usage()).toEqual(after);

    // Without the source ignored, the earlier claim (the source's, by node order) is what stands.
    const again = await scheduleAndClaim(db, moving, OPTIONS);
    expect(HOSTS).toContain(again.host.host);
    expect(again.attempts).toBe(0);
    expect(await claimsOf(moving.instance_uuid)).toHaveLength(2);
  });

  it('takes a forced host without ranking or placement rules, but only if it is up, has room and is not the source', async () => {
    const db = primaryDb();
    const first = spec();
    instances.push(first.instance_uuid);
    const [target, other] = HOSTS as [string, string];
    await claimForMove(db, first, { ...OPTIONS, forcedHost: target });
    expect(await claimsOf(first.instance_uuid)).toEqual([target]);

    // different_host would keep a scheduled move off `target`; forced, it lands there.
    const second = spec({ ignore_hosts: [other], scheduler_hints: { different_host: first.instance_uuid } });
    instances.push(second.instance_uuid);
    await expect(claimForMove(db, second, OPTIONS)).rejects.toThrow(/DifferentHostFilter/);
    const forced = await claimForMove(db, second, { ...OPTIONS, forcedHost: target });
    expect(forced).toMatchObject({ host: { host: target }, chosenBy: 'forced host', attempts: 1 });
    expect(forced.policy.name).toBe('forced-host');

    await expect(claimForMove(db, second, { ...OPTIONS, forcedHost: other })).rejects.toThrow(
      `${other} is the host the server is moving from`,
    );
    const tooBig = spec({ memory_mb: 64 * 1024 });
    await expect(claimForMove(db, tooBig, { ...OPTIONS, forcedHost: target })).rejects.toThrow(
      /the requested host sched-move-1 cannot take the server\. 1 hosts rejected \(RamFilter: 1\)/,
    );
    expect(await claimsOf(tooBig.instance_uuid)).toEqual([]);

    await db.update(services).set({ disabled: true }).where(eq(services.host, target));
    try {
      await expect(claimForMove(db, spec(), { ...OPTIONS, forcedHost: target })).rejects.toThrow(
        /ComputeFilter: 1.*the compute service is disabled/,
      );
    } finally {
      await db.update(services).set({ disabled: false }).where(eq(services.host, target));
    }
    await expect(claimForMove(db, spec(), { ...OPTIONS, forcedHost: 'no-such-host' })).rejects.toThrow(
      'compute host no-such-host is unknown',
    );
  });

  it('leaves no claim row behind when no host can take the request', async () => {
    const tooBig = spec({ memory_mb: 64 * 1024 });
    await expect(scheduleAndClaim(primaryDb(), tooBig, OPTIONS)).rejects.toThrow(/RamFilter/);
    expect(await claimsOf(tooBig.instance_uuid)).toEqual([]);
  });

  it('counts a claim once when the instance already holds one on the chosen node', async () => {
    const db = primaryDb();
    const request = spec();
    instances.push(request.instance_uuid);
    const booted = await scheduleAndClaim(db, request, OPTIONS);
    const before = await usage();

    // A second try of the same step, racing the first, places its own pending claim on the same node.
    const claimId = await insertPendingClaim(db, request);
    expect(await claimsOf(request.instance_uuid)).toEqual(['(unplaced) (pending)', booted.host.host].sort());
    const outcome = await claimHost(
      db,
      request,
      claimId,
      booted.host,
      { policy: BUILTIN_DEFAULT_POLICY, chosenBy: 'default' },
      OPTIONS,
    );
    expect(outcome).toBe('claimed');
    expect(await claimsOf(request.instance_uuid)).toEqual([booted.host.host]);
    expect(await usage()).toEqual(before);
  });

  it('counts nothing for a pending claim a crashed try left, and releases it with the instance', async () => {
    const db = primaryDb();
    const request = spec();
    const before = await usage();
    await insertPendingClaim(db, request);
    const placement = await scheduleAndClaim(db, request, OPTIONS);
    expect(await claimsOf(request.instance_uuid)).toEqual(
      ['(unplaced) (pending)', placement.host.host].sort(),
    );
    const after = await usage();
    expect(after[placement.host.host]?.memory).toBe((before[placement.host.host]?.memory ?? 0) + 1024);

    expect(await releaseClaims(db, request.instance_uuid)).toBe(2);
    expect(await claimsOf(request.instance_uuid)).toEqual([]);
    expect(await usage()).toEqual(before);
  });
});
