import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DescribeExecutionCommand, ExecutionDoesNotExist, SFNClient } from '@aws-sdk/client-sfn';
import { and, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FAKE_STATE_FILE } from '../../agent/drivers/fake.ts';
import type { CacheImagesReport } from '../../functions/conductor/cache-images-steps.ts';
import { COMPUTE_COMMAND_NAMES } from '../../schema/objects/compute-command.ts';
import { services } from '../../schema/tables/index.ts';
import { IMAGE, login, primaryDb, stackInfo } from '../helpers/api.ts';
import { startRegisteredTestAgent } from '../helpers/hosts.ts';
import { createMember } from '../helpers/identity.ts';
import { v21Call } from '../helpers/v21.ts';
import { waitUntil } from '../helpers/wait.ts';

// 2.81's image pre-cache, end to end: the API checks the request and answers 202, the cache-images
// workflow sends each host of the aggregate a cache_images command, and the hosts' fake drivers fill
// their image caches. Two hosts of this file's own run the command; a third stands for an agent of the
// previous release (its supported_commands lack cache_images) and must be skipped; a fourth fails
// every download. The stack advertises less than 2.81, so v21Call serves these requests in-process
// at Nova's latest.
const ZONE = 'az-aggregate-images';
const CAPABLE = ['agg-images-1', 'agg-images-2'];
const FAILING = 'agg-images-failing';
const OLD_AGENT = 'agg-images-old';
const HOSTS = [...CAPABLE, FAILING, OLD_AGENT];
const SECOND_IMAGE = '155d900f-4e14-4e4c-a73d-069cbf4541e6';

const sfn = new SFNClient({
  region: 'us-east-1',
  endpoint: stackInfo().sfnEndpoint,
  credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
});

/** The images a host's fake driver holds in its cache, read from its state file. */
async function cachedOn(host: string): Promise<string[]> {
  const path = join(stackInfo().dataDir, 'agents', host, FAKE_STATE_FILE);
  try {
    const state = JSON.parse(await readFile(path, 'utf8')) as { images?: string[] };
    return [...(state.images ?? [])].sort();
  } catch {
    return [];
  }
}

/** The report a pre-cache execution ends with; the API's request id names the execution. */
async function reportOf(aggregateId: number, requestId: string): Promise<CacheImagesReport> {
  const machineArn = (JSON.parse(stackInfo().env.STATE_MACHINE_ARNS ?? '{}') as Record<string, string>)[
    'cache-images'
  ];
  const executionArn = `${machineArn?.replace(':stateMachine:', ':execution:')}:aggregate-${aggregateId}-images-${requestId}`;
  const finished = await waitUntil(
    `the cache-images execution of ${requestId} to end`,
    () =>
      sfn.send(new DescribeExecutionCommand({ executionArn })).catch((error: unknown) => {
        if (error instanceof ExecutionDoesNotExist) return undefined;
        throw error;
      }),
    { timeoutMs: 30_000, intervalMs: 200, until: (described) => described?.status !== 'RUNNING' },
  );
  expect(finished?.status, finished?.cause).toBe('SUCCEEDED');
  return JSON.parse(finished?.output ?? '{}') as CacheImagesReport;
}

