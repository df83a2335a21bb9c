import { StartExecutionCommand } from '@aws-sdk/client-sfn';
import { and, eq } from 'drizzle-orm';
import type { Context } from 'hono';
import * as v from 'valibot';
import { aggregates } from '../../../schema/tables/index.ts';
import { stateMachineArn } from '../../shared/aws.ts';
import { BadRequest, NotFound, ServiceUnavailable } from '../../shared/errors.ts';
import type { AppEnv } from '../context.ts';
import { findImage } from '../glance/images.ts';
import { aggregatesExtension } from '../nova/os-aggregates.ts';
import { authorize } from '../policy.ts';
import { route } from '../route.ts';
import { defineFace, translatedRoute, v3Route } from './face.ts';
import { atLeast } from './microversion.ts';
import { novaTime, novaTimeOrNull } from './nova-time.ts';
import { strictQuery } from './query.ts';

// os-aggregates (clients-and-microversions.md §4.1): v3's aggregates under v2.1's statuses. Create and
// every action answer 200 with the aggregate, delete 200 with no body; `deleted` is a boolean and the
// times are Nova's. 2.41 names each aggregate's uuid. 2.81's image pre-cache has no v3 counterpart
// (Havana had no image cache to fill), so it is the one route here with a handler of its own.
const AGGREGATES = '/v3/os-aggregates';

interface AggregateView {
  uuid?: string;
  created_at: string;
  updated_at: string | null;
  [key: string]: unknown;
}

function aggregateV21(c: Context<AppEnv>, { uuid, created_at, updated_at, ...rest }: AggregateView) {
  return {
    ...rest,
    ...(atLeast(c, 41) ? { uuid } : {}),
    created_at: novaTime(created_at),
    updated_at: novaTimeOrNull(updated_at),
    deleted: false,
    deleted_at: null,
  };
}

function oneAggregate(c: Context<AppEnv>, body: unknown) {
  return {
    status: 200,
    body: { aggregate: aggregateV21(c, (body as { aggregate: AggregateView }).aggregate) },
  };
}

const Name = v.pipe(v.string(), v.trim(), v.minLength(1, 'must not be empty'), v.maxLength(255));
const Zone = v.optional(v.nullable(Name));

const CreateAggregate = v.strictObject({
  aggregate: v.strictObject({ name: Name, availability_zone: Zone }),
});
const UpdateAggregate = v.strictObject({
  aggregate: v.strictObject({ name: v.optional(Name), availability_zone: Zone }),
});
const HostRef = v.strictObject({ host: Name });
const AggregateAction = v.strictObject({
  add_host: v.optional(HostRef),
  remove_host: v.optional(HostRef),
  set_metadata: v.optional(
    v.strictObject({
      metadata: v.record(
        v.pipe(v.string(), v.minLength(1), v.maxLength(255)),
        v.nullable(v.pipe(v.string(), v.maxLength(255))),
      ),
    }),
  ),
});

const CacheImages = v.strictObject({
  cache: v.pipe(
    v.array(v.strictObject({ id: v.pipe(v.string(), v.uuid('must be an image uuid')) })),
    v.minLength(1, 'must name at least one image'),
    v.check((refs) => new Set(refs.map((ref) => ref.id)).size === refs.length, 'Duplicate images in request'),
  ),
});

/**
 * Nova checks every image before any host is asked (conductor API cache_images), then casts and
 * answers: the hosts download in the cache-images workflow, which reports per host as it goes.
 */
