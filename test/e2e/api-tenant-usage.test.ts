import { eq } from 'drizzle-orm';
import { beforeAll, describe, expect, it } from 'vitest';
import { instances } from '../../schema/tables/index.ts';
import { call, createServer, login, primaryDb, waitForServer } from '../helpers/api.ts';
import { createMember } from '../helpers/identity.ts';

const HOUR = 3_600_000;

interface TenantUsage {
  tenant_id: string;
  total_hours: number;
  total_vcpus_usage: number;
  total_memory_mb_usage: number;
  total_local_gb_usage: number;
  server_usages?: Array<Record<string, unknown>>;
}

const window = (from: Date, to: Date) => `start=${from.toISOString()}&end=${to.toISOString()}`;

describe('os-simple-tenant-usage', () => {
  let admin: string;
  let member: string;
  let projectId: string;
  let serverId: string;
  let launchedAt: Date;
  let terminatedAt: Date;

  // A server that ran and was deleted: its usage is fixed, whenever the report is asked for.
  beforeAll(async () => {
    admin = await login();
    const name = `usage-${crypto.randomUUID().slice(0, 8)}`;
    ({ projectId } = await createMember(name, 'usage-password'));
    member = await login(name, 'usage-password');
    serverId = await createServer(member, { name: 'metered', availability_zone: 'az-2' });
    await waitForServer(member, serverId, ['ACTIVE']);
    await call('DELETE', `/v3/servers/${serverId}`, { token: member });
    await waitForServer(member, serverId, ['DELETED']);
    const [row] = await primaryDb().select().from(instances).where(eq(instances.uuid, serverId));
    if (!row?.launched_at || !row.terminated_at) throw new Error('the deleted server has no run times');
    launchedAt = row.launched_at;
    terminatedAt = row.terminated_at;
  });

  it("reports a project's server hours, vCPU, RAM and disk usage, deleted servers included", async () => {
    const response = await call<{ tenant_usage: TenantUsage }>(
      'GET',
      `/v3/os-simple-tenant-usage/${projectId}?${window(new Date(launchedAt.getTime() - HOUR), new Date(terminatedAt.getTime() + HOUR))}`,
      { token: member },
    );
    expect(response.status).toBe(200);
    const usage = response.body.tenant_usage;
    const hours = (terminatedAt.getTime() - launchedAt.getTime()) / HOUR;
    expect(usage.tenant_id).toBe(projectId);
    expect(usage.server_usages).toEqual([
      expect.objectContaining({
        instance_id: serverId,
        name: 'metered',
        flavor: 'm1.tiny',
        vcpus: 1,
        memory_mb: 512,
        local_gb: 1,
        state: 'terminated',
        started_at: launchedAt.toISOString(),
        ended_at: terminatedAt.toISOString(),
        uptime: Math.floor((terminatedAt.getTime() - launchedAt.getTime()) / 1000),
      }),
    ]);
    expect(usage.server_usages?.[0]?.hours).toBeCloseTo(hours, 9);
    expect(usage.total_hours).toBeCloseTo(hours, 9);
    expect(usage.total_vcpus_usage).toBeCloseTo(hours, 9);
    expect(usage.total_memory_mb_usage).toBeCloseTo(hours * 512, 6);
    expect(usage.total_local_gb_usage).toBeCloseTo(hours, 9);
  });

  it('charges only the part of the run inside the period', async () => {
    const before = await call<{ tenant_usage: TenantUsage }>(
      'GET',
      `/v3/os-simple-tenant-usage/${projectId}?${window(new Date(launchedAt.getTime() - 2 * HOUR), new Date(launchedAt.getTime() - HOUR))}`,
      { token: member },
    );
    expect(before.body.tenant_usage).toMatchObject({ total_hours: 0, server_usages: [] });
    const middle = new Date((launchedAt.getTime() + terminatedAt.getTime()) / 2);
    const half = await call<{ tenant_usage: TenantUsage }>(
      'GET',
      `/v3/os-simple-tenant-usage/${projectId}?${window(middle, new Date(terminatedAt.getTime() + HOUR))}`,
      { token: member },
    );
    expect(half.body.tenant_usage.total_hours).toBeCloseTo(
      (terminatedAt.getTime() - middle.getTime()) / HOUR,
      9,
    );
  });

  it('lists every project for admins only; a member sees its own project only', async () => {
    const period = window(new Date(launchedAt.getTime() - HOUR), new Date(terminatedAt.getTime() + HOUR));
    const all = await call<{ tenant_usages: TenantUsage[] }>(
      'GET',
      `/v3/os-simple-tenant-usage?${period}&detailed=1`,
      { token: admin },
    );
    expect(all.status).toBe(200);
    const mine = all.body.tenant_usages.find((usage) => usage.tenant_id === projectId);
    expect(mine?.server_usages?.map((server) => server.instance_id)).toEqual([serverId]);
    const brief = await call<{ tenant_usages: TenantUsage[] }>(
      'GET',
      `/v3/os-simple-tenant-usage?${period}`,
      {
        token: admin,
      },
    );
    expect(brief.body.tenant_usages.find((usage) => usage.tenant_id === projectId)).not.toHaveProperty(
      'server_usages',
    );
    expect((await call('GET', `/v3/os-simple-tenant-usage?${period}`, { token: member })).status).toBe(403);
    const other = await call('GET', `/v3/os-simple-tenant-usage/another-project?${period}`, {
      token: member,
    });
    expect(other.status).toBe(404);
  });

  it.each([
    ['a start after the end', 'start=2026-01-02T00:00:00&end=2026-01-01T00:00:00', /start time/],
    ['no start', 'end=2026-01-01T00:00:00', /start/],
    ['a malformed timestamp', 'start=yesterday', /start.*ISO 8601/],
    ['a bad detailed flag', 'start=2026-01-01T00:00:00&detailed=yes', /detailed/],
  ])('answers 400 for %s', async (_case, query, message) => {
    const response = await call('GET', `/v3/os-simple-tenant-usage?${query}`, { token: admin });
    expect(response.status).toBe(400);
    expect(response.body).toHaveProperty('badRequest.message', expect.stringMatching(message));
  });
});