describe('POST /v2.1/os-aggregates/{id}/images (2.81)', () => {
  let admin: string;
  let member: string;
  let aggregateId: number;
  const agents: Array<{ stop(): Promise<void> }> = [];
  const suffix = randomUUID().slice(0, 8);

  const cache = (minor: number, body: unknown, options: { token?: string; id?: number | string } = {}) =>
    v21Call(minor, 'POST', `/v2.1/os-aggregates/${options.id ?? aggregateId}/images`, {
      token: options.token ?? admin,
      body,
    });
  const action = (body: unknown) =>
    v21Call(1, 'POST', `/v2.1/os-aggregates/${aggregateId}/action`, { token: admin, body });

  beforeAll(async () => {
    admin = await login();
    const name = `agg-images-${suffix}`;
    await createMember(name, 'secret-password');
    member = await login(name, 'secret-password');
    agents.push(
      ...(await Promise.all(
        HOSTS.map((host) =>
          startRegisteredTestAgent({
            host,
            availabilityZone: ZONE,
            env: host === FAILING ? { AGENT_FAKE_FAIL: 'cache_images' } : {},
          }),
        ),
      )),
    );
    // What an agent of the release before 2.81 registers: every command but cache_images.
    await primaryDb()
      .update(services)
      .set({ supported_commands: COMPUTE_COMMAND_NAMES.filter((command) => command !== 'cache_images') })
      .where(and(eq(services.host, OLD_AGENT), eq(services.deleted, 0)));
    const created = await v21Call<{ aggregate: { id: number } }>(1, 'POST', '/v2.1/os-aggregates', {
      token: admin,
      body: { aggregate: { name: `agg-images-${suffix}` } },
    });
    expect(created.status).toBe(200);
    aggregateId = created.body.aggregate.id;
    for (const host of HOSTS) expect((await action({ add_host: { host } })).status).toBe(200);
  });

  afterAll(async () => {
    for (const host of HOSTS) await action({ remove_host: { host } });
    await v21Call(1, 'DELETE', `/v2.1/os-aggregates/${aggregateId}`, { token: admin });
    await Promise.all(agents.map((agent) => agent.stop()));
  });

  it('caches the images on every host whose agent runs cache_images, skips the one whose agent does not, and reports each', async () => {
    const accepted = await cache(81, { cache: [{ id: IMAGE }, { id: SECOND_IMAGE }] });
    expect(accepted.status).toBe(202);
    expect(accepted.body).toEqual({});
    const requestId = accepted.headers.get('x-openstack-request-id') ?? '';

    const report = await reportOf(aggregateId, requestId);
    const both = [IMAGE, SECOND_IMAGE].sort();
    for (const host of CAPABLE) expect(await cachedOn(host)).toEqual(both);
    expect(await cachedOn(FAILING)).toEqual([]);
    expect(await cachedOn(OLD_AGENT)).toEqual([]);
    expect(report).toEqual({
      aggregate_id: aggregateId,
      image_ids: [IMAGE, SECOND_IMAGE],
      hosts: [
        { host: CAPABLE[0], status: 'done', images: { [IMAGE]: 'cached', [SECOND_IMAGE]: 'cached' } },
        { host: CAPABLE[1], status: 'done', images: { [IMAGE]: 'cached', [SECOND_IMAGE]: 'cached' } },
        { host: FAILING, status: 'done', images: { [IMAGE]: 'error', [SECOND_IMAGE]: 'error' } },
        { host: OLD_AGENT, status: 'skipped', reason: 'its agent does not run cache_images: upgrade it' },
      ],
      totals: { cached: 4, existing: 0, error: 2, skipped_hosts: 1, failed_hosts: 0 },
    });

    // Asked again, the hosts already have the image.
    const again = await cache(81, { cache: [{ id: IMAGE }] });
    expect(again.status).toBe(202);
    const second = await reportOf(aggregateId, again.headers.get('x-openstack-request-id') ?? '');
    expect(second.hosts.filter((outcome) => CAPABLE.includes(outcome.host))).toEqual(
      CAPABLE.map((host) => ({ host, status: 'done', images: { [IMAGE]: 'existing' } })),
    );
    for (const host of CAPABLE) expect(await cachedOn(host)).toEqual(both);
  });

  it('refuses bad bodies with 400 naming the field, and asks no host anything', async () => {
    const before = await Promise.all(HOSTS.map(cachedOn));
    const unknownImage = randomUUID();
    const refusals: Array<[unknown, string]> = [
      [{ cache: [] }, "field 'cache': must name at least one image"],
      [
        { cache: [{ id: unknownImage }, { id: IMAGE }, { id: unknownImage }] },
        "field 'cache': Duplicate images in request",
      ],
      [{ cache: [{ id: IMAGE, name: 'cirros' }] }, "field 'cache.0.name'"],
      [{ cache: [{ id: IMAGE }], force: true }, "field 'force'"],
      [{ cache: [{ id: 'not-a-uuid' }] }, "field 'cache.0.id': must be an image uuid"],
      [{ cache: [{}] }, "field 'cache.0.id'"],
      [{}, "field 'cache'"],
      [
        { cache: [{ id: IMAGE }, { id: unknownImage }] },
        `field 'cache': image ${unknownImage} could not be found`,
      ],
    ];
    for (const [body, named] of refusals) {
      const refused = await cache(81, body);
      expect(refused.status, JSON.stringify(body)).toBe(400);
      expect(JSON.stringify(refused.body), JSON.stringify(body)).toContain(named);
    }
    expect(await Promise.all(HOSTS.map(cachedOn))).toEqual(before);
  });

  it('answers 404 for an unknown aggregate, 403 for a non-admin, and 404 below 2.81', async () => {
    const body = { cache: [{ id: IMAGE }] };
    expect((await cache(81, body, { id: 999_999_999 })).status).toBe(404);
    expect((await cache(81, body, { id: 'one' })).status).toBe(400);
    expect((await cache(81, body, { token: member })).status).toBe(403);
    const older = await cache(80, body);
    expect(older.status).toBe(404);
    expect(older.headers.get('x-openstack-nova-api-version')).toBe('2.80');
  });
});
