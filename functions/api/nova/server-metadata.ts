import { and, eq } from 'drizzle-orm';
import type { Context } from 'hono';
import * as v from 'valibot';
import { instances } from '../../../schema/tables/index.ts';
import { BadRequest, NotFound } from '../../shared/errors.ts';
import type { AppEnv, Caller } from '../context.ts';
import { authorize } from '../policy.ts';
import { route } from '../route.ts';
import { defineExtension, type Extension } from './extension.ts';
import { requireUnlocked } from './server-lock.ts';

// Server metadata: the instance's `metadata` JSON column, read and written as a whole. Every write
// locks the row (SELECT ... FOR UPDATE) inside a transaction, so two concurrent updates of different
// keys both land instead of the second overwriting the first with a stale copy.
const MAX_METADATA_ITEMS = 128;

const MetadataKey = v.pipe(
  v.string(),
  v.minLength(1, 'metadata keys must not be empty'),
  v.maxLength(255, 'metadata keys are at most 255 characters'),
);
const MetadataValue = v.pipe(v.string(), v.maxLength(255, 'metadata values are at most 255 characters'));
const MetadataBody = v.object({ metadata: v.record(MetadataKey, MetadataValue) });

type Metadata = Record<string, string>;

/** A write that would leave more items than allowed: a 400 here, a 403 on the /v2.1 face. */
export class MetadataLimitExceeded extends BadRequest {}

function scope(caller: Caller) {
  return caller.isAdmin ? undefined : eq(instances.project_id, caller.projectId);
}

async function readMetadata(c: Context<AppEnv>): Promise<Metadata> {
  authorize(c.var.caller, 'compute:get_server_metadata');
  const uuid = c.req.param('server_id') ?? '';
  const [row] = await c.var.db
    .select({ metadata: instances.metadata })
    .from(instances)
    .where(and(eq(instances.uuid, uuid), eq(instances.deleted, 0), scope(c.var.caller)));
  if (!row) throw new NotFound(`Instance ${uuid} could not be found.`);
  return row.metadata;
}

/** Applies `change` to the current metadata under a row lock and stores the result. */
async function writeMetadata(
  c: Context<AppEnv>,
  action: 'compute:update_server_metadata' | 'compute:delete_server_metadata',
  change: (current: Metadata) => Metadata,
): Promise<Metadata> {
  authorize(c.var.caller, action);
  const uuid = c.req.param('server_id') ?? '';
  return c.var.db.$primary.transaction(async (tx) => {
    const [row] = await tx
      .select({ metadata: instances.metadata, locked_by: instances.locked_by })
      .from(instances)
      .where(and(eq(instances.uuid, uuid), eq(instances.deleted, 0), scope(c.var.caller)))
      .for('update');
    if (!row) throw new NotFound(`Instance ${uuid} could not be found.`);
    requireUnlocked(c.var.caller, { uuid, locked_by: row.locked_by });
    const next = change(row.metadata);
    if (Object.keys(next).length > MAX_METADATA_ITEMS) {
      throw new MetadataLimitExceeded(`Maximum number of metadata items exceeds ${MAX_METADATA_ITEMS}`);
    }
    await tx
      .update(instances)
      .set({ metadata: next, updated_at: new Date() })
      .where(eq(instances.uuid, uuid));
    return next;
  });
}

function keyParam(c: Context<AppEnv>): string {
  return c.req.param('key') ?? '';
}

export const serverMetadataExtension: Extension = defineExtension({
  alias: 'server-metadata',
  name: 'Server Metadata',
  description: 'Server metadata: list, replace, merge, and per-key show, set and delete.',
  version: 1,
  core: true,
  history: [{ version: 1, change: 'Havana v3 server metadata' }],
  routes: [
    route({
      method: 'get',
      path: '/v3/servers/:server_id/metadata',
      summary: "List a server's metadata",
      responses: { 200: 'metadata' },
      handler: async (c) => c.json({ metadata: await readMetadata(c) }),
    }),
    route({
      method: 'put',
      path: '/v3/servers/:server_id/metadata',
      summary: "Replace all of a server's metadata",
      body: MetadataBody,
      responses: { 200: 'metadata: the new set' },
      handler: async (c, { body }) =>
        c.json({ metadata: await writeMetadata(c, 'compute:update_server_metadata', () => body.metadata) }),
    }),
    route({
      method: 'post',
      path: '/v3/servers/:server_id/metadata',
      summary: "Merge items into a server's metadata",
      body: MetadataBody,
      responses: { 201: 'metadata: the merged set' },
      handler: async (c, { body }) =>
        c.json(
          {
            metadata: await writeMetadata(c, 'compute:update_server_metadata', (current) => ({
              ...current,
              ...body.metadata,
            })),
          },
          201,
        ),
    }),
    route({
      method: 'get',
      path: '/v3/servers/:server_id/metadata/:key',
      summary: 'Show one metadata item',
      responses: { 200: 'metadata: {key: value}' },
      handler: async (c) => {
        const key = keyParam(c);
        const metadata = await readMetadata(c);
        if (!Object.hasOwn(metadata, key)) throw new NotFound(`Metadata item ${key} was not found`);
        return c.json({ metadata: { [key]: metadata[key] } });
      },
    }),
    route({
      method: 'put',
      path: '/v3/servers/:server_id/metadata/:key',
      summary: 'Set one metadata item',
      body: MetadataBody,
      responses: { 200: 'metadata: {key: value}' },
      handler: async (c, { body }) => {
        const key = keyParam(c);
        const entries = Object.entries(body.metadata);
        const [item] = entries;
        if (entries.length !== 1 || !item || item[0] !== key)
          throw new BadRequest('Request body and URI mismatch');
        await writeMetadata(c, 'compute:update_server_metadata', (current) => ({
          ...current,
          [key]: item[1],
        }));
        return c.json({ metadata: { [key]: item[1] } });
      },
    }),
    route({
      method: 'delete',
      path: '/v3/servers/:server_id/metadata/:key',
      summary: 'Delete one metadata item',
      responses: { 204: 'deleted' },
      handler: async (c) => {
        const key = keyParam(c);
        await writeMetadata(c, 'compute:delete_server_metadata', (current) => {
          if (!Object.hasOwn(current, key)) throw new NotFound(`Metadata item ${key} was not found`);
          const { [key]: _removed, ...rest } = current;
          return rest;
        });
        return c.body(null, 204);
      },
    }),
  ],
});
