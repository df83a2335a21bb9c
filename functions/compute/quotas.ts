import { and, eq, sql } from 'drizzle-orm';
import type { PrimaryDb } from '../../schema/db.ts';
import { quotaClasses, quotas, quotaUsages } from '../../schema/tables/index.ts';
import { OverQuota } from '../shared/errors.ts';

// Per-project limits: Havana's defaults, overridden by the `default` quota class rows, overridden by
// the project's own rows. -1 means unlimited. Only the resources this control plane has are
// enforced; the others are kept so quota sets read like Havana's.
export const QUOTA_DEFAULTS = {
  instances: 10,
  cores: 20,
  ram: 51200,
  floating_ips: 10,
  fixed_ips: -1,
  metadata_items: 128,
  injected_files: 5,
  injected_file_content_bytes: 10240,
  injected_file_path_bytes: 255,
  security_groups: 10,
  security_group_rules: 20,
  key_pairs: 100,
} as const satisfies Record<string, number>;

export type QuotaResource = keyof typeof QUOTA_DEFAULTS;
export type QuotaLimits = Record<QuotaResource, number>;
export const QUOTA_RESOURCES = Object.keys(QUOTA_DEFAULTS) as QuotaResource[];

/** The resources counted in `quota_usages` (reserved and released as they are used). */
export type CountedResource = 'instances' | 'cores' | 'ram' | 'key_pairs';
export type QuotaDeltas = Partial<Record<CountedResource, number>>;

export const DEFAULT_QUOTA_CLASS = 'default';

type Reader = Pick<PrimaryDb, 'select'>;
type Writer = Pick<PrimaryDb, 'select' | 'insert' | 'update'>;

export function isQuotaResource(name: string): name is QuotaResource {
  return Object.hasOwn(QUOTA_DEFAULTS, name);
}

function overlay(base: QuotaLimits, rows: { resource: string; hard_limit: number }[]): QuotaLimits {
  const limits = { ...base };
  for (const row of rows) if (isQuotaResource(row.resource)) limits[row.resource] = row.hard_limit;
  return limits;
}

export async function classLimits(db: Reader, className: string): Promise<QuotaLimits> {
  const classRows = await db
    .select({ resource: quotaClasses.resource, hard_limit: quotaClasses.hard_limit })
    .from(quotaClasses)
    .where(and(eq(quotaClasses.class_name, className), eq(quotaClasses.deleted, 0)));
  if (className === DEFAULT_QUOTA_CLASS) return overlay(QUOTA_DEFAULTS, classRows);
  return overlay(await classLimits(db, DEFAULT_QUOTA_CLASS), classRows);
}

export async function projectLimits(db: Reader, projectId: string): Promise<QuotaLimits> {
  const [defaults, projectRows] = await Promise.all([
    classLimits(db, DEFAULT_QUOTA_CLASS),
    db
      .select({ resource: quotas.resource, hard_limit: quotas.hard_limit })
      .from(quotas)
      .where(and(eq(quotas.project_id, projectId), eq(quotas.deleted, 0))),
  ]);
  return overlay(defaults, projectRows);
}

export async function projectUsage(db: Reader, projectId: string): Promise<Record<CountedResource, number>> {
  const rows = await db
    .select({ resource: quotaUsages.resource, in_use: quotaUsages.in_use })
    .from(quotaUsages)
    .where(and(eq(quotaUsages.project_id, projectId), eq(quotaUsages.deleted, 0)));
  const usage: Record<CountedResource, number> = { instances: 0, cores: 0, ram: 0, key_pairs: 0 };
  for (const row of rows)
    if (Object.hasOwn(usage, row.resource)) usage[row.resource as CountedResource] = row.in_use;
  return usage;
}

/** How many instances of this size still fit in the project's quota (Infinity when unlimited). */
export function instancesThatFit(
  limits: QuotaLimits,
  usage: Record<CountedResource, number>,
  perInstance: { vcpus: number; memory_mb: number },
): number {
  const room = (resource: CountedResource, each: number) =>
    limits[resource] < 0 || each === 0
      ? Number.POSITIVE_INFINITY
      : Math.max(0, Math.floor((limits[resource] - usage[resource]) / each));
  return Math.min(room('instances', 1), room('cores', perInstance.vcpus), room('ram', perInstance.memory_mb));
}

function nonZero(deltas: QuotaDeltas): [CountedResource, number][] {
  // A fixed order: concurrent reservations lock usage rows in the same sequence, so they never deadlock.
  return (Object.entries(deltas) as [CountedResource, number][])
    .filter(([, amount]) => amount > 0)
    .sort(([a], [b]) => a.localeCompare(b));
}

/**
 * Creates the usage rows the reservation will update. Outside the reserving transaction on purpose:
 * INSERT IGNORE takes gap locks that make concurrent transactions deadlock on a fresh project.
 */
export async function ensureUsageRows(
  db: Writer,
  projectId: string,
  resources: CountedResource[],
): Promise<void> {
  if (resources.length === 0) return;
  const now = new Date();
  await db
    .insert(quotaUsages)
    .ignore()
    .values(resources.map((resource) => ({ project_id: projectId, resource, in_use: 0, created_at: now })));
}

/**
 * Reserves `deltas` for the project: one conditional UPDATE per resource (`in_use + n <= limit`), so
 * two concurrent requests can never both take the last unit. Call it inside the transaction that
 * writes what the quota pays for: a refusal throws OverQuota and rolls the whole write back.
 */
