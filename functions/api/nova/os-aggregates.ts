import { and, asc, eq, inArray, ne, sql } from 'drizzle-orm';
import type { Context } from 'hono';
import * as v from 'valibot';
import type { PrimaryDb } from '../../../schema/db.ts';
import { aggregateHosts, aggregateMetadata, aggregates, services } from '../../../schema/tables/index.ts';
import { refreshHostPlacementFacts } from '../../scheduler/placement-facts.ts';
import { BadRequest, Conflict, isDuplicateKey, NotFound } from '../../shared/errors.ts';
import type { AppEnv } from '../context.ts';
import { authorize } from '../policy.ts';
import { route } from '../route.ts';
import { defineExtension } from './extension.ts';
import { COMPUTE_BINARY } from './host-zones.ts';

type AggregateRow = typeof aggregates.$inferSelect;
type Reader = Pick<PrimaryDb, 'select'>;

const ZONE_KEY = 'availability_zone';
const Name = v.pipe(v.string(), v.trim(), v.minLength(1, 'must not be empty'), v.maxLength(255));

const CreateAggregate = v.object({
  aggregate: v.object({ name: Name, availability_zone: v.optional(v.nullable(Name)) }),
});
const UpdateAggregate = v.object({
  aggregate: v.pipe(
    v.strictObject({ name: v.optional(Name), availability_zone: v.optional(v.nullable(Name)) }),
    v.check((update) => Object.keys(update).length > 0, 'aggregate must set name or availability_zone'),
  ),
});
const HostRef = v.object({ host: Name });
const AggregateAction = v.pipe(
  v.strictObject({
    add_host: v.optional(HostRef),
    remove_host: v.optional(HostRef),
    set_metadata: v.optional(
      v.object({
        metadata: v.record(
          v.pipe(v.string(), v.minLength(1), v.maxLength(255)),
          v.nullable(v.pipe(v.string(), v.maxLength(255))),
        ),
      }),
    ),
  }),
  v.check((body) => Object.keys(body).length === 1, 'the body must hold exactly one action'),
);

async function findAggregate(db: Reader, rawId: string): Promise<AggregateRow> {
  const [aggregate] = /^\d+$/.test(rawId)
    ? await db
        .select()
        .from(aggregates)
        .where(and(eq(aggregates.id, Number(rawId)), eq(aggregates.deleted, 0)))
    : [];
  if (!aggregate) throw new NotFound(`Aggregate ${rawId} could not be found.`);
  return aggregate;
}

/** The view names each aggregate's uuid on the v2.1 face only, whose microversions decide whether to show it. */
async function details(db: Reader, rows: AggregateRow[], withUuid = false) {
  const ids = rows.map((row) => row.id);
  const [hosts, metadata] =
    ids.length === 0
      ? [[], []]
      : await Promise.all([
          db
            .select()
            .from(aggregateHosts)
            .where(and(inArray(aggregateHosts.aggregate_id, ids), eq(aggregateHosts.deleted, 0)))
            .orderBy(asc(aggregateHosts.host)),
          db
            .select()
            .from(aggregateMetadata)
            .where(and(inArray(aggregateMetadata.aggregate_id, ids), eq(aggregateMetadata.deleted, 0)))
            .orderBy(asc(aggregateMetadata.key)),
        ]);
  return rows.map((row) => {
    const own = Object.fromEntries(
      metadata.filter((item) => item.aggregate_id === row.id).map((item) => [item.key, item.value]),
    );
    return {
      id: row.id,
      ...(withUuid ? { uuid: row.uuid } : {}),
      name: row.name,
      availability_zone: own[ZONE_KEY] ?? null,
      created_at: row.created_at.toISOString(),
      updated_at: row.updated_at?.toISOString() ?? null,
      // Havana reports the soft-delete column itself: 0 for a live aggregate.
      deleted: 0,
      deleted_at: null,
      hosts: hosts.filter((host) => host.aggregate_id === row.id).map((host) => host.host),
      metadata: own,
    };
  });
}

async function detail(db: Reader, row: AggregateRow, withUuid = false) {
  const [view] = await details(db, [row], withUuid);
  return view;
}

function servesV21(c: Context<AppEnv>): boolean {
  return c.var.computeFace === 'v2.1';
}

