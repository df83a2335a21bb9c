import { and, eq } from 'drizzle-orm';
import type { Context } from 'hono';
import * as v from 'valibot';
import type { PrimaryDb } from '../../../schema/db.ts';
import {
  type FlavorSnapshot,
  instances,
  instanceTags,
  keyPairs,
  MAX_TAG_LENGTH,
  MAX_TAGS_PER_SERVER,
} from '../../../schema/tables/index.ts';
import {
  ensureUsageRows,
  instanceQuotaDeltas,
  instancesThatFit,
  projectLimits,
  projectUsage,
  reserveQuota,
} from '../../compute/quotas.ts';
import { BadRequest } from '../../shared/errors.ts';
import type { AppEnv, Caller } from '../context.ts';
import { findImage, type ImageRow } from '../glance/images.ts';
import { requestedVersion } from '../middleware/extension-versions.ts';

// The server-create attributes of the keypairs, os-user-data and os-multiple-create extensions
// (nova-havana.md §1.4, §1.6), spread into the servers extension's CreateServer schema, and the server
// attributes that create, update and rebuild share (Nova's parameter_types, with the columns' lengths).

/**
 * Whether the request reads the servers extension at version 3 or later, the one that takes Nova's
 * later server attributes (servers.ts): a client pinned to an older version has them ignored.
 */
export function takesLaterAttributes(c: Context<AppEnv>): boolean {
  return requestedVersion(c, { alias: 'servers', version: 3 }) >= 3;
}

/** Havana caps user data at 65535 bytes of its base64 text (the column is a TEXT). */
const MAX_USER_DATA_BYTES = 65535;

const Base64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

export const UserData = v.pipe(
  v.string(),
  v.maxLength(MAX_USER_DATA_BYTES, `must be at most ${MAX_USER_DATA_BYTES} bytes of base64`),
  v.regex(Base64, 'must be base64 encoded'),
);

// Nova's printable characters: no control, format, unassigned or private-use character and no line or
// paragraph separator (spaces are fine), and only from the Basic Multilingual Plane, which is all
// Nova's pattern covers.
const PRINTABLE = /^[^\p{C}\p{Zl}\p{Zp}\u{10000}-\u{10FFFF}]*$/u;

/** A server's description (2.19): up to 255 printable characters; null for none. */
export const Description = v.nullable(
  v.pipe(v.string(), v.maxLength(255), v.regex(PRINTABLE, 'must consist of printable characters')),
);

/** A tag (2.26): 1 to 60 characters (the column's), neither `,` (list filters split on it) nor `/`. */
export const Tag = v.pipe(
  v.string(),
  v.minLength(1, 'a tag must not be empty'),
  v.check((tag) => [...tag].length <= MAX_TAG_LENGTH, `a tag is at most ${MAX_TAG_LENGTH} characters`),
  v.regex(/^[^,/]*$/, "a tag must not contain ',' or '/'"),
);

export const Tags = v.pipe(
  v.array(Tag),
  v.maxLength(MAX_TAGS_PER_SERVER, `a server has at most ${MAX_TAGS_PER_SERVER} tags`),
);

/** Certificate ids (2.63): 1 to 50 distinct non-empty strings; null for none. */
export const TrustedCertificates = v.nullable(
  v.pipe(
    v.array(v.pipe(v.string(), v.minLength(1, 'a certificate id must not be empty'), v.maxLength(255))),
    v.minLength(1, 'must name at least one certificate (null for none)'),
    v.maxLength(50, 'must name at most 50 certificates'),
    v.check((ids) => new Set(ids).size === ids.length, 'must not name a certificate twice'),
  ),
);

/** A guest hostname as Nova takes it from 2.94: a FQDN of letters, digits, `-`, `.` and `_`. */
export const Fqdn = v.pipe(
  v.string(),
  v.minLength(1, 'must not be empty'),
  v.maxLength(255),
  v.regex(/^[a-zA-Z0-9._-]*$/, 'must consist of letters, digits, hyphens, dots and underscores'),
);

/**
 * The hostname a server gets when its create request names none (Nova's sanitize_hostname): its name
 * without what a hostname cannot hold, with the server's `position` among those its request made, or
 * `Server-<uuid>` when nothing is left.
 */
export function defaultHostname(name: string, uuid: string, position = ''): string {
  const hostname = [...name]
    .filter((char) => (char.codePointAt(0) ?? 0) <= 0xff)
    .join('')
    .slice(0, 63)
    .replace(/[ _.]/g, '-')
    .replace(/[^\p{L}\p{N}_.-]+/gu, '')
    .toLowerCase()
    .replace(/^[.-]+|[.-]+$/g, '');
  return hostname ? `${hostname}${position}` : `Server-${uuid}`;
}