const cacheImagesRoute = route({
  method: 'post',
  path: '/v2.1/os-aggregates/:aggregate_id/images',
  summary: 'Pre-cache images on every host of an aggregate (admin, 2.81)',
  body: CacheImages,
  since: 81,
  responses: { 202: 'accepted: the hosts download the images in the background (no body)' },
  handler: async (c, { body }) => {
    authorize(c.var.caller, 'compute_extension:os-aggregates');
    const rawId = c.req.param('aggregate_id') ?? '';
    if (!/^\d+$/.test(rawId)) {
      throw new BadRequest(`Invalid input for field 'id': aggregate id ${rawId} must be an integer`);
    }
    const db = c.var.db.$primary;
    const [aggregate] = await db
      .select({ id: aggregates.id })
      .from(aggregates)
      .where(and(eq(aggregates.id, Number(rawId)), eq(aggregates.deleted, 0)));
    if (!aggregate) throw new NotFound(`Aggregate ${rawId} could not be found.`);
    const imageIds = body.cache.map((ref) => ref.id);
    const found = await Promise.all(imageIds.map((imageId) => findImage(db, c.var.caller, imageId)));
    const missing = imageIds.find((_, index) => !found[index]);
    if (missing)
      throw new BadRequest(`Invalid input for field 'cache': image ${missing} could not be found.`);
    try {
      await c.var.sfn.send(
        new StartExecutionCommand({
          stateMachineArn: stateMachineArn(c.var.config, 'cache-images'),
          // The request id names the execution, so an operator finds its report from the API's answer.
          name: `aggregate-${aggregate.id}-images-${c.var.requestId}`,
          input: JSON.stringify({ aggregate_id: aggregate.id, image_ids: imageIds }),
        }),
      );
    } catch (error) {
      throw new ServiceUnavailable(
        `The cache-images workflow could not be started: ${(error as Error).message}`,
      );
    }
    return c.body(null, 202);
  },
});

export const aggregatesFace = defineFace({
  alias: 'os-aggregates',
  routes: [
    strictQuery(
      translatedRoute({
        method: 'get',
        path: '/v2.1/os-aggregates',
        summary: 'List aggregates (admin)',
        target: v3Route(aggregatesExtension, 'get', AGGREGATES),
        responses: { 200: 'aggregates' },
        response: (c, body) => ({
          body: {
            aggregates: (body as { aggregates: AggregateView[] }).aggregates.map((item) =>
              aggregateV21(c, item),
            ),
          },
        }),
      }),
      102,
    ),
    translatedRoute({
      method: 'post',
      path: '/v2.1/os-aggregates',
      summary: 'Create an aggregate, optionally as an availability zone (admin)',
      body: CreateAggregate,
      target: v3Route(aggregatesExtension, 'post', AGGREGATES),
      responses: { 200: 'aggregate (without hosts and metadata)' },
      response: oneAggregate,
    }),
    strictQuery(
      translatedRoute({
        method: 'get',
        path: '/v2.1/os-aggregates/:aggregate_id',
        summary: 'Show an aggregate with its hosts and metadata (admin)',
        target: v3Route(aggregatesExtension, 'get', `${AGGREGATES}/:aggregate_id`),
        responses: { 200: 'aggregate' },
        response: oneAggregate,
      }),
      102,
    ),
    translatedRoute({
      method: 'put',
      path: '/v2.1/os-aggregates/:aggregate_id',
      summary: 'Rename an aggregate or change its availability zone (admin)',
      body: UpdateAggregate,
      target: v3Route(aggregatesExtension, 'put', `${AGGREGATES}/:aggregate_id`),
      responses: { 200: 'aggregate' },
      response: oneAggregate,
    }),
    translatedRoute({
      method: 'delete',
      path: '/v2.1/os-aggregates/:aggregate_id',
      summary: 'Delete an aggregate that has no hosts (admin)',
      target: v3Route(aggregatesExtension, 'delete', `${AGGREGATES}/:aggregate_id`),
      responses: { 200: 'deleted (no body)' },
      response: () => ({ status: 200 }),
    }),
    translatedRoute({
      method: 'post',
      path: '/v2.1/os-aggregates/:aggregate_id/action',
      summary: 'Aggregate action: add_host, remove_host {host} or set_metadata {metadata} (admin)',
      body: AggregateAction,
      target: v3Route(aggregatesExtension, 'post', `${AGGREGATES}/:aggregate_id/action`),
      responses: { 200: 'aggregate' },
      response: oneAggregate,
    }),
    cacheImagesRoute,
  ],
  microversions: [
    {
      minor: 41,
      change: 'every aggregate view names its uuid',
      routes: [
        '/v2.1/os-aggregates',
        '/v2.1/os-aggregates/{aggregate_id}',
        '/v2.1/os-aggregates/{aggregate_id}/action',
      ],
    },
    {
      minor: 81,
      change: 'POST /os-aggregates/{id}/images pre-caches images on the hosts of the aggregate',
      routes: ['/v2.1/os-aggregates/{aggregate_id}/images'],
    },
    {
      minor: 102,
      change: 'unknown query parameters are a 400 on every GET',
      routes: ['/v2.1/os-aggregates', '/v2.1/os-aggregates/{aggregate_id}'],
    },
  ],
});