/** Sets (or with null removes) metadata keys; each key keeps at most one live row. */
async function setMetadata(
  db: Pick<PrimaryDb, 'insert' | 'update'>,
  aggregateId: number,
  metadata: Record<string, string | null>,
) {
  const now = new Date();
  const removed = Object.keys(metadata).filter((key) => metadata[key] === null);
  const kept = Object.entries(metadata).flatMap(([key, value]) =>
    value === null ? [] : [{ aggregate_id: aggregateId, key, value, created_at: now }],
  );
  if (removed.length > 0) {
    await db
      .update(aggregateMetadata)
      .set({ deleted: sql`${aggregateMetadata.id}`, deleted_at: now, updated_at: now })
      .where(
        and(
          eq(aggregateMetadata.aggregate_id, aggregateId),
          inArray(aggregateMetadata.key, removed),
          eq(aggregateMetadata.deleted, 0),
        ),
      );
  }
  if (kept.length > 0) {
    await db
      .insert(aggregateMetadata)
      .values(kept)
      .onDuplicateKeyUpdate({ set: { value: sql`values(${aggregateMetadata.value})`, updated_at: now } });
  }
}

/** A host is in one zone: it may not join an aggregate whose zone differs from one it is already in. */
async function checkZoneConflict(db: Reader, aggregateId: number, host: string, zone: string | null) {
  if (zone === null) return;
  const others = await db
    .select({ zone: aggregateMetadata.value, aggregate: aggregateHosts.aggregate_id })
    .from(aggregateHosts)
    .innerJoin(
      aggregateMetadata,
      and(
        eq(aggregateMetadata.aggregate_id, aggregateHosts.aggregate_id),
        eq(aggregateMetadata.key, ZONE_KEY),
        eq(aggregateMetadata.deleted, 0),
      ),
    )
    .where(
      and(
        eq(aggregateHosts.host, host),
        eq(aggregateHosts.deleted, 0),
        ne(aggregateHosts.aggregate_id, aggregateId),
      ),
    );
  const clash = others.find((other) => other.zone !== zone);
  if (clash) {
    throw new Conflict(
      `Host ${host} is already in availability zone ${clash.zone} (aggregate ${clash.aggregate}).`,
    );
  }
}

async function addHost(c: Context<AppEnv>, aggregate: AggregateRow, host: string) {
  const db = c.var.db.$primary;
  const [service] = await db
    .select({ id: services.id })
    .from(services)
    .where(and(eq(services.host, host), eq(services.binary, COMPUTE_BINARY), eq(services.deleted, 0)));
  if (!service) throw new NotFound(`Compute host ${host} could not be found.`);
  const view = await detail(db, aggregate);
  await checkZoneConflict(db, aggregate.id, host, view?.availability_zone ?? null);
  try {
    await db.insert(aggregateHosts).values({ aggregate_id: aggregate.id, host, created_at: new Date() });
  } catch (error) {
    if (isDuplicateKey(error)) throw new Conflict(`Aggregate ${aggregate.id} already has host ${host}.`);
    throw error;
  }
}

async function removeHost(c: Context<AppEnv>, aggregate: AggregateRow, host: string) {
  const now = new Date();
  const result = await c.var.db.$primary
    .update(aggregateHosts)
    .set({ deleted: sql`${aggregateHosts.id}`, deleted_at: now, updated_at: now })
    .where(
      and(
        eq(aggregateHosts.aggregate_id, aggregate.id),
        eq(aggregateHosts.host, host),
        eq(aggregateHosts.deleted, 0),
      ),
    );
  if (result.rowsAffected === 0) throw new NotFound(`Aggregate ${aggregate.id} has no host ${host}.`);
}

function duplicateName(error: unknown, name: string): never {
  if (isDuplicateKey(error)) throw new Conflict(`Aggregate ${name} already exists.`);
  throw error;
}

