import { and, asc, eq, or, type SQL } from 'drizzle-orm';
import type { PrimaryDb } from '../../../schema/db.ts';
import { images } from '../../../schema/tables/index.ts';
import { NotFound } from '../../shared/errors.ts';
import type { Caller } from '../context.ts';
import { defineExtension } from '../nova/extension.ts';
import { authorize } from '../policy.ts';
import { route } from '../route.ts';

export type ImageRow = typeof images.$inferSelect;

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

// Glance v2's view: free-form properties sit beside the fixed fields.
function imageView(image: ImageRow) {
  return {
    ...image.properties,
    id: image.uuid,
    name: image.name,
    status: image.status,
    visibility: image.visibility,
    protected: false,
    disk_format: image.disk_format,
    container_format: image.container_format,
    min_disk: image.min_disk,
    min_ram: image.min_ram,
    owner: image.owner,
    tags: [],
    created_at: image.created_at.toISOString(),
    updated_at: (image.updated_at ?? image.created_at).toISOString(),
    self: `/v2/images/${image.uuid}`,
    schema: '/v2/schemas/image',
  };
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
    route({
      method: 'get',
      path: '/image/v2/images',
      summary: 'List the images the caller may boot',
      responses: { 200: 'images, first, schema' },
      handler: async (c) => {
        authorize(c.var.caller, 'image:get_images');
        const rows = await c.var.db
          .select()
          .from(images)
          .where(and(eq(images.deleted, 0), visibleTo(c.var.caller)))
          .orderBy(asc(images.name), asc(images.id));
        return c.json({ images: rows.map(imageView), first: '/v2/images', schema: '/v2/schemas/images' });
      },
    }),
    route({
      method: 'get',
      path: '/image/v2/images/:image_id',
      summary: 'Show an image',
      responses: { 200: 'the image' },
      handler: async (c) => {
        authorize(c.var.caller, 'image:get_images');
        const uuid = c.req.param('image_id') ?? '';
        const image = await findImage(c.var.db, c.var.caller, uuid);
        if (!image) throw new NotFound(`Image ${uuid} could not be found.`);
        return c.json(imageView(image));
      },
    }),
  ],
});
