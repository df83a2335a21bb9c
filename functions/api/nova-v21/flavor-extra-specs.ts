import * as v from 'valibot';
import { flavorExtraSpecsExtension } from '../nova/flavor-extra-specs.ts';
import { defineFace, translatedRoute, v3Route } from './face.ts';
import { strictQuery } from './flavor-query.ts';

// os-extra_specs (clients-and-microversions.md §4.1): v3's flavor-extra-specs under v2.1's name, with
// v2.1's codes (set answers 200, delete 200) and its value types: strings and numbers, not booleans.
const BASE = '/v3/flavors/:flavor_id/flavor-extra-specs';

const SpecMap = v.record(
  v.pipe(
    v.string(),
    v.regex(
      /^[a-zA-Z0-9-_:. ]{1,255}$/,
      'extra spec keys hold 1 to 255 letters, digits, "-", "_", ":", "." or spaces',
    ),
  ),
  v.pipe(
    v.union([v.string(), v.number()], 'extra spec values are strings or numbers'),
    v.check((value) => String(value).length <= 255, 'extra spec values hold at most 255 characters'),
  ),
);

export const flavorExtraSpecsFace = defineFace({
  alias: 'flavor-extra-specs',
  routes: [
    strictQuery(
      translatedRoute({
        method: 'get',
        path: '/v2.1/flavors/:flavor_id/os-extra_specs',
        summary: "List a flavor's extra specs",
        target: v3Route(flavorExtraSpecsExtension, 'get', BASE),
        responses: { 200: 'extra_specs: {key: value}' },
      }),
      102,
    ),
    translatedRoute({
      method: 'post',
      path: '/v2.1/flavors/:flavor_id/os-extra_specs',
      summary: 'Set extra specs (admin): keys given are created or replaced',
      body: v.strictObject({ extra_specs: SpecMap }),
      target: v3Route(flavorExtraSpecsExtension, 'post', BASE),
      responses: { 200: 'extra_specs as set' },
      response: (_c, body) => ({ status: 200, body }),
    }),
    strictQuery(
      translatedRoute({
        method: 'get',
        path: '/v2.1/flavors/:flavor_id/os-extra_specs/:key',
        summary: 'Show one extra spec',
        target: v3Route(flavorExtraSpecsExtension, 'get', `${BASE}/:key`),
        responses: { 200: '{key: value}' },
      }),
      102,
    ),
    translatedRoute({
      method: 'put',
      path: '/v2.1/flavors/:flavor_id/os-extra_specs/:key',
      summary: 'Create or replace one extra spec (admin); the body key must match the URL',
      body: SpecMap,
      target: v3Route(flavorExtraSpecsExtension, 'put', `${BASE}/:key`),
      responses: { 200: '{key: value}' },
    }),
    translatedRoute({
      method: 'delete',
      path: '/v2.1/flavors/:flavor_id/os-extra_specs/:key',
      summary: 'Delete one extra spec (admin)',
      target: v3Route(flavorExtraSpecsExtension, 'delete', `${BASE}/:key`),
      responses: { 200: 'deleted' },
      response: () => ({ status: 200 }),
    }),
  ],
  microversions: [
    {
      minor: 102,
      change: 'unknown query parameters on list and show are a 400',
      routes: ['/v2.1/flavors/{flavor_id}/os-extra_specs', '/v2.1/flavors/{flavor_id}/os-extra_specs/{key}'],
    },
  ],
});
