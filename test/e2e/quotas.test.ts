import { and, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { QUOTA_RESOURCES } from '../../functions/compute/quotas.ts';
import {
  instances,
  projects,
  quotaUsages,
  roleAssignments,
  roles,
  users,
} from '../../schema/tables/index.ts';
import { call, login, primaryDb, stackInfo, waitForServer } from '../helpers/api.ts';
import { createMember } from '../helpers/identity.ts';

const IMAGE = '70a599e0-31e7-49b7-b260-868f441e862b';

async function instancesInUse(projectId: string): Promise<number> {
  const [usage] = await primaryDb()
    .select({ in_use: quotaUsages.in_use })
    .from(quotaUsages)
    .where(
      and(
        eq(quotaUsages.project_id, projectId),
        eq(quotaUsages.resource, 'instances'),
        eq(quotaUsages.deleted, 0),
      ),
    );
  return usage?.in_use ?? 0;
}

async function deleteAll(token: string, ids: string[]): Promise<void> {
  await Promise.all(ids.map((id) => call('DELETE', `/v3/servers/${id}`, { token })));
  await Promise.all(ids.map((id) => waitForServer(token, id, ['DELETED'], 60_000)));
}

describe('quotas', () => {
  let admin: string;
  let member: string;
  let projectId: string;

  beforeAll(async () => {
    admin = await login();
    ({ projectId } = await createMember('quota-race-user', 'quota-race-password'));
    member = await login('quota-race-user', 'quota-race-password');
  });

  it('shows Havana defaults, refuses member updates and lets an admin set and reset limits', async () => {
    const defaults = await call<{ quota_set: Record<string, number | string> }>(
      'GET',
      `/v3/os-quota-sets/${projectId}/defaults`,
      { token: member },
    );
    expect(defaults.status).toBe(200);
    expect(defaults.body.quota_set).toMatchObject({
      instances: 10,
      cores: 20,
      ram: 51200,
      key_pairs: 100,
      metadata_items: 128,
      id: projectId,
    });
    const byMember = await call('PUT', `/v3/os-quota-sets/${projectId}`, {
      token: member,
      body: { quota_set: { instances: 100 } },
    });
    expect(byMember.status).toBe(403);
    const otherProject = await call('GET', '/v3/os-quota-sets/some-other-project', { token: member });
    expect(otherProject.status).toBe(404);
    const unknownKey = await call('PUT', `/v3/os-quota-sets/${projectId}`, {
      token: admin,
      body: { quota_set: { bananas: 3 } },
    });
    expect(unknownKey.status).toBe(400);
    const updated = await call<{ quota_set: Record<string, number> }>(
      'PUT',
      `/v3/os-quota-sets/${projectId}`,
      {
        token: admin,
        body: { quota_set: { cores: '7' } },
      },
    );
    expect(updated.status).toBe(200);
    expect(updated.body.quota_set.cores).toBe(7);
    expect((await call('DELETE', `/v3/os-quota-sets/${projectId}`, { token: admin })).status).toBe(204);
    const shown = await call<{ quota_set: Record<string, number> }>('GET', `/v3/os-quota-sets/${projectId}`, {
      token: member,
    });
    expect(shown.body.quota_set.cores).toBe(20);
  });

  it('gives exactly 10 servers to 50 concurrent creates against a quota of 10', async () => {
    const set = await call('PUT', `/v3/os-quota-sets/${projectId}`, {
      token: admin,
      body: { quota_set: { instances: 10 } },
    });
    expect(set.status).toBe(200);

    const responses = await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        call<{ server?: { id: string }; overLimit?: { code: number; message: string } }>(
          'POST',
          '/v3/servers',
          {
            token: member,
            body: {
              server: {
                name: `race-${i}`,
                image_ref: IMAGE,
                flavor_ref: '1',
                availability_zone: i % 2 === 0 ? 'az-1' : 'az-2',
              },
            },
          },
        ),
      ),
    );
    const created = responses.filter((response) => response.status === 202);
    const refused = responses.filter((response) => response.status === 413);
    const ids = created.map((response) => response.body.server?.id ?? '');
    console.log(`quota race: ${created.length} created, ${refused.length} refused (413) of 50`);
    try {
      expect(created).toHaveLength(10);
      expect(refused).toHaveLength(40);
      for (const response of refused) {
        expect(response.body.overLimit?.code).toBe(413);
        expect(response.body.overLimit?.message).toMatch(/Quota exceeded for instances/);
        expect(response.headers.get('retry-after')).toBe('0');
      }
      const rows = await primaryDb()
        .select({ uuid: instances.uuid })
        .from(instances)
        .where(and(eq(instances.project_id, projectId), eq(instances.deleted, 0)));
      expect(rows).toHaveLength(10);
      expect(await instancesInUse(projectId)).toBe(10);

      const limits = await call<{ limits: { absolute: Record<string, number> } }>('GET', '/v3/limits', {
        token: member,
      });
      expect(limits.body.limits.absolute).toMatchObject({
        maxTotalInstances: 10,
        totalInstancesUsed: 10,
        totalCoresUsed: 10,
        totalRAMUsed: 5120,
      });
      const lowered = await call('PUT', `/v3/os-quota-sets/${projectId}`, {
        token: admin,
        body: { quota_set: { instances: 5 } },
      });
      expect(lowered.status).toBe(400);
    } finally {
      await deleteAll(member, ids);
    }
    // Deleting gives the quota back: the project can boot again.
    expect(await instancesInUse(projectId)).toBe(0);
    const again = await call<{ server: { id: string } }>('POST', '/v3/servers', {
      token: member,
      body: {
        server: { name: 'after-release', image_ref: IMAGE, flavor_ref: '1', availability_zone: 'az-1' },
      },
    });
    expect(again.status).toBe(202);
    await deleteAll(member, [again.body.server.id]);
  });

  it('creates as many servers as the quota allows between min_count and max_count', async () => {
    await call('PUT', `/v3/os-quota-sets/${projectId}`, {
      token: admin,
      body: { quota_set: { instances: 2 } },
    });
    const tooMany = await call('POST', '/v3/servers', {
      token: member,
      body: {
        server: {
          name: 'multi',
          image_ref: IMAGE,
          flavor_ref: '1',
          availability_zone: 'az-1',
          'os-multiple-create:min_count': 3,
        },
      },
    });
    expect(tooMany.status).toBe(413);
    const some = await call<{ servers_reservation: { reservation_id: string } }>('POST', '/v3/servers', {
      token: member,
      body: {
        server: {
          name: 'multi',
          image_ref: IMAGE,
          flavor_ref: '1',
          availability_zone: 'az-1',
          'os-multiple-create:min_count': 1,
          'os-multiple-create:max_count': 3,
          'os-multiple-create:return_reservation_id': true,
        },
      },
    });
    expect(some.status).toBe(202);
    const reservationId = some.body.servers_reservation.reservation_id;
    expect(reservationId).toMatch(/^r-[0-9a-zA-Z]{8}$/);
    const listed = await call<{ servers: { id: string; name: string }[] }>(
      'GET',
      `/v3/servers?reservation_id=${reservationId}`,
      { token: member },
    );
    try {
      expect(listed.body.servers.map((server) => server.name).sort()).toEqual(['multi-1', 'multi-2']);
    } finally {
      await deleteAll(
        member,
        listed.body.servers.map((server) => server.id),
      );
    }
  });

  it('refuses more metadata items than the quota with 413', async () => {
    await call('PUT', `/v3/os-quota-sets/${projectId}`, {
      token: admin,
      body: { quota_set: { metadata_items: 2, instances: 10 } },
    });
    const response = await call<{ overLimit: { message: string } }>('POST', '/v3/servers', {
      token: member,
      body: {
        server: {
          name: 'meta',
          image_ref: IMAGE,
          flavor_ref: '1',
          availability_zone: 'az-1',
          metadata: { a: '1', b: '2', c: '3' },
        },
      },
    });
    expect(response.status).toBe(413);
    expect(response.body.overLimit.message).toMatch(/metadata_items/);
    expect(await instancesInUse(projectId)).toBe(0);
  });

  it("shows the admin project's unlimited quotas as data, and holds an admin of another project to its quota", async () => {
    const db = primaryDb();
    const [adminProject] = await db
      .select({ id: projects.id })
      .from(projects)
      .where(eq(projects.name, stackInfo().admin.project));
    const unlimited = await call<{ quota_set: Record<string, number | string> }>(
      'GET',
      `/v3/os-quota-sets/${adminProject?.id}`,
      { token: admin },
    );
    expect(unlimited.status).toBe(200);
    const { id, ...limits } = unlimited.body.quota_set;
    expect(id).toBe(adminProject?.id);
    expect(Object.keys(limits).sort()).toEqual([...QUOTA_RESOURCES].sort());
    expect(Object.values(limits).every((limit) => limit === -1)).toBe(true);

    // An admin's role does not lift its project's limits: only the admin project's data does.
    const name = `quota-admin-${crypto.randomUUID().slice(0, 8)}`;
    const { projectId: otherProject } = await createMember(name, 'quota-admin-password');
    const [user] = await db.select({ id: users.id }).from(users).where(eq(users.name, name));
    const [adminRole] = await db.select({ id: roles.id }).from(roles).where(eq(roles.name, 'admin'));
    await db.insert(roleAssignments).values({
      user_id: user?.id ?? '',
      project_id: otherProject,
      role_id: adminRole?.id ?? '',
      created_at: new Date(),
    });
    const otherAdmin = await login(name, 'quota-admin-password');
    expect((await call('GET', '/v3/os-hypervisors', { token: otherAdmin })).status).toBe(200);
    await call('PUT', `/v3/os-quota-sets/${otherProject}`, {
      token: admin,
      body: { quota_set: { instances: 1 } },
    });
    const boot = (serverName: string) =>
      call<{ server?: { id: string } }>('POST', '/v3/servers', {
        token: otherAdmin,
        body: { server: { name: serverName, image_ref: IMAGE, flavor_ref: '1', availability_zone: 'az-2' } },
      });
    const first = await boot('within-quota');
    expect(first.status).toBe(202);
    const second = await boot('over-quota');
    expect(second.status).toBe(413);
    expect(second.body).toHaveProperty(
      'overLimit.message',
      expect.stringMatching(/Quota exceeded for instances/),
    );
    await deleteAll(otherAdmin, [first.body.server?.id ?? '']);
    await call('DELETE', `/v3/os-quota-sets/${otherProject}`, { token: admin });
  });

  afterAll(async () => {
    await call('DELETE', `/v3/os-quota-sets/${projectId}`, { token: admin });
  });
});
