import type { Context } from 'hono';
import * as v from 'valibot';
import { extraSpecProblem } from '../../compute/flavor-extra-spec-validators.ts';
import { BadRequest } from '../../shared/errors.ts';
import type { AppEnv } from '../context.ts';
import { flavorExtraSpecsExtension } from '../nova/flavor-extra-specs.ts';
import { authorize, type PolicyAction } from '../policy.ts';
import { defineFace, translatedRoute, v3Route } from './face.ts';
import { atLeast } from './microversion.ts';
import { strictQuery } from './query.ts';

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

type Specs = v.InferOutput<typeof SpecMap>;

/**
 * From 2.86, every spec in a namespace Nova knows must be valid (functions/compute/
 * flavor-extra-spec-validators.ts). Nova asks the policy first, so a caller who may not set specs is
 * refused before any is judged, and judges them before looking the flavor up.
 */
function refuseInvalidSpecs(c: Context<AppEnv>, action: PolicyAction, specs: Specs): Specs {
  if (!atLeast(c, 86)) return specs;
  authorize(c.var.caller, action);
  for (const [key, value] of Object.entries(specs)) {
    const problem = extraSpecProblem(key, String(value));
    if (problem) throw new BadRequest(problem);
  }
  return specs;
}

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
      request: (c, body) => ({
        extra_specs: refuseInvalidSpecs(c, 'compute_extension:flavor-extra-specs:create', body.extra_specs),
      }),
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
      request: (c, body) => refuseInvalidSpecs(c, 'compute_extension:flavor-extra-specs:update', body),
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
      minor: 86,
      change:
        'set and update refuse, in a namespace Nova knows, a key it does not know or a value breaking its rule',
      routes: ['/v2.1/flavors/{flavor_id}/os-extra_specs', '/v2.1/flavors/{flavor_id}/os-extra_specs/{key}'],
    },
    {
      minor: 102,
      change: 'unknown query parameters on list and show are a 400',
      routes: ['/v2.1/flavors/{flavor_id}/os-extra_specs', '/v2.1/flavors/{flavor_id}/os-extra_specs/{key}'],
    },
  ],
});