const Count = v.pipe(
  v.union([v.number(), v.pipe(v.string(), v.regex(/^\d+$/, 'must be an integer'))]),
  v.transform(Number),
  v.integer('must be an integer'),
  v.minValue(1, 'must be at least 1'),
  v.maxValue(1000, 'must be at most 1000'),
);

const Flag = v.pipe(
  v.union([v.boolean(), v.picklist(['True', 'False', 'true', 'false', '1', '0'])]),
  v.transform((flag) => flag === true || flag === 'True' || flag === 'true' || flag === '1'),
);

export const CREATE_OPTION_FIELDS = {
  key_name: v.optional(v.pipe(v.string(), v.minLength(1), v.maxLength(255))),
  'os-user-data:user_data': v.optional(UserData),
  'os-multiple-create:min_count': v.optional(Count),
  'os-multiple-create:max_count': v.optional(Count),
  'os-multiple-create:return_reservation_id': v.optional(Flag, false),
};

const CreateOptions = v.object(CREATE_OPTION_FIELDS);
export type CreateOptions = v.InferOutput<typeof CreateOptions>;

/** min_count defaults to 1 and max_count to min_count (Havana's multiple_create). */
export function requestedCounts(options: CreateOptions): { min: number; max: number } {
  const min = options['os-multiple-create:min_count'] ?? 1;
  const max = options['os-multiple-create:max_count'] ?? min;
  if (min > max) {
    throw new BadRequest(
      'Invalid input for field os-multiple-create:min_count: min_count must be <= max_count',
    );
  }
  return { min, max };
}

/** The image must exist for the caller, be active, and fit the flavor (400 otherwise). */
export async function checkImage(
  db: Pick<PrimaryDb, 'select'>,
  caller: Caller,
  imageId: string,
  flavor: { memory_mb: number; root_gb: number },
): Promise<ImageRow> {
  const image = await findImage(db, caller, imageId);
  if (!image) throw new BadRequest(`Can not find requested image ${imageId}`);
  if (image.status !== 'active') throw new BadRequest(`Image ${imageId} is not active.`);
  if (image.min_ram > flavor.memory_mb) {
    throw new BadRequest(
      `Flavor's memory is too small for requested image: the image needs ${image.min_ram} MB`,
    );
  }
  if (image.min_disk > flavor.root_gb) {
    throw new BadRequest(
      `Flavor's disk is too small for requested image: the image needs ${image.min_disk} GB`,
    );
  }
  return image;
}

/** key_name names one of the caller's own key pairs (400 otherwise). */
export async function checkKeyName(
  db: Pick<PrimaryDb, 'select'>,
  caller: Caller,
  keyName: string,
): Promise<void> {
  const [keyPair] = await db
    .select({ id: keyPairs.id })
    .from(keyPairs)
    .where(and(eq(keyPairs.user_id, caller.userId), eq(keyPairs.name, keyName), eq(keyPairs.deleted, 0)));
  if (!keyPair) throw new BadRequest(`Invalid key_name provided: key pair ${keyName} could not be found`);
}

/** The live tag rows of a new server, written in the transaction that creates it. */
export function tagRows(uuid: string, tags: readonly string[], now: Date) {
  return [...new Set(tags)].map((tag) => ({ instance_uuid: uuid, tag, created_at: now }));
}

type InstanceRow = typeof instances.$inferInsert;

/**
 * Inserts as many instances as the quota allows between `counts.min` and `counts.max`, reserving
 * their quota in the same transaction: either the rows and their reservation both exist, or
 * neither does (OverQuota, 413). Admins are held to their project's quota too (the admin project's
 * is unlimited as data: functions/compute/quotas.ts grantUnlimitedQuotas).
 */
export async function insertWithinQuota(
  db: PrimaryDb,
  caller: Caller,
  flavor: FlavorSnapshot,
  counts: { min: number; max: number },
  makeRow: (index: number, count: number) => InstanceRow,
  /** The tags every new server gets, inserted with it. */
  tags: readonly string[] = [],
): Promise<InstanceRow[]> {
  await ensureUsageRows(db, caller.projectId, ['cores', 'instances', 'ram']);
  const limits = await projectLimits(db, caller.projectId);
  let count = counts.max;
  if (counts.max > counts.min) {
    const fit = instancesThatFit(limits, await projectUsage(db, caller.projectId), flavor);
    count = Math.max(counts.min, Math.min(counts.max, fit));
  }
  const rows = Array.from({ length: count }, (_, index) => makeRow(index, count));
  await db.transaction(async (tx) => {
    await reserveQuota(tx, caller.projectId, instanceQuotaDeltas(flavor, count), limits);
    await tx.insert(instances).values(rows);
    const tagged = rows.flatMap((row) => tagRows(row.uuid, tags, row.created_at));
    if (tagged.length > 0) await tx.insert(instanceTags).values(tagged);
  });
  return rows;
}
