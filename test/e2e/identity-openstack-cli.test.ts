import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, login, stackInfo } from '../helpers/api.ts';
import { adminCloud, type OpenstackCloud, openstack, openstackJson } from '../helpers/openstack-cli.ts';

// Debian 12's unmodified `openstack` CLI (python3-openstackclient 6.0, keystoneauth1 5.0,
// keystoneclient 5.0.1) against the identity service, with the clouds.yaml a user would write.
const suffix = crypto.randomUUID().slice(0, 8);

describe('the openstack CLI against /identity', () => {
  let dir: string;
  let cloud: OpenstackCloud;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'identity-cli-'));
    cloud = await adminCloud(dir);
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('issues a token for the configured project and lists the catalog', { timeout: 120_000 }, async () => {
    const token = await openstackJson<{ id: string; project_id: string; user_id: string; expires: string }>(
      cloud,
      ['token', 'issue'],
    );
    const validated = await call<{ token: { project: { name: string }; user: { name: string } } }>(
      'GET',
      '/identity/v3/auth/tokens',
      { token: await login(), headers: { 'x-subject-token': token.id } },
    );
    expect(validated.status).toBe(200);
    expect(validated.body.token.project.name).toBe(stackInfo().admin.project);
    expect(validated.body.token.user.name).toBe(stackInfo().admin.username);
    expect(Date.parse(token.expires)).toBeGreaterThan(Date.now());

    const catalog = await openstackJson<Array<{ Name: string; Type: string; Endpoints: unknown }>>(cloud, [
      'catalog',
      'list',
    ]);
    const origin = new URL(stackInfo().apiUrl).origin;
    const byType = Object.fromEntries(catalog.map((entry) => [entry.Type, entry]));
    expect(byType.identity?.Name).toBe('keystone');
    expect(byType.compute?.Name).toBe('nova');
    expect(byType.image?.Name).toBe('glance');
    expect(JSON.stringify(byType.compute?.Endpoints)).toContain(`${origin}/v2.1`);
    expect(JSON.stringify(byType.identity?.Endpoints)).toContain('RegionOne');
  });

  it('creates a project and a user, grants member, and lists the assignment by name', {
    timeout: 120_000,
  }, async () => {
    const projectName = `cli-project-${suffix}`;
    const userName = `cli-user-${suffix}`;
    const project = await openstackJson<{ id: string; name: string; domain_id: string; enabled: boolean }>(
      cloud,
      ['project', 'create', '--description', 'made by the CLI', projectName],
    );
    expect(project).toMatchObject({ name: projectName, domain_id: 'default', enabled: true });

    const user = await openstackJson<{ id: string; name: string; default_project_id: string }>(cloud, [
      'user',
      'create',
      '--password',
      'cli-password',
      '--project',
      projectName,
      userName,
    ]);
    expect(user).toMatchObject({ name: userName, default_project_id: project.id });

    await openstack(cloud, ['role', 'add', '--project', projectName, '--user', userName, 'member']);
    const assignments = await openstackJson<Array<Record<string, unknown>>>(cloud, [
      'role',
      'assignment',
      'list',
      '--user',
      userName,
      '--project',
      projectName,
      '--names',
    ]);
    expect(assignments).toEqual([
      {
        Role: 'member',
        User: `${userName}@Default`,
        Group: '',
        Project: `${projectName}@Default`,
        Domain: '',
        System: '',
        Inherited: false,
      },
    ]);

    // The new user logs in with what the CLI set: its password and default project.
    const memberToken = await login(userName, 'cli-password');
    expect((await call('GET', '/v3/flavors', { token: memberToken })).status).toBe(200);
  });
  it('lists the services, endpoints and region the catalog holds', { timeout: 120_000 }, async () => {
    const origin = new URL(stackInfo().apiUrl).origin;
    const services = await openstackJson<Array<{ ID: string; Name: string; Type: string }>>(cloud, [
      'service',
      'list',
    ]);
    expect(services.map(({ Name, Type }) => `${Type}:${Name}`).sort()).toEqual([
      'compute:nova',
      'identity:keystone',
      'image:glance',
      'network:neutron',
    ]);
    const endpoints = await openstackJson<Array<Record<string, string | boolean>>>(cloud, [
      'endpoint',
      'list',
    ]);
    expect(endpoints.find((endpoint) => endpoint['Service Type'] === 'compute')).toMatchObject({
      Region: 'RegionOne',
      'Service Name': 'nova',
      Interface: 'public',
      URL: `${origin}/v2.1`,
      Enabled: true,
    });
    const regions = await openstackJson<Array<{ Region: string }>>(cloud, ['region', 'list']);
    expect(regions.map((region) => region.Region)).toEqual(['RegionOne']);
    await expect(openstack(cloud, ['service', 'delete', 'compute'])).rejects.toThrow(/cannot be changed/);
  });
});
