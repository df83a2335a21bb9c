import { randomUUID } from 'node:crypto';
import { eq } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { createConductorContext } from '../../functions/conductor/context.ts';
import { runStep } from '../../functions/conductor/steps.ts';
import type { RankedDestinations } from '../../functions/scheduler/select-step.ts';
import { resourceClaims } from '../../schema/tables/index.ts';
import { call, login, primaryDb, stackInfo } from '../helpers/api.ts';

// The scheduler is a resource workflows query: the conductor's `scheduler.select` step and the admin
// dry run answer the same question with the same function, and neither claims anything.
describe('the scheduler.select step', () => {
  const requestSpec = {
    instance_uuid: randomUUID(),
    project_id: 'sched-select',
    memory_mb: 512,
    vcpus: 1,
    disk_gb: 1,
    availability_zone: 'az-1',
  };

  it('ranks the hosts the dry run ranks, under the same policy, with the same rejections', async () => {
    const ctx = createConductorContext(stackInfo().env);
    const step = (await runStep(ctx, {
      step: 'scheduler.select',
      request_spec: requestSpec,
      limit: 5,
    })) as RankedDestinations;
    const dryRun = await call<RankedDestinations>('POST', '/v3/os-scheduler/select-destinations', {
      token: await login(),
      body: { request_spec: requestSpec, limit: 5 },
    });
    expect(dryRun.status, JSON.stringify(dryRun.body)).toBe(200);

    expect(step).toMatchObject({ policy: 'default', chosen_by: 'default' });
    expect({ policy: dryRun.body.policy, chosen_by: dryRun.body.chosen_by }).toEqual({
      policy: step.policy,
      chosen_by: step.chosen_by,
    });
    // Hosts report load between the two calls, so the order may differ; the candidates may not.
    const hosts = (ranked: RankedDestinations) =>
      ranked.destinations.map((destination) => destination.host).sort();
    expect(hosts(step).length).toBeGreaterThan(0);
    for (const host of hosts(step)) expect(['compute-1', 'compute-2']).toContain(host);
    expect(hosts(dryRun.body)).toEqual(hosts(step));
    expect(step.destinations[0]).toMatchObject({
      node: expect.any(String),
      availability_zone: 'az-1',
      weight: expect.any(Number),
      weights: { RAMWeigher: expect.any(Number), CPUUtilisationWeigher: expect.any(Number) },
    });
    // A host another file stopped may go down between the two calls, and ComputeFilter then rejects it
    // first; every other host must be rejected for the same reason by both.
    const wentDown = new Set(
      [...step.rejected_hosts, ...dryRun.body.rejected_hosts]
        .filter((rejection) => rejection.filter === 'ComputeFilter')
        .map((rejection) => rejection.host),
    );
    const rejected = (ranked: RankedDestinations) =>
      ranked.rejected_hosts
        .filter((rejection) => !wentDown.has(rejection.host))
        .map((rejection) => `${rejection.host} ${rejection.filter}`)
        .sort();
    expect(rejected(step)).toContain('compute-3 AvailabilityZoneFilter');
    expect(rejected(dryRun.body)).toEqual(rejected(step));

    const claims = await primaryDb()
      .select()
      .from(resourceClaims)
      .where(eq(resourceClaims.instance_uuid, requestSpec.instance_uuid));
    expect(claims).toEqual([]);
  });

  it('refuses a request spec that does not validate', async () => {
    const ctx = createConductorContext(stackInfo().env);
    await expect(
      runStep(ctx, { step: 'scheduler.select', request_spec: { ...requestSpec, memory_mb: -1 } }),
    ).rejects.toThrow(/memory_mb|Invalid/);
    await expect(
      runStep(ctx, { step: 'scheduler.select', request_spec: requestSpec, limit: 0 }),
    ).rejects.toThrow();
  });
});