export const aggregatesExtension = defineExtension({
  alias: 'os-aggregates',
  name: 'Aggregates',
  description: 'Admin-only aggregate administration.',
  version: 1,
  core: false,
  history: [{ version: 1, change: 'CRUD, add_host, remove_host, set_metadata' }],
  routes: [
    route({
      method: 'get',
      path: '/v3/os-aggregates',
      summary: 'List aggregates (admin)',
      responses: { 200: 'aggregates' },
      handler: async (c) => {
        authorize(c.var.caller, 'compute_extension:os-aggregates');
        const rows = await c.var.db
          .select()
          .from(aggregates)
          .where(eq(aggregates.deleted, 0))
          .orderBy(asc(aggregates.id));
        return c.json({ aggregates: await details(c.var.db, rows, servesV21(c)) });
      },
    }),
    route({
      method: 'post',
      path: '/v3/os-aggregates',
      summary: 'Create an aggregate, optionally as an availability zone (admin)',
      body: CreateAggregate,
      responses: { 201: 'aggregate' },
      handler: async (c, { body: { aggregate } }) => {
        authorize(c.var.caller, 'compute_extension:os-aggregates');
        const db = c.var.db.$primary;
        const uuid = crypto.randomUUID();
        await db.transaction(async (tx) => {
          await tx
            .insert(aggregates)
            .values({ uuid, name: aggregate.name, created_at: new Date() })
            .catch((error: unknown) => duplicateName(error, aggregate.name));
          const [created] = await tx
            .select({ id: aggregates.id })
            .from(aggregates)
            .where(eq(aggregates.uuid, uuid));
          if (created && aggregate.availability_zone) {
            await setMetadata(tx, created.id, { [ZONE_KEY]: aggregate.availability_zone });
          }
        });
        const [row] = await db.select().from(aggregates).where(eq(aggregates.uuid, uuid));
        if (!row) throw new NotFound(`Aggregate ${aggregate.name} could not be found.`);
        const view = await detail(db, row, servesV21(c));
        return c.json({ aggregate: { ...view, hosts: undefined, metadata: undefined } }, 201);
      },
    }),
    route({
      method: 'get',
      path: '/v3/os-aggregates/:aggregate_id',
      summary: 'Show an aggregate (admin)',
      responses: { 200: 'aggregate with hosts and metadata' },
      handler: async (c) => {
        authorize(c.var.caller, 'compute_extension:os-aggregates');
        const row = await findAggregate(c.var.db, c.req.param('aggregate_id') ?? '');
        return c.json({ aggregate: await detail(c.var.db, row, servesV21(c)) });
      },
    }),
    route({
      method: 'put',
      path: '/v3/os-aggregates/:aggregate_id',
      summary: 'Rename an aggregate or change its availability zone (admin)',
      body: UpdateAggregate,
      responses: { 200: 'aggregate' },
      handler: async (c, { body: { aggregate: update } }) => {
        authorize(c.var.caller, 'compute_extension:os-aggregates');
        const db = c.var.db.$primary;
        const row = await findAggregate(db, c.req.param('aggregate_id') ?? '');
        if (update.name !== undefined) {
          await db
            .update(aggregates)
            .set({ name: update.name, updated_at: new Date() })
            .where(eq(aggregates.id, row.id))
            .catch((error: unknown) => duplicateName(error, update.name ?? ''));
        }
        if (update.availability_zone !== undefined) {
          await setMetadata(db, row.id, { [ZONE_KEY]: update.availability_zone });
        }
        const view = await detail(db, await findAggregate(db, String(row.id)), servesV21(c));
        // The scheduler reads each host's zone from its compute node.
        await refreshHostPlacementFacts(db, view?.hosts ?? []);
        return c.json({ aggregate: view });
      },
    }),
    route({
      method: 'delete',
      path: '/v3/os-aggregates/:aggregate_id',
      summary: 'Delete an empty aggregate (admin)',
      responses: { 204: 'deleted' },
      handler: async (c) => {
        authorize(c.var.caller, 'compute_extension:os-aggregates');
        const db = c.var.db.$primary;
        const row = await findAggregate(db, c.req.param('aggregate_id') ?? '');
        const view = await detail(db, row);
        if (view && view.hosts.length > 0) {
          throw new BadRequest(`Aggregate ${row.id} still has hosts: remove them first.`);
        }
        const now = new Date();
        await db.transaction(async (tx) => {
          await tx
            .update(aggregateMetadata)
            .set({ deleted: sql`${aggregateMetadata.id}`, deleted_at: now, updated_at: now })
            .where(and(eq(aggregateMetadata.aggregate_id, row.id), eq(aggregateMetadata.deleted, 0)));
          await tx
            .update(aggregates)
            .set({ deleted: row.id, deleted_at: now, updated_at: now })
            .where(and(eq(aggregates.id, row.id), eq(aggregates.deleted, 0)));
        });
        return c.body(null, 204);
      },
    }),
    route({
      method: 'post',
      path: '/v3/os-aggregates/:aggregate_id/action',
      summary: 'Aggregate action: add_host, remove_host {host} or set_metadata {metadata} (admin)',
      body: AggregateAction,
      responses: { 200: 'aggregate (set_metadata)', 202: 'aggregate (add_host, remove_host)' },
      handler: async (c, { body }) => {
        authorize(c.var.caller, 'compute_extension:os-aggregates');
        const db = c.var.db.$primary;
        const row = await findAggregate(db, c.req.param('aggregate_id') ?? '');
        if (body.add_host) await addHost(c, row, body.add_host.host);
        if (body.remove_host) await removeHost(c, row, body.remove_host.host);
        if (body.set_metadata) await setMetadata(db, row.id, body.set_metadata.metadata);
        const view = await detail(db, row, servesV21(c));
        // Membership and metadata decide zones, ratios, dedications and tenancy, which the scheduler
        // reads from each host's compute node.
        await refreshHostPlacementFacts(db, [
          ...(view?.hosts ?? []),
          ...(body.remove_host ? [body.remove_host.host] : []),
        ]);
        return c.json({ aggregate: view }, body.set_metadata ? 200 : 202);
      },
    }),
  ],
});
