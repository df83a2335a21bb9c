import { beforeAll, describe, expect, it } from 'vitest';
import { call, login, stackInfo } from '../helpers/api.ts';

// Keystone v3 over HTTP, in the shapes keystoneauth/keystoneclient read. Other files share the cloud and
// add their own users and projects, so every assertion is about entities this file created.
const suffix = crypto.randomUUID().slice(0, 8);
const V3 = '/identity/v3';

interface TokenBody {
  token: {
    methods: string[];
    user: { id: string; name: string; domain: { id: string; name: string }; password_expires_at: null };
    audit_ids: string[];
    issued_at: string;
    expires_at: string;
    project: { id: string; name: string; domain: { id: string; name: string } };
    is_domain: boolean;
    roles: Array<{ id: string; name: string }>;
    catalog?: Array<{
      id: string;
      type: string;
      name: string;
      endpoints: Array<{ id: string; interface: string; region: string; region_id: string; url: string }>;
    }>;
  };
}

interface Entity {
  id: string;
  name: string;
  links: { self: string };
  [key: string]: unknown;
}

async function authenticate(identity: object, scope?: object) {
  return call<TokenBody>('POST', `${V3}/auth/tokens`, {
    token: null,
    body: {
      auth: {
        identity: { methods: ['password'], password: { user: identity } },
        ...(scope ? { scope } : {}),
      },
    },
  });
}

async function tokenFor(name: string, password: string): Promise<string> {
  const response = await authenticate({ name, domain: { name: 'Default' }, password });
  const token = response.headers.get('x-subject-token');
  if (response.status !== 201 || !token) throw new Error(`login ${name}: ${response.status}`);
  return token;
}

/** A project, a user with `password` on it as default project, holding `member` there. */
async function memberSetup(admin: string, name: string, password: string) {
  const project = await call<{ project: Entity }>('POST', `${V3}/projects`, {
    token: admin,
    body: {
      project: { name: `${name}-project`, domain_id: 'default', enabled: true, options: {}, tags: [] },
    },
  });
  expect(project.status).toBe(201);
  const user = await call<{ user: Entity }>('POST', `${V3}/users`, {
    token: admin,
    body: {
      user: { name, password, default_project_id: project.body.project.id, enabled: true, options: {} },
    },
  });
  expect(user.status).toBe(201);
  const roles = await call<{ roles: Entity[] }>('GET', `${V3}/roles?name=member`, { token: admin });
  const member = roles.body.roles[0];
  if (!member) throw new Error('no member role');
  const grant = await call(
    'PUT',
    `${V3}/projects/${project.body.project.id}/users/${user.body.user.id}/roles/${member.id}`,
    { token: admin },
  );
  expect(grant.status).toBe(204);
  return { projectId: project.body.project.id, userId: user.body.user.id, memberRoleId: member.id };
}

/** What a compute route says about a token right now. */
async function computeStatus(token: string): Promise<number> {
  return (await call('GET', '/v3/flavors', { token })).status;
}

