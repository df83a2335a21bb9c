import { boolean, mysqlTable, primaryKey, uniqueIndex, varchar } from 'drizzle-orm/mysql-core';
import { timestamps } from './columns.ts';

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
  (t) => [primaryKey({ columns: [t.user_id, t.project_id, t.role_id] })],
);
