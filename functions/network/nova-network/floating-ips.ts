import { and, asc, eq, inArray, isNotNull, isNull, type SQL, sql } from 'drizzle-orm';
import type { PrimaryDb, PrimaryWriter } from '../../../schema/db.ts';
import { fixedIps, floatingIps } from '../../../schema/tables/index.ts';
import { BadRequest, Conflict, isDuplicateKey, NotFound, StateConflict } from '../../shared/errors.ts';
import { canonicalIp } from '../ip-math.ts';
import { retryTransient } from '../transient.ts';
import { floatingRangeAddresses } from './addresses.ts';
import { NoMoreFloatingIps } from './errors.ts';
import { refreshLegacyNetworkInfo } from './network-info.ts';

// nova-network's floating IPs: ranges an admin adds to a pool (os-floating-ips-bulk), allocated to a
// project from a pool (os-floating-ips), associated with a server's fixed IP (addFloatingIp) for the
// NAT, and given back. Every association change rebuilds the server's network cache in its transaction.

type Reader = Pick<PrimaryDb, 'select' | 'selectDistinct'>;
export type FloatingIpRow = typeof floatingIps.$inferSelect;

/** Havana's default_floating_pool and public_interface. */
export const DEFAULT_POOL = 'nova';
export const DEFAULT_INTERFACE = 'eth0';

/** Rows per statement when adding or removing a range (a /16 is 65,534 addresses). */
const RANGE_CHUNK = 1000;

/** A floating IP with the fixed IP and server it is on. */
export interface FloatingIpDetail extends FloatingIpRow {
  fixed_address: string | null;
  instance_uuid: string | null;
}

/** Who asks: a project sees only its own floating IPs; an admin reaches any (`null`). */
export type FloatingScope = string | null;

function ownedBy(scope: FloatingScope): SQL | undefined {
  return scope === null ? undefined : eq(floatingIps.project_id, scope);
}

function chunks<T>(items: readonly T[]): T[][] {
  const result: T[][] = [];
  for (let start = 0; start < items.length; start += RANGE_CHUNK)
    result.push(items.slice(start, start + RANGE_CHUNK));
  return result;
}

async function details(db: Reader, condition: SQL | undefined): Promise<FloatingIpDetail[]> {
  const rows = await db
    .select({ floating: floatingIps, fixed_address: fixedIps.address, instance_uuid: fixedIps.instance_uuid })
    .from(floatingIps)
    .leftJoin(fixedIps, and(eq(fixedIps.id, floatingIps.fixed_ip_id), eq(fixedIps.deleted, 0)))
    .where(and(eq(floatingIps.deleted, 0), condition))
    .orderBy(asc(floatingIps.id));
  return rows.map((row) => ({
    ...row.floating,
    fixed_address: row.fixed_address,
    instance_uuid: row.instance_uuid,
  }));
}

/** Every floating IP, or those on one host (os-floating-ips-bulk). */
export function listAllFloatingIps(db: Reader, host?: string): Promise<FloatingIpDetail[]> {
  return details(db, host === undefined ? undefined : eq(floatingIps.host, host));
}

/** The floating IPs allocated to the project. */
export function listProjectFloatingIps(db: Reader, projectId: string): Promise<FloatingIpDetail[]> {
  return details(db, eq(floatingIps.project_id, projectId));
}

export async function showFloatingIp(
  db: Reader,
  scope: FloatingScope,
  id: number,
): Promise<FloatingIpDetail> {
  const [found] = await details(
    db,
    and(eq(floatingIps.id, id), ownedBy(scope), isNotNull(floatingIps.project_id)),
  );
  if (!found) throw new NotFound(`Floating ip not found for id ${id}`);
  return found;
}

/** The pools that have floating IPs, allocated or not (os-floating-ip-pools). */
export async function floatingIpPools(db: Reader): Promise<string[]> {
  const rows = await db
    .selectDistinct({ pool: floatingIps.pool })
    .from(floatingIps)
    .where(eq(floatingIps.deleted, 0))
    .orderBy(asc(floatingIps.pool));
  return rows.map((row) => row.pool);
}

/**
 * Adds a range's addresses to a pool, in one transaction; 409 naming an address another range holds
 * (checked first for the message, and by the unique key against a concurrent create).
 */
