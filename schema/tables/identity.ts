import {
  boolean,
  datetime,
  index,
  mysqlTable,
  primaryKey,
  uniqueIndex,
  varchar,
} from 'drizzle-orm/mysql-core';
import { id, timestamps } from './columns.ts';

// Keystone's entities, all in the one `default` domain: a domain column would hold the same value in
// every row, so the API answers `domain_id: "default"` instead of storing it.
export const projects = mysqlTable(
  'projects',
  {
    id: varchar('id', { length: 64 }).primaryKey(),
    name: varchar('name', { length: 64 }).notNull(),
    description: varchar('description', { length: 255 }).notNull().default(''),
    enabled: boolean('enabled').notNull().default(true),
    ...timestamps,
  },
  (t) => [uniqueIndex('uniq_projects0name').on(t.name)],
);

export const users = mysqlTable(
  'users',
  {
    id: varchar('id', { length: 64 }).primaryKey(),
    name: varchar('name', { length: 255 }).notNull(),
    /** PBKDF2-SHA256 in `pbkdf2-sha256$<iterations>$<salt b64>$<hash b64>` form. */
    password_hash: varchar('password_hash', { length: 255 }).notNull(),
    default_project_id: varchar('default_project_id', { length: 64 }),
    email: varchar('email', { length: 255 }),
    description: varchar('description', { length: 255 }),
    enabled: boolean('enabled').notNull().default(true),
    ...timestamps,
  },
  (t) => [uniqueIndex('uniq_users0name').on(t.name)],
);

export const roles = mysqlTable(
  'roles',
  {
    id: varchar('id', { length: 64 }).primaryKey(),
    name: varchar('name', { length: 64 }).notNull(),
    description: varchar('description', { length: 255 }),
    ...timestamps,
  },
  (t) => [uniqueIndex('uniq_roles0name').on(t.name)],
);

export const roleAssignments = mysqlTable(
  'role_assignments',
  {
    user_id: varchar('user_id', { length: 64 }).notNull(),
    project_id: varchar('project_id', { length: 64 }).notNull(),
    role_id: varchar('role_id', { length: 64 }).notNull(),
    ...timestamps,
  },
  (t) => [
    primaryKey({ columns: [t.user_id, t.project_id, t.role_id] }),
    // Deleting or listing a project's assignments must not scan everyone's.
    index('role_assignments_project_idx').on(t.project_id),
  ],
);

/**
 * Keystone-style revocation events: tokens are signed and stored nowhere, so "this token (audit id),
 * this user's or this project's tokens issued before T" is what every validation checks. A row is
 * useless once `expires_at` (its revocation time plus the token lifetime) has passed: every token it
 * could match has expired by then, so it may be purged.
 */
export const revocationEvents = mysqlTable(
  'revocation_events',
  {
    id: id(),
    audit_id: varchar('audit_id', { length: 22 }),
    user_id: varchar('user_id', { length: 64 }),
    project_id: varchar('project_id', { length: 64 }),
    issued_before: datetime('issued_before', { mode: 'date', fsp: 3 }).notNull(),
    revoked_at: datetime('revoked_at', { mode: 'date', fsp: 3 }).notNull(),
    expires_at: datetime('expires_at', { mode: 'date', fsp: 3 }).notNull(),
  },
  // One index per branch of the validation query (functions/identity/revocations.ts).
  (t) => [
    index('revocation_events_audit_idx').on(t.audit_id),
    index('revocation_events_user_idx').on(t.user_id, t.issued_before),
    index('revocation_events_project_idx').on(t.project_id, t.issued_before),
    index('revocation_events_expires_idx').on(t.expires_at),
  ],
);
