import { and, eq, type SQL, sql } from 'drizzle-orm';
import * as v from 'valibot';
import type { projects, users } from '../../../schema/tables/index.ts';
import { DEFAULT_DOMAIN } from '../../identity/domains.ts';

// The pieces the Keystone routes share: input schemas (lengths follow the columns in
// schema/tables/identity.ts) and the list filters they take.

export const EntityId = v.pipe(v.string(), v.minLength(1), v.maxLength(64));

export function entityName(maxLength: number) {
  return v.pipe(v.string(), v.regex(/\S/, 'must not be empty or blank'), v.maxLength(maxLength));
}

export const Description = v.nullable(v.pipe(v.string(), v.maxLength(255)));

export const DefaultDomainId = v.literal(DEFAULT_DOMAIN.id, 'only the "default" domain exists');

/** Keystone's resource options (immutable, MFA rules...) are not supported; clients send `{}`. */
export const NoOptions = v.strictObject({});

/** PATCH bodies change something: an empty one is a mistake. */
export function someAttribute<T extends object>() {
  return v.check<T, string>(
    (value) => Object.keys(value).length > 0,
    'give at least one attribute to change',
  );
}

/** A boolean filter such as `?enabled=false`. */
export const QueryBoolean = v.pipe(
  v.string(),
  v.toLowerCase(),
  v.picklist(['true', 'false', '1', '0', 'yes', 'no'], 'must be true or false'),
  v.transform((value) => ['true', '1', 'yes'].includes(value)),
);

/** A flag such as `?include_names` or `?effective=True`: set when present, unless `0` or `false`. */
export const QueryFlag = v.pipe(
  v.string(),
  v.transform((value) => !['0', 'false'].includes(value.toLowerCase())),
);

/** Everything is in the default domain: a `?domain_id=` naming another one matches nothing. */
export function matchesNoDomain(domainId: string | undefined): SQL | undefined {
  return domainId !== undefined && domainId !== DEFAULT_DOMAIN.id ? sql`false` : undefined;
}

/** The filters osc-lib's name lookup and the list commands send. */
export const ListFilters = v.strictObject({
  name: v.optional(v.string()),
  domain_id: v.optional(v.string()),
  enabled: v.optional(QueryBoolean),
});

/** ListFilters as a condition on the projects or users table. */
export function listFilterCondition(
  filters: v.InferOutput<typeof ListFilters>,
  table: typeof projects | typeof users,
): SQL | undefined {
  return and(
    matchesNoDomain(filters.domain_id),
    filters.name !== undefined ? eq(table.name, filters.name) : undefined,
    filters.enabled !== undefined ? eq(table.enabled, filters.enabled) : undefined,
  );
}