export async function createFloatingRange(
  db: PrimaryDb,
  range: { ip_range: string; pool: string; interface: string },
): Promise<void> {
  const addresses = floatingRangeAddresses(range.ip_range);
  for (const part of chunks(addresses)) {
    const [taken] = await db
      .select({ address: floatingIps.address })
      .from(floatingIps)
      .where(and(inArray(floatingIps.address, part), eq(floatingIps.deleted, 0)))
      .limit(1);
    if (taken) throw new Conflict(`Floating ip ${taken.address} already exists.`);
  }
  const now = new Date();
  try {
    await db.transaction(async (tx) => {
      for (const part of chunks(addresses)) {
        await tx.insert(floatingIps).values(
          part.map((address) => ({
            address,
            pool: range.pool,
            interface: range.interface,
            created_at: now,
          })),
        );
      }
    });
  } catch (error) {
    if (!isDuplicateKey(error)) throw error;
    throw new Conflict(`A concurrent request added part of ${range.ip_range}.`);
  }
}

/**
 * Removes a range's floating IPs, allocated or not (as Havana did), in one transaction. 409 while one
 * of them is on a server: remove it from the server first. The delete skips associated rows and the
 * count after it decides, so an association racing the delete either lands first (and the delete
 * rolls back) or finds its floating IP gone.
 */
export async function deleteFloatingRange(db: PrimaryDb, ipRange: string): Promise<void> {
  const addresses = floatingRangeAddresses(ipRange);
  await retryTransient(() =>
    db.transaction(async (tx) => {
      const now = new Date();
      for (const part of chunks(addresses)) {
        await tx
          .update(floatingIps)
          .set({ deleted: sql`${floatingIps.id}`, deleted_at: now, updated_at: now })
          .where(
            and(
              inArray(floatingIps.address, part),
              eq(floatingIps.deleted, 0),
              isNull(floatingIps.fixed_ip_id),
            ),
          );
        const [associated] = await tx
          .select({ address: floatingIps.address })
          .from(floatingIps)
          .where(and(inArray(floatingIps.address, part), eq(floatingIps.deleted, 0)))
          .limit(1);
        if (associated)
          throw new Conflict(
            `Floating ip ${associated.address} is associated with a server: remove it first.`,
          );
      }
    }),
  );
}

/**
 * Allocates a floating IP of the pool to the project. The first free row is read FOR UPDATE SKIP
 * LOCKED (concurrent allocations each get a different one instead of queueing on the same row) and
 * taken by a conditional UPDATE. 404 when the pool has none left (Havana's NoMoreFloatingIps).
 */
export async function allocateFloatingIp(
  db: PrimaryDb,
  projectId: string,
  pool: string,
): Promise<FloatingIpDetail> {
  const id = await retryTransient(() =>
    db.transaction(async (tx) => {
      const [free] = await tx
        .select({ id: floatingIps.id })
        .from(floatingIps)
        .where(and(eq(floatingIps.pool, pool), isNull(floatingIps.project_id), eq(floatingIps.deleted, 0)))
        .orderBy(asc(floatingIps.id))
        .limit(1)
        .for('update', { skipLocked: true });
      if (!free) throw new NoMoreFloatingIps(pool);
      const taken = await tx
        .update(floatingIps)
        .set({ project_id: projectId, updated_at: new Date() })
        .where(and(eq(floatingIps.id, free.id), isNull(floatingIps.project_id), eq(floatingIps.deleted, 0)));
      if (taken.rowsAffected !== 1) throw new StateConflict(`Floating ip ${free.id} was taken concurrently.`);
      return free.id;
    }),
  );
  return showFloatingIp(db, projectId, id);
}

async function lockFloatingByAddress(tx: PrimaryWriter, scope: FloatingScope, text: string) {
  const address = canonicalIp(text);
  if (!address) throw new BadRequest(`Invalid input for field 'address': ${text} is not an IP address`);
  const [floating] = await tx
    .select()
    .from(floatingIps)
    .where(
      and(
        eq(floatingIps.address, address),
        eq(floatingIps.deleted, 0),
        isNotNull(floatingIps.project_id),
        ownedBy(scope),
      ),
    )
    .for('update');
  if (!floating) throw new NotFound('floating ip not found');
  return floating;
}

async function instanceOfFixedIp(tx: PrimaryWriter, fixedIpId: number | null): Promise<string | null> {
  if (fixedIpId === null) return null;
  const [fixed] = await tx
    .select({ instance_uuid: fixedIps.instance_uuid })
    .from(fixedIps)
    .where(eq(fixedIps.id, fixedIpId));
  return fixed?.instance_uuid ?? null;
}

