import { and, asc, eq, notInArray, type SQL, sql } from 'drizzle-orm';
import type { Context } from 'hono';
import * as v from 'valibot';
import type { PrimaryDb, PrimaryWriter } from '../../../schema/db.ts';
import { instances, instanceTags, MAX_TAGS_PER_SERVER } from '../../../schema/tables/index.ts';
import { BadRequest, Conflict, NotFound } from '../../shared/errors.ts';
import type { AppEnv } from '../context.ts';
import { resourceLinks } from '../links.ts';
import { Tag, Tags, tagRows } from '../nova/server-create-options.ts';
import { authorize } from '../policy.ts';
import { type Route, route } from '../route.ts';

// Server tags (compute 2.26, Nova's server_tags controller): the whole set at /servers/{id}/tags, one
// tag at /servers/{id}/tags/{tag}. Reading is the server's readers'; changing them its updaters', and
// only while the server is in a steady state (Nova's _check_instance_in_valid_state: active, paused,
// suspended or stopped; a lock does not hold tags).
const SINCE = 26;
const TAGGABLE_STATES = ['active', 'paused', 'suspended', 'stopped'];

type Reader = Pick<PrimaryDb, 'select'>;
type InstanceRow = typeof instances.$inferSelect;

const UpdateAll = v.strictObject({ tags: Tags });

function serverId(c: Context<AppEnv>): string {
  return c.req.param('server_id') ?? '';
}

/** The live server, if the caller may see it: another project's is simply not found. */
async function findServer(db: Reader, c: Context<AppEnv>, lock = false): Promise<InstanceRow> {
  const uuid = serverId(c);
  const caller = c.var.caller;
  const query = db
    .select()
    .from(instances)
    .where(
      and(
        eq(instances.uuid, uuid),
        eq(instances.deleted, 0),
        caller.isAdmin ? undefined : eq(instances.project_id, caller.projectId),
      ),
    );
  const [instance] = await (lock ? query.for('update') : query);
  if (!instance) throw new NotFound(`Instance ${uuid} could not be found.`);
  return instance;
}

/** The server a read names, for a caller the policy lets read servers. */
export function serverToRead(c: Context<AppEnv>): Promise<InstanceRow> {
  authorize(c.var.caller, 'compute:get');
  return findServer(c.var.db, c);
}

async function liveTags(db: Reader, uuid: string): Promise<string[]> {
  const rows = await db
    .select({ tag: instanceTags.tag })
    .from(instanceTags)
    .where(and(eq(instanceTags.instance_uuid, uuid), eq(instanceTags.deleted, 0)))
    .orderBy(asc(instanceTags.tag));
  return rows.map((row) => row.tag);
}

/**
 * Runs `change` on the server's tags in one transaction that holds the server's row, so that
 * concurrent changes to one server's tags queue up (the tag limit holds) and the state is the one
 * checked. `action` names the change in the 409.
 */
async function changeTags<T>(
  c: Context<AppEnv>,
  action: string,
  change: (tx: PrimaryWriter, instance: InstanceRow, now: Date) => Promise<T>,
): Promise<T> {
  authorize(c.var.caller, 'compute:update');
  return c.var.db.$primary.transaction(async (tx) => {
    const instance = await findServer(tx, c, true);
    if (!TAGGABLE_STATES.includes(instance.vm_state)) {
      throw new Conflict(
        `Cannot '${action}' instance ${instance.uuid} while it is in vm_state ${instance.vm_state}`,
      );
    }
    return change(tx, instance, new Date());
  });
}

/** Soft-deletes the server's live tags that `which` selects; how many went. */
async function removeTags(tx: PrimaryWriter, uuid: string, now: Date, which?: SQL): Promise<number> {
  const result = await tx
    .update(instanceTags)
    .set({ deleted: sql`${instanceTags.id}`, deleted_at: now, updated_at: now })
    .where(and(eq(instanceTags.instance_uuid, uuid), eq(instanceTags.deleted, 0), which));
  return result.rowsAffected;
}