export async function reserveQuota(
  tx: Writer,
  projectId: string,
  deltas: QuotaDeltas,
  limits: QuotaLimits,
): Promise<void> {
  for (const [resource, amount] of nonZero(deltas)) {
    const limit = limits[resource];
    const result = await tx
      .update(quotaUsages)
      .set({ in_use: sql`${quotaUsages.in_use} + ${amount}`, updated_at: new Date() })
      .where(
        and(
          eq(quotaUsages.project_id, projectId),
          eq(quotaUsages.resource, resource),
          eq(quotaUsages.deleted, 0),
          limit < 0 ? undefined : sql`${quotaUsages.in_use} + ${amount} <= ${limit}`,
        ),
      );
    if (result.rowsAffected === 1) continue;
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
    throw new OverQuota(
      `Quota exceeded for ${resource}: Requested ${amount}, but already used ${usage?.in_use ?? 0} of ${limit} ${resource}`,
    );
  }
}

/** Gives back what `reserveQuota` took; never below zero (a usage row may predate its resources). */
export async function releaseQuota(db: Writer, projectId: string, deltas: QuotaDeltas): Promise<void> {
  for (const [resource, amount] of nonZero(deltas)) {
    await db
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
}

/** What one instance of a flavor costs against the quota. */
export function instanceQuotaDeltas(flavor: { vcpus: number; memory_mb: number }, count = 1): QuotaDeltas {
  return { instances: count, cores: flavor.vcpus * count, ram: flavor.memory_mb * count };
}

/** Server metadata is counted per server, not reserved: a request may set at most the limit's worth. */
export async function checkMetadataQuota(db: Reader, projectId: string, count: number): Promise<void> {
  const limit = (await projectLimits(db, projectId)).metadata_items;
  if (limit >= 0 && count > limit) {
    throw new OverQuota(`Quota exceeded for metadata_items: Requested ${count}, but the limit is ${limit}`);
  }
}

/** Reserves one key pair for the project (413 when its key_pairs quota is used up). */
export async function reserveKeyPairQuota(db: PrimaryDb, projectId: string): Promise<void> {
  await ensureUsageRows(db, projectId, ['key_pairs']);
  const limits = await projectLimits(db, projectId);
  await db.transaction((tx) => reserveQuota(tx, projectId, { key_pairs: 1 }, limits));
}

export async function releaseKeyPairQuota(db: Writer, projectId: string): Promise<void> {
  await releaseQuota(db, projectId, { key_pairs: 1 });
}

/**
 * Makes every limit of the project unlimited (-1) where the project has no limit of its own yet. The
 * cloud's admin project gets this at bootstrap: admins are held to quotas like everyone else, and
 * their project's are unlimited as data an operator sees in os-quota-sets and can change (a limit
 * set with PUT is kept; a deleted quota set is granted again at the next bootstrap).
 */
export async function grantUnlimitedQuotas(db: Writer, projectId: string): Promise<void> {
  const now = new Date();
  await db
    .insert(quotas)
    .ignore()
    .values(
      QUOTA_RESOURCES.map((resource) => ({
        project_id: projectId,
        resource,
        hard_limit: -1,
        created_at: now,
      })),
    );
}

/** Drops the project's own limits: it falls back to the quota class defaults. */
export async function deleteProjectQuotas(db: Writer, projectId: string): Promise<void> {
  await db
    .update(quotas)
    .set({ deleted: sql`${quotas.id}`, deleted_at: new Date() })
    .where(and(eq(quotas.project_id, projectId), eq(quotas.deleted, 0)));
}

/** Upserts the project's own limits (one row per resource). */
export async function setProjectQuotas(
  db: Writer,
  projectId: string,
  limits: Partial<QuotaLimits>,
): Promise<void> {
  const entries = Object.entries(limits) as [QuotaResource, number][];
  if (entries.length === 0) return;
  const now = new Date();
  await db
    .insert(quotas)
    .values(
      entries.map(([resource, hard_limit]) => ({
        project_id: projectId,
        resource,
        hard_limit,
        created_at: now,
      })),
    )
    .onDuplicateKeyUpdate({ set: { hard_limit: sql`VALUES(${quotas.hard_limit})`, updated_at: now } });
}

export async function setClassQuotas(
  db: Writer,
  className: string,
  limits: Partial<QuotaLimits>,
): Promise<void> {
  const entries = Object.entries(limits) as [QuotaResource, number][];
  if (entries.length === 0) return;
  const now = new Date();
  await db
    .insert(quotaClasses)
    .values(
      entries.map(([resource, hard_limit]) => ({
        class_name: className,
        resource,
        hard_limit,
        created_at: now,
      })),
    )
    .onDuplicateKeyUpdate({ set: { hard_limit: sql`VALUES(${quotaClasses.hard_limit})`, updated_at: now } });
}

/**
 * What a resize changes in the project's usage: `growth` is reserved when the resize is requested
 * (and given back if it is reverted or fails), `shrink` is given back once it is confirmed.
 */
export function resizeQuotaDeltas(
  from: { vcpus: number; memory_mb: number },
  to: { vcpus: number; memory_mb: number },
): { growth: QuotaDeltas; shrink: QuotaDeltas } {
  return {
    growth: { cores: Math.max(0, to.vcpus - from.vcpus), ram: Math.max(0, to.memory_mb - from.memory_mb) },
    shrink: { cores: Math.max(0, from.vcpus - to.vcpus), ram: Math.max(0, from.memory_mb - to.memory_mb) },
  };
}
