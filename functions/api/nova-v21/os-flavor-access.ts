import * as v from 'valibot';
import { Conflict } from '../../shared/errors.ts';
import { findVisibleFlavor } from '../nova/flavors.ts';
import {
  accessList,
  flavorAccessExtension,
  grantFlavorAccess,
  revokeFlavorAccess,
} from '../nova/os-flavor-access.ts';
import { authorize } from '../policy.ts';
import { route } from '../route.ts';
import { defineFace, translatedRoute, v3Route } from './face.ts';
import { atLeast } from './microversion.ts';
import { strictQuery } from './query.ts';

// os-flavor-access with v2.1's action names (`addTenantAccess`/`removeTenantAccess` with `tenant`).
// Before 2.7 a public flavor could be given an access list too (it changes nothing: the flavor stays
// public); from 2.7 that is a 409, as v3 has it at every version.
const Tenant = v.strictObject({ tenant: v.pipe(v.string(), v.minLength(1), v.maxLength(255)) });
const FlavorAction = v.union(
  [v.strictObject({ addTenantAccess: Tenant }), v.strictObject({ removeTenantAccess: Tenant })],
  'the body must hold one action: addTenantAccess or removeTenantAccess',
);

export const flavorAccessFace = defineFace({
  alias: 'os-flavor-access',
  routes: [
    strictQuery(
      translatedRoute({
        method: 'get',
        path: '/v2.1/flavors/:flavor_id/os-flavor-access',
        summary: 'List the projects that may use a private flavor (admin)',
        target: v3Route(flavorAccessExtension, 'get', '/v3/flavors/:flavor_id/os-flavor-access'),
        responses: { 200: 'flavor_access: [{flavor_id, tenant_id}]' },
      }),
      102,
    ),
    route({
      method: 'post',
      path: '/v2.1/flavors/:flavor_id/action',
      summary: 'Flavor action: addTenantAccess or removeTenantAccess {tenant} (admin)',
      body: FlavorAction,
      responses: { 200: 'flavor_access: the access list after the change' },
      handler: async (c, { body }) => {
        authorize(
          c.var.caller,
          'addTenantAccess' in body
            ? 'compute_extension:os-flavor-access:add_tenant_access'
            : 'compute_extension:os-flavor-access:remove_tenant_access',
        );
        const db = c.var.db.$primary;
        const flavor = await findVisibleFlavor(db, c.var.caller, c.req.param('flavor_id') ?? '');
        if ('addTenantAccess' in body) {
          if (flavor.is_public && atLeast(c, 7)) throw new Conflict('Can not add access to a public flavor.');
          await grantFlavorAccess(db, flavor, body.addTenantAccess.tenant);
        } else {
          await revokeFlavorAccess(db, flavor, body.removeTenantAccess.tenant);
        }
        return c.json({ flavor_access: await accessList(db, flavor) });
      },
    }),
  ],
  microversions: [
    {
      minor: 7,
      change: 'addTenantAccess on a public flavor is a 409 (before 2.7 it was recorded)',
      routes: ['/v2.1/flavors/{flavor_id}/action'],
    },
    {
      minor: 102,
      change: 'unknown query parameters on the access list are a 400',
      routes: ['/v2.1/flavors/{flavor_id}/os-flavor-access'],
    },
  ],
});