export const SERVER_TAG_ROUTES: Route[] = [
  route({
    method: 'get',
    path: '/v2.1/servers/:server_id/tags',
    summary: "List a server's tags",
    since: SINCE,
    responses: { 200: 'tags' },
    handler: async (c) => {
      const instance = await serverToRead(c);
      return c.json({ tags: await liveTags(c.var.db, instance.uuid) });
    },
  }),
  route({
    method: 'put',
    path: '/v2.1/servers/:server_id/tags',
    summary: "Replace a server's tags",
    since: SINCE,
    body: UpdateAll,
    responses: { 200: 'tags: the new set' },
    handler: async (c, { body }) => {
      const wanted = [...new Set(body.tags)];
      const tags = await changeTags(c, 'update tags', async (tx, instance, now) => {
        await removeTags(
          tx,
          instance.uuid,
          now,
          wanted.length > 0 ? notInArray(instanceTags.tag, wanted) : undefined,
        );
        const kept = await liveTags(tx, instance.uuid);
        const added = wanted.filter((tag) => !kept.includes(tag));
        if (added.length > 0) await tx.insert(instanceTags).values(tagRows(instance.uuid, added, now));
        return liveTags(tx, instance.uuid);
      });
      return c.json({ tags });
    },
  }),
  route({
    method: 'delete',
    path: '/v2.1/servers/:server_id/tags',
    summary: "Remove all of a server's tags",
    since: SINCE,
    responses: { 204: 'no tags left' },
    handler: async (c) => {
      await changeTags(c, 'delete tags', (tx, instance, now) => removeTags(tx, instance.uuid, now));
      return c.body(null, 204);
    },
  }),
  route({
    method: 'get',
    path: '/v2.1/servers/:server_id/tags/:tag',
    summary: 'Check whether a server has a tag',
    since: SINCE,
    responses: { 204: 'the server has the tag' },
    handler: async (c) => {
      const instance = await serverToRead(c);
      const tag = c.req.param('tag') ?? '';
      const [found] = await c.var.db
        .select({ id: instanceTags.id })
        .from(instanceTags)
        .where(
          and(
            eq(instanceTags.instance_uuid, instance.uuid),
            eq(instanceTags.tag, tag),
            eq(instanceTags.deleted, 0),
          ),
        );
      if (!found) throw new NotFound(`Server ${instance.uuid} has no tag '${tag}'`);
      return c.body(null, 204);
    },
  }),
  route({
    method: 'put',
    path: '/v2.1/servers/:server_id/tags/:tag',
    summary: 'Add a tag to a server',
    since: SINCE,
    responses: { 201: 'tag added (Location: the tag)', 204: 'the server had the tag already' },
    handler: async (c) => {
      // Nova's body for one tag is null: nothing, or a JSON null.
      const text = (await c.req.text()).trim();
      if (text !== '' && text !== 'null') throw new BadRequest('Invalid input: the body must be null');
      const tag = c.req.param('tag') ?? '';
      const added = await changeTags(c, 'update tag', async (tx, instance, now) => {
        const valid = v.safeParse(Tag, tag);
        if (!valid.success) {
          throw new BadRequest(
            `Tag '${tag}' is invalid. It must be a non empty string without characters '/' and ','. Validation error message: ${valid.issues[0].message}`,
          );
        }
        const tags = await liveTags(tx, instance.uuid);
        // Nova counts before it looks: a server at the limit refuses even a tag it has.
        if (tags.length >= MAX_TAGS_PER_SERVER) {
          throw new BadRequest(`The number of tags exceeded the per-server limit ${MAX_TAGS_PER_SERVER}`);
        }
        if (tags.includes(tag)) return false;
        await tx.insert(instanceTags).values(tagRows(instance.uuid, [tag], now));
        return true;
      });
      if (!added) return c.body(null, 204);
      const [self] = resourceLinks(c, 'servers', serverId(c));
      c.header('Location', `${self?.href}/tags/${encodeURIComponent(tag)}`);
      return c.body(null, 201);
    },
  }),
  route({
    method: 'delete',
    path: '/v2.1/servers/:server_id/tags/:tag',
    summary: 'Remove a tag from a server',
    since: SINCE,
    responses: { 204: 'tag removed' },
    handler: async (c) => {
      const tag = c.req.param('tag') ?? '';
      await changeTags(c, 'delete tag', async (tx, instance, now) => {
        if ((await removeTags(tx, instance.uuid, now, eq(instanceTags.tag, tag))) === 0) {
          throw new NotFound(`Instance ${instance.uuid} has no tag '${tag}'`);
        }
      });
      return c.body(null, 204);
    },
  }),
];
