import { toJsonSchema } from '@valibot/to-json-schema';
import * as v from 'valibot';
import type { images } from '../../../schema/tables/index.ts';

export type ImageRow = typeof images.$inferSelect;

// Glance v2's image object. The catalogue keeps metadata only, never image data, so everything that
// describes the data (size, hashes) is null, and we store neither tags, protection nor hiding: no image
// has tags, none is protected, none is hidden. The same declaration types the view and publishes
// GET /v2/schemas/image, so the two cannot disagree.
const NullableString = v.nullable(v.string());
const ImageFields = v.object({
  id: v.pipe(v.string(), v.uuid()),
  name: NullableString,
  status: v.pipe(
    v.string(),
    v.description(
      'queued, saving, active, killed, deleted, uploading, importing, pending_delete or deactivated',
    ),
  ),
  visibility: v.pipe(v.string(), v.description('public, private, shared or community')),
  protected: v.boolean(),
  os_hidden: v.boolean(),
  disk_format: NullableString,
  container_format: NullableString,
  min_disk: v.pipe(v.number(), v.integer(), v.description('GB')),
  min_ram: v.pipe(v.number(), v.integer(), v.description('MB')),
  size: v.nullable(v.pipe(v.number(), v.integer())),
  virtual_size: v.nullable(v.pipe(v.number(), v.integer())),
  checksum: NullableString,
  os_hash_algo: NullableString,
  os_hash_value: NullableString,
  owner: NullableString,
  created_at: v.pipe(v.string(), v.description('YYYY-MM-DDThh:mm:ssZ')),
  updated_at: v.pipe(v.string(), v.description('YYYY-MM-DDThh:mm:ssZ')),
  tags: v.array(v.string()),
  self: v.string(),
  file: v.string(),
  schema: v.string(),
});

/** Glance shows whole seconds: `2026-05-01T12:00:00Z`. */
function glanceTime(date: Date): string {
  return date.toISOString().replace(/\.\d+Z$/, 'Z');
}

/** The image as Glance v2 shows it: free-form properties sit beside the fixed fields, as strings. */
export function imageView(image: ImageRow): v.InferOutput<typeof ImageFields> & Record<string, unknown> {
  return {
    ...image.properties,
    id: image.uuid,
    name: image.name,
    status: image.status,
    visibility: image.visibility,
    protected: false,
    os_hidden: false,
    disk_format: image.disk_format,
    container_format: image.container_format,
    min_disk: image.min_disk,
    min_ram: image.min_ram,
    size: null,
    virtual_size: null,
    checksum: null,
    os_hash_algo: null,
    os_hash_value: null,
    owner: image.owner,
    created_at: glanceTime(image.created_at),
    // Glance sets updated_at at creation; a row never updated shows its creation time.
    updated_at: glanceTime(image.updated_at ?? image.created_at),
    tags: [],
    self: `/v2/images/${image.uuid}`,
    file: `/v2/images/${image.uuid}/file`,
    schema: '/v2/schemas/image',
  };
}

function imageJsonSchema() {
  const { $schema: _dialect, ...fields } = toJsonSchema(ImageFields, { errorMode: 'ignore' });
  return {
    name: 'image',
    ...fields,
    additionalProperties: { type: 'string' },
    links: [
      { rel: 'self', href: '{self}' },
      { rel: 'enclosure', href: '{file}' },
      { rel: 'describedby', href: '{schema}' },
    ],
  };
}

/** GET /v2/schemas/image: what a single image object holds. */
export const imageSchemaDocument = imageJsonSchema();

/** GET /v2/schemas/images: the list page, with its paging links as URI templates. */
export const imagesSchemaDocument = {
  name: 'images',
  type: 'object',
  properties: {
    images: { type: 'array', items: imageSchemaDocument },
    schema: { type: 'string' },
    first: { type: 'string' },
    next: { type: 'string' },
  },
  links: [
    { rel: 'first', href: '{first}' },
    { rel: 'next', href: '{next}' },
    { rel: 'describedby', href: '{schema}' },
  ],
};