/** Points the floating IP at another fixed IP (or none), if it still points where it was read to. */
async function moveFloatingIp(
  tx: PrimaryWriter,
  floating: FloatingIpRow,
  to: { fixed_ip_id: number | null; host: string | null },
): Promise<void> {
  const moved = await tx
    .update(floatingIps)
    .set({ ...to, updated_at: new Date() })
    .where(
      and(
        eq(floatingIps.id, floating.id),
        eq(floatingIps.deleted, 0),
        floating.fixed_ip_id === null
          ? isNull(floatingIps.fixed_ip_id)
          : eq(floatingIps.fixed_ip_id, floating.fixed_ip_id),
      ),
    );
  if (moved.rowsAffected !== 1)
    throw new StateConflict(`Floating ip ${floating.address} changed concurrently.`);
}

/**
 * Associates a floating IP of the caller's project with one of the server's fixed IPs (the one
 * given, else its first). 400 when the server has no fixed IP or not the one given; a floating IP on
 * another server moves (that server's cache is rebuilt too), as Havana did; already there is a no-op.
 */
export async function associateFloatingIp(
  db: PrimaryDb,
  scope: FloatingScope,
  instanceUuid: string,
  request: { address: string; fixed_address?: string },
): Promise<void> {
  await retryTransient(() =>
    db.transaction(async (tx) => {
      const floating = await lockFloatingByAddress(tx, scope, request.address);
      const held = await tx
        .select({ id: fixedIps.id, address: fixedIps.address, host: fixedIps.host })
        .from(fixedIps)
        .where(and(eq(fixedIps.instance_uuid, instanceUuid), eq(fixedIps.deleted, 0)))
        .orderBy(asc(fixedIps.id));
      if (held.length === 0) throw new BadRequest('No fixed ips associated to instance');
      const wanted = request.fixed_address === undefined ? undefined : canonicalIp(request.fixed_address);
      const target = request.fixed_address === undefined ? held[0] : held.find((ip) => ip.address === wanted);
      if (!target) throw new BadRequest('Specified fixed address not assigned to instance');
      if (floating.fixed_ip_id === target.id) return;
      const previousInstance = await instanceOfFixedIp(tx, floating.fixed_ip_id);
      await moveFloatingIp(tx, floating, { fixed_ip_id: target.id, host: target.host });
      await refreshLegacyNetworkInfo(tx, instanceUuid);
      if (previousInstance !== null && previousInstance !== instanceUuid)
        await refreshLegacyNetworkInfo(tx, previousInstance);
    }),
  );
}

/** Takes a floating IP off the server; 409 when it is not on that server (Nova's later answer). */
export async function disassociateFloatingIp(
  db: PrimaryDb,
  scope: FloatingScope,
  instanceUuid: string,
  address: string,
): Promise<void> {
  await retryTransient(() =>
    db.transaction(async (tx) => {
      const floating = await lockFloatingByAddress(tx, scope, address);
      if ((await instanceOfFixedIp(tx, floating.fixed_ip_id)) !== instanceUuid)
        throw new Conflict(
          `Floating ip ${floating.address} is not associated with instance ${instanceUuid}.`,
        );
      await moveFloatingIp(tx, floating, { fixed_ip_id: null, host: null });
      await refreshLegacyNetworkInfo(tx, instanceUuid);
    }),
  );
}

/** Gives a floating IP back to its pool, taking it off its server first (DELETE os-floating-ips/{id}). */
export async function deallocateFloatingIp(db: PrimaryDb, scope: FloatingScope, id: number): Promise<void> {
  await retryTransient(() =>
    db.transaction(async (tx) => {
      const [floating] = await tx
        .select()
        .from(floatingIps)
        .where(
          and(
            eq(floatingIps.id, id),
            eq(floatingIps.deleted, 0),
            isNotNull(floatingIps.project_id),
            ownedBy(scope),
          ),
        )
        .for('update');
      if (!floating) throw new NotFound(`Floating ip not found for id ${id}`);
      const instanceUuid = await instanceOfFixedIp(tx, floating.fixed_ip_id);
      const released = await tx
        .update(floatingIps)
        .set({
          project_id: null,
          fixed_ip_id: null,
          host: null,
          auto_assigned: false,
          updated_at: new Date(),
        })
        .where(
          and(
            eq(floatingIps.id, floating.id),
            eq(floatingIps.deleted, 0),
            eq(floatingIps.project_id, floating.project_id ?? ''),
          ),
        );
      if (released.rowsAffected !== 1) throw new StateConflict(`Floating ip ${id} changed concurrently.`);
      if (instanceUuid !== null) await refreshLegacyNetworkInfo(tx, instanceUuid);
    }),
  );
}
