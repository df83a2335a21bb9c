import { and, eq, or, type SQL } from 'drizzle-orm';
import type { Context } from 'hono';
import type { PrimaryDb } from '../../../schema/db.ts';
import { images } from '../../../schema/tables/index.ts';
import { BadRequest, NotFound } from '../../shared/errors.ts';
import type { AppEnv, Caller } from '../context.ts';
import { defineExtension } from '../nova/extension.ts';
import { authorize } from '../policy.ts';
import { route } from '../route.ts';
import {
  after,
  DEFAULT_LIMIT,
  ImageListQuery,
  listFilterConditions,
  orderBy,
  sortOrder,
} from './image-query.ts';
import { type ImageRow, imageSchemaDocument, imagesSchemaDocument, imageView } from './image-view.ts';
import { imageVersionRoutes } from './versions.ts';

export type { ImageRow } from './image-view.ts';

/** Public images are everyone's; a private one is its owner project's (admins see all). */
function visibleTo(caller: Caller): SQL | undefined {
  if (caller.isAdmin) return undefined;
  return or(eq(images.visibility, 'public'), eq(images.owner, caller.projectId));
}

/** The image `uuid` as `caller` may see it, or undefined. */
export async function findImage(
  db: Pick<PrimaryDb, 'select'>,
  caller: Caller,
  uuid: string,
): Promise<ImageRow | undefined> {
  const [image] = await db
    .select()
    .from(images)
    .where(and(eq(images.uuid, uuid), eq(images.deleted, 0), visibleTo(caller)));
  return image;
}

/**
 * Glance's paging links, relative to the API root as Glance writes them (openstacksdk strips the
 * `/v2` and resolves the rest against its endpoint): the request's own query without `marker`, and
 * for `next` the same with the page's last id as marker.
 */
function pageLinks(c: Context<AppEnv>, lastId: string | undefined) {
  const params = new URL(c.req.url).searchParams;
  params.delete('marker');
  const first = params.size > 0 ? `/v2/images?${params}` : '/v2/images';
  if (lastId === undefined) return { first };
  params.append('marker', lastId);
  return { first, next: `/v2/images?${params}` };
}

export const imagesExtension = defineExtension({
  alias: 'images',
  name: 'Images',
  description: 'The image catalogue (/image/v2/images): Glance-shaped metadata, no image data.',
  version: 1,
  // Servers resolve image_ref against it: it cannot be disabled.
  core: true,
  history: [{ version: 1, change: 'list and show images' }],
  routes: [
    ...imageVersionRoutes,
    route({
      method: 'get',
      path: '/image/v2/images',
      summary: 'List the images the caller may boot, a page at a time',
      query: ImageListQuery,
      responses: { 200: 'images, schema, first, and next when the page is full' },
      handler: async (c, { query }) => {
        authorize(c.var.caller, 'image:get_images');
        const order = sortOrder(query);
        let marker: ImageRow | undefined;
        if (query.marker !== undefined) {
          marker = await findImage(c.var.db, c.var.caller, query.marker);
          if (!marker) throw new BadRequest(`Invalid marker: no image found with ID ${query.marker}`);
        }
        const limit = query.limit ?? DEFAULT_LIMIT;
        const rows = await c.var.db
          .select()
          .from(images)
          .where(
            and(
              eq(images.deleted, 0),
              visibleTo(c.var.caller),
              listFilterConditions(query),
              marker && after(order, marker),
            ),
          )
          .orderBy(...orderBy(order))
          .limit(limit);
        // A full page may be followed by more; a short one is the last (Glance never counts).
        const last = rows.length > 0 && rows.length === limit ? rows.at(-1)?.uuid : undefined;
        return c.json({ images: rows.map(imageView), schema: '/v2/schemas/images', ...pageLinks(c, last) });
      },
    }),
    route({
      method: 'get',
      path: '/image/v2/images/:image_id',
      summary: 'Show an image',
      responses: { 200: 'the image, unwrapped' },
      handler: async (c) => {
        authorize(c.var.caller, 'image:get_images');
        const uuid = c.req.param('image_id') ?? '';
        const image = await findImage(c.var.db, c.var.caller, uuid);
        // Another project's private image is as absent as a missing one.
        if (!image) throw new NotFound(`No image found with ID ${uuid}`);
        return c.json(imageView(image));
      },
    }),
    route({
      method: 'get',
      path: '/image/v2/schemas/image',
      summary: 'The JSON schema of an image',
      responses: { 200: 'JSON schema' },
      handler: (c) => c.json(imageSchemaDocument),
    }),
    route({
      method: 'get',
      path: '/image/v2/schemas/images',
      summary: 'The JSON schema of an image list page',
      responses: { 200: 'JSON schema' },
      handler: (c) => c.json(imagesSchemaDocument),
    }),
  ],
});