describe('Keystone v3 identity', () => {
  let admin: string;
  let origin: string;
  beforeAll(async () => {
    admin = await login();
    origin = new URL(stackInfo().apiUrl).origin;
  });

  it('serves the version documents without a token: 300 at /identity, v3.14 at /identity/v3', async () => {
    const v3 = {
      id: 'v3.14',
      status: 'stable',
      updated: '2020-04-07T00:00:00Z',
      links: [{ rel: 'self', href: `${origin}/identity/v3/` }],
      'media-types': [{ base: 'application/json', type: 'application/vnd.openstack.identity-v3+json' }],
    };
    const root = await call('GET', '/identity', { token: null });
    expect(root.status).toBe(300);
    expect(root.headers.get('location')).toBe(`${origin}/identity/v3/`);
    expect(root.body).toEqual({ versions: { values: [v3] } });
    for (const path of ['/identity/v3', '/identity/v3/']) {
      const response = await call('GET', path, { token: null });
      expect(response.status).toBe(200);
      expect(response.body).toEqual({ version: v3 });
    }
  });

  it('authenticates by name with domains, answering the Keystone token body and the catalog', async () => {
    const response = await authenticate(
      { name: stackInfo().admin.username, domain: { name: 'Default' }, password: stackInfo().admin.password },
      { project: { name: stackInfo().admin.project, domain: { id: 'default' } } },
    );
    expect(response.status).toBe(201);
    expect(response.headers.get('x-subject-token')).toBeTruthy();
    const { token } = response.body;
    expect(token.methods).toEqual(['password']);
    expect(token.user).toMatchObject({
      name: stackInfo().admin.username,
      domain: { id: 'default', name: 'Default' },
      password_expires_at: null,
    });
    expect(token.audit_ids).toHaveLength(1);
    expect(token.audit_ids[0]).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(token.issued_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.000000Z$/);
    expect(token.expires_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.000000Z$/);
    expect(Date.parse(token.expires_at) - Date.parse(token.issued_at)).toBe(
      Number(stackInfo().env.TOKEN_TTL_SECONDS ?? 3600) * 1000,
    );
    expect(token.project).toMatchObject({
      name: stackInfo().admin.project,
      domain: { id: 'default', name: 'Default' },
    });
    expect(token.is_domain).toBe(false);
    expect(token.roles.map((role) => role.name).sort()).toEqual(['admin', 'member']);
    const byType = Object.fromEntries((token.catalog ?? []).map((service) => [service.type, service]));
    expect(Object.keys(byType).sort()).toEqual(['compute', 'identity', 'image', 'network']);
    expect(byType.identity).toMatchObject({ name: 'keystone' });
    expect(byType.compute).toMatchObject({ name: 'nova' });
    expect(byType.image).toMatchObject({ name: 'glance' });
    const urls = Object.fromEntries(
      Object.entries(byType).map(([type, service]) => {
        expect(service.endpoints).toHaveLength(1);
        expect(service.endpoints[0]).toMatchObject({
          interface: 'public',
          region: 'RegionOne',
          region_id: 'RegionOne',
        });
        return [type, service.endpoints[0]?.url];
      }),
    );
    expect(urls).toEqual({
      identity: `${origin}/identity`,
      compute: `${origin}/v2.1`,
      image: `${origin}/image`,
      network: `${origin}/network`,
    });
    // Stable ids: a second token lists the same ones.
    const again = await authenticate({ name: 'admin', password: stackInfo().admin.password });
    expect(again.body.token.catalog?.map((service) => [service.id, service.endpoints[0]?.id])).toEqual(
      token.catalog?.map((service) => [service.id, service.endpoints[0]?.id]),
    );
  });

  it('authenticates by user id and project id, and leaves the catalog out with ?nocatalog', async () => {
    const first = await authenticate({ name: 'admin', password: stackInfo().admin.password });
    const { user, project } = first.body.token;
    const response = await call<TokenBody>('POST', `${V3}/auth/tokens?nocatalog`, {
      token: null,
      body: {
        auth: {
          identity: {
            methods: ['password'],
            password: { user: { id: user.id, password: stackInfo().admin.password } },
          },
          scope: { project: { id: project.id } },
        },
      },
    });
    expect(response.status).toBe(201);
    expect(response.body.token.user.id).toBe(user.id);
    expect(response.body.token.project.id).toBe(project.id);
    expect(response.body.token).not.toHaveProperty('catalog');
  });

  it('refuses bad credentials and other domains with 401, Keystone body and WWW-Authenticate', async () => {
    const wrong = await authenticate({ name: 'admin', domain: { id: 'default' }, password: 'wrong' });
    const otherDomain = await authenticate({
      name: 'admin',
      domain: { name: 'Elsewhere' },
      password: stackInfo().admin.password,
    });
    for (const response of [wrong, otherDomain]) {
      expect(response.status).toBe(401);
      expect(response.body).toEqual({
        error: {
          code: 401,
          title: 'Unauthorized',
          message: 'The request you have made requires authentication.',
        },
      });
      expect(response.headers.get('www-authenticate')).toBe(`Keystone uri="${origin}/identity/v3"`);
    }
  });

  it('validates (GET and HEAD) and revokes a token; a revoked token fails at once everywhere', async () => {
    const subject = await login();
    const validated = await call<TokenBody>('GET', `${V3}/auth/tokens`, {
      token: admin,
      headers: { 'x-subject-token': subject },
    });
    expect(validated.status).toBe(200);
    expect(validated.headers.get('x-subject-token')).toBe(subject);
    expect(validated.body.token.user.name).toBe('admin');
    expect(validated.body.token.catalog?.length).toBeGreaterThan(0);
    const head = await fetch(`${stackInfo().apiUrl}${V3}/auth/tokens`, {
      method: 'HEAD',
      headers: { 'x-auth-token': admin, 'x-subject-token': subject },
    });
    expect(head.status).toBe(200);
    expect(head.headers.get('x-subject-token')).toBe(subject);
    expect(await computeStatus(subject)).toBe(200);

    const revoked = await call('DELETE', `${V3}/auth/tokens`, {
      token: admin,
      headers: { 'x-subject-token': subject },
    });
    expect(revoked.status).toBe(204);
    expect(await computeStatus(subject)).toBe(401);
    const afterwards = await call('GET', `${V3}/auth/tokens`, {
      token: admin,
      headers: { 'x-subject-token': subject },
    });
    expect(afterwards.status).toBe(404);
    expect(afterwards.body).toEqual({
      error: { code: 404, title: 'Not Found', message: 'Failed to validate token' },
    });
    // Only that token: the caller's own still works.
    expect(await computeStatus(admin)).toBe(200);
  });

  it('answers /auth/catalog, /auth/projects and /auth/domains for the token', async () => {
    const catalog = await call<{ catalog: Array<{ type: string }>; links: { self: string } }>(
      'GET',
      `${V3}/auth/catalog`,
      { token: admin },
    );
    expect(catalog.status).toBe(200);
    expect(catalog.body.catalog.map((service) => service.type).sort()).toEqual([
      'compute',
      'identity',
      'image',
      'network',
    ]);
    expect(catalog.body.links.self).toBe(`${origin}/identity/v3/auth/catalog`);
    const projects = await call<{ projects: Entity[] }>('GET', `${V3}/auth/projects`, { token: admin });
    expect(projects.body.projects.map((project) => project.name)).toContain(stackInfo().admin.project);
    const domains = await call<{ domains: Entity[] }>('GET', `${V3}/auth/domains`, { token: admin });
    expect(domains.body.domains.map((domain) => [domain.id, domain.name])).toEqual([['default', 'Default']]);
  });

  it('creates, finds, updates and deletes projects; 409 for a taken name, clean 404 for a name as id', async () => {
    const name = `kp-${suffix}`;
    const created = await call<{ project: Entity }>('POST', `${V3}/projects`, {
      token: admin,
      body: {
        project: { name, description: 'first', enabled: true, options: {}, tags: [], parent_id: null },
      },
    });
    expect(created.status).toBe(201);
    const { id } = created.body.project;
    expect(created.body.project).toEqual({
      id,
      name,
      domain_id: 'default',
      description: 'first',
      enabled: true,
      parent_id: 'default',
      is_domain: false,
      tags: [],
      options: {},
      links: { self: `${origin}/identity/v3/projects/${id}` },
    });
    const duplicate = await call('POST', `${V3}/projects`, { token: admin, body: { project: { name } } });
    expect(duplicate.status).toBe(409);
    expect(duplicate.body).toMatchObject({ error: { code: 409, title: 'Conflict' } });

    // osc-lib's lookup: GET by the name first (must be a clean 404), then ?name=.
    const byNameAsId = await call('GET', `${V3}/projects/${name}`, { token: admin });
    expect(byNameAsId.status).toBe(404);
    expect(byNameAsId.body).toEqual({
      error: { code: 404, title: 'Not Found', message: `Could not find project: ${name}.` },
    });
    const found = await call<{ projects: Entity[] }>('GET', `${V3}/projects?name=${name}&domain_id=default`, {
      token: admin,
    });
    expect(found.body.projects.map((project) => project.id)).toEqual([id]);
    const otherDomain = await call<{ projects: Entity[] }>('GET', `${V3}/projects?name=${name}&domain_id=x`, {
      token: admin,
    });
    expect(otherDomain.body.projects).toEqual([]);

    const patched = await call<{ project: Entity }>('PATCH', `${V3}/projects/${id}`, {
      token: admin,
      body: { project: { description: 'second', enabled: false } },
    });
    expect(patched.status).toBe(200);
    expect(patched.body.project).toMatchObject({ description: 'second', enabled: false });
    const disabled = await call<{ projects: Entity[] }>('GET', `${V3}/projects?name=${name}&enabled=false`, {
      token: admin,
    });
    expect(disabled.body.projects.map((project) => project.id)).toEqual([id]);

    const unknownKey = await call('POST', `${V3}/projects`, {
      token: admin,
      body: { project: { name: `${name}-x`, colour: 'blue' } },
    });
    expect(unknownKey.status).toBe(400);
    expect(unknownKey.body).toMatchObject({ error: { code: 400, title: 'Bad Request' } });

    expect((await call('DELETE', `${V3}/projects/${id}`, { token: admin })).status).toBe(204);
    expect((await call('GET', `${V3}/projects/${id}`, { token: admin })).status).toBe(404);
    expect((await call('DELETE', `${V3}/projects/${id}`, { token: admin })).status).toBe(404);
  });

  it('manages users and roles, grants a role, and lists role assignments with names', async () => {
    const name = `ku-${suffix}`;
    const { projectId, userId, memberRoleId } = await memberSetup(admin, name, 'pw-one');
    const user = await call<{ user: Entity }>('GET', `${V3}/users/${userId}`, { token: admin });
    expect(user.body.user).toEqual({
      id: userId,
      name,
      domain_id: 'default',
      enabled: true,
      default_project_id: projectId,
      password_expires_at: null,
      options: {},
      links: { self: `${origin}/identity/v3/users/${userId}` },
    });
    expect((await call('GET', `${V3}/users/${name}`, { token: admin })).status).toBe(404);
    const listed = await call<{ users: Entity[] }>('GET', `${V3}/users?name=${name}&domain_id=default`, {
      token: admin,
    });
    expect(listed.body.users.map((entry) => entry.id)).toEqual([userId]);
    const emailed = await call<{ user: Entity }>('PATCH', `${V3}/users/${userId}`, {
      token: admin,
      body: { user: { email: `${name}@example.org`, description: 'tester' } },
    });
    expect(emailed.body.user).toMatchObject({ email: `${name}@example.org`, description: 'tester' });

    const role = await call<{ role: Entity }>('POST', `${V3}/roles`, {
      token: admin,
      body: { role: { name: `kr-${suffix}`, options: {} } },
    });
    expect(role.status).toBe(201);
    const roleId = role.body.role.id;
    expect(role.body.role).toEqual({
      id: roleId,
      name: `kr-${suffix}`,
      domain_id: null,
      description: null,
      options: {},
      links: { self: `${origin}/identity/v3/roles/${roleId}` },
    });
    const renamed = await call<{ role: Entity }>('PATCH', `${V3}/roles/${roleId}`, {
      token: admin,
      body: { role: { description: 'extra' } },
    });
    expect(renamed.body.role.description).toBe('extra');
    const readerRole = await call<{ roles: Entity[] }>('GET', `${V3}/roles?name=reader`, { token: admin });
    expect(readerRole.body.roles).toHaveLength(1);

    const grantUrl = `${V3}/projects/${projectId}/users/${userId}/roles/${roleId}`;
    expect((await call('GET', grantUrl, { token: admin })).status).toBe(404);
    expect((await call('PUT', grantUrl, { token: admin })).status).toBe(204);
    expect((await call('PUT', grantUrl, { token: admin })).status).toBe(204);
    expect((await call('HEAD', grantUrl, { token: admin })).status).toBe(204);
    const held = await call<{ roles: Entity[] }>('GET', `${V3}/projects/${projectId}/users/${userId}/roles`, {
      token: admin,
    });
    expect(held.body.roles.map((entry) => entry.name).sort()).toEqual([`kr-${suffix}`, 'member'].sort());
    const unknownRole = await call('PUT', `${V3}/projects/${projectId}/users/${userId}/roles/nope`, {
      token: admin,
    });
    expect(unknownRole.status).toBe(404);
    expect(unknownRole.body).toMatchObject({ error: { message: 'Could not find role: nope.' } });
    const unknownUser = await call('PUT', `${V3}/projects/${projectId}/users/nope/roles/${roleId}`, {
      token: admin,
    });
    expect(unknownUser.status).toBe(404);

    const assignments = await call<{ role_assignments: unknown[] }>(
      'GET',
      `${V3}/role_assignments?user.id=${userId}&scope.project.id=${projectId}&include_names=True&effective=True`,
      { token: admin },
    );
    expect(assignments.status).toBe(200);
    const expected = (id: string, roleName: string) => ({
      role: { id, name: roleName },
      user: { id: userId, name, domain: { id: 'default', name: 'Default' } },
      scope: {
        project: { id: projectId, name: `${name}-project`, domain: { id: 'default', name: 'Default' } },
      },
      links: { assignment: `${origin}/identity/v3/projects/${projectId}/users/${userId}/roles/${id}` },
    });
    expect(assignments.body.role_assignments).toEqual(
      expect.arrayContaining([expected(roleId, `kr-${suffix}`), expected(memberRoleId, 'member')]),
    );
    expect(assignments.body.role_assignments).toHaveLength(2);
    const idsOnly = await call<{ role_assignments: unknown[] }>(
      'GET',
      `${V3}/role_assignments?role.id=${roleId}`,
      { token: admin },
    );
    expect(idsOnly.body.role_assignments).toEqual([
      {
        role: { id: roleId },
        user: { id: userId },
        scope: { project: { id: projectId } },
        links: { assignment: `${origin}/identity/v3/projects/${projectId}/users/${userId}/roles/${roleId}` },
      },
    ]);

    // The user's own view: itself and its projects, nobody else's.
    const token = await tokenFor(name, 'pw-one');
    expect((await call('GET', `${V3}/users/${userId}`, { token })).status).toBe(200);
    const own = await call<{ projects: Entity[] }>('GET', `${V3}/users/${userId}/projects`, { token });
    expect(own.body.projects.map((project) => project.id)).toEqual([projectId]);
    const adminId = (await call<{ users: Entity[] }>('GET', `${V3}/users?name=admin`, { token: admin })).body
      .users[0]?.id;
    const forbidden = await call('GET', `${V3}/users/${adminId}`, { token });
    expect(forbidden.status).toBe(403);
    expect(forbidden.body).toMatchObject({ error: { code: 403, title: 'Forbidden' } });
    expect((await call('GET', `${V3}/projects`, { token })).status).toBe(403);
    const othersToken = await call('GET', `${V3}/auth/tokens`, {
      token,
      headers: { 'x-subject-token': admin },
    });
    expect(othersToken.status).toBe(403);
    expect((await call('POST', `${V3}/roles`, { token, body: { role: { name: 'x' } } })).status).toBe(403);

    expect((await call('DELETE', grantUrl, { token: admin })).status).toBe(204);
    expect((await call('DELETE', grantUrl, { token: admin })).status).toBe(404);
    expect((await call('DELETE', `${V3}/roles/${roleId}`, { token: admin })).status).toBe(204);
    expect((await call('DELETE', `${V3}/users/${userId}`, { token: admin })).status).toBe(204);
    expect((await call('GET', `${V3}/users/${userId}`, { token: admin })).status).toBe(404);
  });

  it('stops a token at once when the password changes, and the new password works', async () => {
    const name = `kpw-${suffix}`;
    await memberSetup(admin, name, 'old-password');
    const token = await tokenFor(name, 'old-password');
    expect(await computeStatus(token)).toBe(200);
    const userId = (
      await call<TokenBody>('GET', `${V3}/auth/tokens`, { token, headers: { 'x-subject-token': token } })
    ).body.token.user.id;
    const changed = await call('PATCH', `${V3}/users/${userId}`, {
      token: admin,
      body: { user: { password: 'new-password' } },
    });
    expect(changed.status).toBe(200);
    expect(await computeStatus(token)).toBe(401);
    expect((await authenticate({ name, password: 'old-password' })).status).toBe(401);
    expect(await computeStatus(await tokenFor(name, 'new-password'))).toBe(200);
  });

  it('stops a token at once when the user is disabled, and refuses a new one', async () => {
    const name = `kdis-${suffix}`;
    const { userId } = await memberSetup(admin, name, 'password');
    const token = await tokenFor(name, 'password');
    expect(await computeStatus(token)).toBe(200);
    const disabled = await call('PATCH', `${V3}/users/${userId}`, {
      token: admin,
      body: { user: { enabled: false } },
    });
    expect(disabled.status).toBe(200);
    expect(await computeStatus(token)).toBe(401);
    expect((await authenticate({ name, password: 'password' })).status).toBe(401);
  });

  it('stops a token at once when its role is removed or its project disabled', async () => {
    const name = `krm-${suffix}`;
    const { projectId, userId, memberRoleId } = await memberSetup(admin, name, 'password');
    const first = await tokenFor(name, 'password');
    expect(await computeStatus(first)).toBe(200);
    const grantUrl = `${V3}/projects/${projectId}/users/${userId}/roles/${memberRoleId}`;
    expect((await call('DELETE', grantUrl, { token: admin })).status).toBe(204);
    expect(await computeStatus(first)).toBe(401);

    expect((await call('PUT', grantUrl, { token: admin })).status).toBe(204);
    const second = await tokenFor(name, 'password');
    expect(await computeStatus(second)).toBe(200);
    await call('PATCH', `${V3}/projects/${projectId}`, {
      token: admin,
      body: { project: { enabled: false } },
    });
    expect(await computeStatus(second)).toBe(401);
  });

  it('serves the Default domain only', async () => {
    const domain = await call<{ domain: Entity }>('GET', `${V3}/domains/default`, { token: admin });
    expect(domain.body.domain).toMatchObject({ id: 'default', name: 'Default', enabled: true });
    const byName = await call<{ domains: Entity[] }>('GET', `${V3}/domains?name=Default`, { token: admin });
    expect(byName.body.domains.map((entry) => entry.id)).toEqual(['default']);
    expect((await call('GET', `${V3}/domains/Default`, { token: admin })).status).toBe(404);
    const create = await call('POST', `${V3}/domains`, { token: admin, body: { domain: { name: 'Other' } } });
    expect(create.status).toBe(403);
    expect(create.body).toMatchObject({ error: { code: 403, title: 'Forbidden' } });
  });

  it('answers errors under /identity in Keystone form and keeps Nova form elsewhere', async () => {
    const noToken = await call('GET', `${V3}/projects`, { token: null });
    expect(noToken.status).toBe(401);
    expect(noToken.body).toMatchObject({ error: { code: 401, title: 'Unauthorized' } });
    expect(noToken.headers.get('www-authenticate')).toBe(`Keystone uri="${origin}/identity/v3"`);
    const unknownPath = await call('GET', `${V3}/no-such-thing`, { token: admin });
    expect(unknownPath.status).toBe(404);
    expect(unknownPath.body).toMatchObject({ error: { code: 404, title: 'Not Found' } });
    const malformed = await call('POST', `${V3}/auth/tokens`, { token: null, body: '{not json' });
    expect(malformed.status).toBe(400);
    expect(malformed.body).toMatchObject({ error: { code: 400, title: 'Bad Request' } });
    const nova = await call('GET', '/v3/flavors', { token: null });
    expect(nova.status).toBe(401);
    expect(nova.body).toHaveProperty('unauthorized.code', 401);
    expect(nova.headers.get('www-authenticate')).toBeNull();
  });
});
