import * as v from 'valibot';
import { Forbidden } from '../../shared/errors.ts';
import { MetadataLimitExceeded, serverMetadataExtension } from '../nova/server-metadata.ts';
import type { Route } from '../route.ts';
import { defineFace, translatedRoute, v3Route } from './face.ts';
import { strictQuery } from './query.ts';
import { Metadata } from './server-fields.ts';

// Server metadata under v2.1's names: the whole set as `metadata` (a merge answers 200, not v3's 201),
// one item as `meta`; a write past the item limit is a 403 (Nova's quota error), not v3's 400.
const METADATA = '/v3/servers/:server_id/metadata';
const ITEM = `${METADATA}/:key`;

const MetadataBody = v.strictObject({ metadata: Metadata });
const MetaBody = v.strictObject({
  meta: v.pipe(
    Metadata,
    v.check((meta) => Object.keys(meta).length === 1, 'meta must hold exactly one item'),
  ),
});

function overLimitForbidden(write: Route): Route {
  return {
    ...write,
    handler: async (c, input) => {
      try {
        return await write.handler(c, input);
      } catch (error) {
        if (error instanceof MetadataLimitExceeded) throw new Forbidden(error.message);
        throw error;
      }
    },
  };
}

export const serverMetadataFace = defineFace({
  alias: 'server-metadata',
  routes: [
    strictQuery(
      translatedRoute({
        method: 'get',
        path: '/v2.1/servers/:server_id/metadata',
        summary: "List a server's metadata",
        target: v3Route(serverMetadataExtension, 'get', METADATA),
        responses: { 200: 'metadata' },
      }),
      102,
    ),
    overLimitForbidden(
      translatedRoute({
        method: 'put',
        path: '/v2.1/servers/:server_id/metadata',
        summary: "Replace all of a server's metadata",
        body: MetadataBody,
        target: v3Route(serverMetadataExtension, 'put', METADATA),
        responses: { 200: 'metadata: the new set' },
      }),
    ),
    overLimitForbidden(
      translatedRoute({
        method: 'post',
        path: '/v2.1/servers/:server_id/metadata',
        summary: "Merge items into a server's metadata",
        body: MetadataBody,
        target: v3Route(serverMetadataExtension, 'post', METADATA),
        responses: { 200: 'metadata: the merged set' },
        response: (_c, body) => ({ status: 200, body }),
      }),
    ),
    strictQuery(
      translatedRoute({
        method: 'get',
        path: '/v2.1/servers/:server_id/metadata/:key',
        summary: 'Show one metadata item',
        target: v3Route(serverMetadataExtension, 'get', ITEM),
        responses: { 200: 'meta: {key: value}' },
        response: (_c, body) => ({ body: { meta: (body as { metadata: unknown }).metadata } }),
      }),
      102,
    ),
    overLimitForbidden(
      translatedRoute({
        method: 'put',
        path: '/v2.1/servers/:server_id/metadata/:key',
        summary: 'Set one metadata item',
        body: MetaBody,
        target: v3Route(serverMetadataExtension, 'put', ITEM),
        responses: { 200: 'meta: {key: value}' },
        request: (_c, body) => ({ metadata: body.meta }),
        response: (_c, body) => ({ body: { meta: (body as { metadata: unknown }).metadata } }),
      }),
    ),
    translatedRoute({
      method: 'delete',
      path: '/v2.1/servers/:server_id/metadata/:key',
      summary: 'Delete one metadata item',
      target: v3Route(serverMetadataExtension, 'delete', ITEM),
      responses: { 204: 'deleted' },
    }),
  ],
  microversions: [
    {
      minor: 102,
      change: 'unknown query parameters are a 400 on every GET',
      routes: ['/v2.1/servers/{server_id}/metadata', '/v2.1/servers/{server_id}/metadata/{key}'],
    },
  ],
});
