import { and, eq, sql } from 'drizzle-orm';
import type { PrimaryDb } from '../../schema/db.ts';
import { neutronQuotas, quotaUsages } from '../../schema/tables/index.ts';
import { overQuota } from './errors.ts';

// The networking service's quotas. Limits are the project's overrides (neutron_quotas) over these
// defaults (today's Neutron defaults; Havana's were 10 networks, 10 subnets, 50 ports); -1 is unlimited.
// What a project uses is counted in the same quota_usages rows as compute's (the resource names do not
// overlap), reserved by one conditional UPDATE inside the transaction that writes the resource, so
// concurrent creates can never together pass a limit.
export const NETWORK_QUOTA_DEFAULTS = {
  network: 100,
  subnet: 100,
  port: 500,
  router: 10,
  floatingip: 50,
  security_group: 10,
  security_group_rule: 100,
} as const;
export type NetworkQuotaResource = keyof typeof NETWORK_QUOTA_DEFAULTS;
export const NETWORK_QUOTA_RESOURCES = Object.keys(NETWORK_QUOTA_DEFAULTS) as NetworkQuotaResource[];
export type NetworkQuotaLimits = Record<NetworkQuotaResource, number>;

type Reader = Pick<PrimaryDb, 'select'>;
type Writer = Pick<PrimaryDb, 'select' | 'insert' | 'update'>;

export async function networkQuotaLimits(db: Reader, projectId: string): Promise<NetworkQuotaLimits> {
  const overrides = await db
    .select({ resource: neutronQuotas.resource, hard_limit: neutronQuotas.hard_limit })
    .from(neutronQuotas)
    .where(eq(neutronQuotas.project_id, projectId));
  const limits: NetworkQuotaLimits = { ...NETWORK_QUOTA_DEFAULTS };
  for (const row of overrides) {
    if (row.resource in limits) limits[row.resource as NetworkQuotaResource] = row.hard_limit;
  }
  return limits;
}

/** What the project uses of each resource. */
export async function networkQuotaUsage(db: Reader, projectId: string): Promise<NetworkQuotaLimits> {
  const rows = await db
    .select({ resource: quotaUsages.resource, in_use: quotaUsages.in_use })
    .from(quotaUsages)
    .where(and(eq(quotaUsages.project_id, projectId), eq(quotaUsages.deleted, 0)));
  const usage = Object.fromEntries(
    NETWORK_QUOTA_RESOURCES.map((resource) => [resource, 0]),
  ) as NetworkQuotaLimits;
  for (const row of rows) if (row.resource in usage) usage[row.resource as NetworkQuotaResource] = row.in_use;
  return usage;
}

/**
 * Creates the project's usage row for `resource` if it has none. Run it before the transaction that
 * reserves: INSERT IGNORE inside concurrent transactions takes gap locks that deadlock on a new project.
 */
export async function ensureNetworkUsageRow(db: Writer, projectId: string, resource: NetworkQuotaResource) {
  await db
    .insert(quotaUsages)
    .ignore()
    .values({ project_id: projectId, resource, in_use: 0, created_at: new Date() });
}

/**
 * Takes `amount` of `resource` for the project inside the caller's transaction; 409 OverQuota when
 * that would pass the limit. `enforce: false` counts without checking (the migration carries resources
 * that already exist). Call it last in the transaction: it locks the project's usage row until commit.
 */
export async function reserveNetworkQuota(
  tx: Writer,
  projectId: string,
  resource: NetworkQuotaResource,
  limit: number,
  options: { amount?: number; enforce?: boolean } = {},
): Promise<void> {
  const amount = options.amount ?? 1;
  const checked = (options.enforce ?? true) && limit >= 0;
  const result = await tx
    .update(quotaUsages)
    .set({ in_use: sql`${quotaUsages.in_use} + ${amount}`, updated_at: new Date() })
    .where(
      and(
        eq(quotaUsages.project_id, projectId),
        eq(quotaUsages.resource, resource),
        eq(quotaUsages.deleted, 0),
        checked ? sql`${quotaUsages.in_use} + ${amount} <= ${limit}` : undefined,
      ),
    );
  if (result.rowsAffected === 1) return;
  const [usage] = await tx
    .select({ in_use: quotaUsages.in_use })
    .from(quotaUsages)
    .where(
      and(
        eq(quotaUsages.project_id, projectId),
        eq(quotaUsages.resource, resource),
        eq(quotaUsages.deleted, 0),
      ),
    );
  if (!usage) throw new MissingUsageRow(resource);
  throw overQuota(resource);
}

/**
 * The project has no usage row for the resource yet: the caller creates it (ensureNetworkUsageRow,
 * outside its transaction) and tries again. Callers on a hot path reserve first and pay for the row
 * only the first time, instead of writing it before every reservation.
 */
export class MissingUsageRow extends Error {
  override readonly name = 'MissingUsageRow';
}

/** Gives back what reserveNetworkQuota took, in the transaction that removes the resource. */
export async function releaseNetworkQuota(
  tx: Writer,
  projectId: string,
  resource: NetworkQuotaResource,
  amount = 1,
): Promise<void> {
  await tx
    .update(quotaUsages)
    .set({ in_use: sql`GREATEST(${quotaUsages.in_use} - ${amount}, 0)`, updated_at: new Date() })
    .where(
      and(
        eq(quotaUsages.project_id, projectId),
        eq(quotaUsages.resource, resource),
        eq(quotaUsages.deleted, 0),
      ),
    );
}

/** Sets the project's own limits for the resources given (the others keep theirs), one upsert. */
export async function setNetworkQuotaLimits(
  db: Pick<PrimaryDb, 'insert'>,
  projectId: string,
  limits: Partial<NetworkQuotaLimits>,
): Promise<void> {
  const now = new Date();
  const rows = Object.entries(limits).map(([resource, hard_limit]) => ({
    project_id: projectId,
    resource,
    hard_limit,
    created_at: now,
    updated_at: now,
  }));
  if (rows.length === 0) return;
  await db
    .insert(neutronQuotas)
    .values(rows)
    .onDuplicateKeyUpdate({ set: { hard_limit: sql`VALUES(${neutronQuotas.hard_limit})`, updated_at: now } });
}

/** Drops the project's own limits: it is back on the defaults. */
export async function deleteNetworkQuotaLimits(
  db: Pick<PrimaryDb, 'delete'>,
  projectId: string,
): Promise<void> {
  await db.delete(neutronQuotas).where(eq(neutronQuotas.project_id, projectId));
}

/** Every project that has limits of its own, with its full set of limits. */
export async function projectsWithOwnNetworkQuotas(
  db: Reader,
): Promise<Array<{ projectId: string; limits: NetworkQuotaLimits }>> {
  const rows = await db
    .select({
      project_id: neutronQuotas.project_id,
      resource: neutronQuotas.resource,
      hard_limit: neutronQuotas.hard_limit,
    })
    .from(neutronQuotas)
    .orderBy(neutronQuotas.project_id, neutronQuotas.resource);
  const projects = new Map<string, NetworkQuotaLimits>();
  for (const row of rows) {
    const limits = projects.get(row.project_id) ?? { ...NETWORK_QUOTA_DEFAULTS };
    if (row.resource in limits) limits[row.resource as NetworkQuotaResource] = row.hard_limit;
    projects.set(row.project_id, limits);
  }
  return [...projects].map(([projectId, limits]) => ({ projectId, limits }));
}
