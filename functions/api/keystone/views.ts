import type { Context } from 'hono';
import type { projects, roles, users } from '../../../schema/tables/index.ts';
import { DEFAULT_DOMAIN } from '../../identity/domains.ts';

// Keystone's entity shapes (keystone/api/*): every entity carries `links.self`, every collection
// `links.self/previous/next`; everything lives in the default domain.

export function identityBase(c: Context): string {
  return `${new URL(c.req.url).origin}/identity/v3`;
}

export function entityLinks(c: Context, collection: string, id: string) {
  return { self: `${identityBase(c)}/${collection}/${id}` };
}

/** Collections are never paginated, so `previous` and `next` are always null. */
export function collectionLinks(c: Context) {
  return { self: c.req.url, previous: null, next: null };
}

/** Keystone's token timestamps: whole seconds, microseconds forced to zero, a `Z` suffix. */
export function keystoneTime(epochMs: number): string {
  return new Date(epochMs).toISOString().replace(/\.\d{3}Z$/, '.000000Z');
}

export function projectView(c: Context, project: typeof projects.$inferSelect) {
  return {
    id: project.id,
    name: project.name,
    domain_id: DEFAULT_DOMAIN.id,
    description: project.description,
    enabled: project.enabled,
    // A top-level project's parent is its domain, as Keystone answers.
    parent_id: DEFAULT_DOMAIN.id,
    is_domain: false,
    tags: [],
    options: {},
    links: entityLinks(c, 'projects', project.id),
  };
}

export function userView(c: Context, user: typeof users.$inferSelect) {
  return {
    id: user.id,
    name: user.name,
    domain_id: DEFAULT_DOMAIN.id,
    enabled: user.enabled,
    // Keystone lists these only when they are set.
    ...(user.default_project_id ? { default_project_id: user.default_project_id } : {}),
    ...(user.email !== null ? { email: user.email } : {}),
    ...(user.description !== null ? { description: user.description } : {}),
    password_expires_at: null,
    options: {},
    links: entityLinks(c, 'users', user.id),
  };
}

export function roleView(c: Context, role: typeof roles.$inferSelect) {
  return {
    id: role.id,
    name: role.name,
    // Global roles: Keystone's domain-specific roles are not supported.
    domain_id: null,
    description: role.description,
    options: {},
    links: entityLinks(c, 'roles', role.id),
  };
}

export function domainView(c: Context) {
  return {
    ...DEFAULT_DOMAIN,
    description: 'The default domain',
    enabled: true,
    tags: [],
    options: {},
    links: entityLinks(c, 'domains', DEFAULT_DOMAIN.id),
  };
}
