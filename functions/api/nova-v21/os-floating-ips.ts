import * as v from 'valibot';
import { NotFound } from '../../shared/errors.ts';
import { FLOATING_IPS_ALIAS, floatingIpsExtension } from '../nova/os-floating-ips.ts';
import { defineFace, translatedRoute, v3Route } from './face.ts';
import { atLeast, removedAt } from './microversion.ts';
import { type V21Action, v3Action } from './server-action-kit.ts';

// os-floating-ips (nova-network, deprecated): v3's routes until 2.35, gone from 2.36 with the other
// network proxy APIs; its server actions addFloatingIp and removeFloatingIp stay until 2.43 and are
// gone from 2.44, as in Nova.
const FLOATING_IPS = '/v3/os-floating-ips';

const Address = v.pipe(v.string(), v.minLength(1, 'Address not specified'), v.maxLength(64));

/** The action's body, or (from 2.44) a 404 before the body is read: the action is not there. */
function untilActionsRemoved<TSchema extends v.GenericSchema>(schema: TSchema) {
  return (c: Parameters<V21Action['body']>[0]): TSchema => {
    if (atLeast(c, 44)) throw new NotFound('The resource could not be found.');
    return schema;
  };
}

export const FLOATING_IP_V21_ACTIONS: V21Action[] = [
  v3Action({
    name: 'addFloatingIp',
    body: untilActionsRemoved(v.strictObject({ address: Address, fixed_address: v.optional(Address) })),
    v3Name: 'addFloatingIp',
    v3Value: (_c, value) => value,
  }),
  v3Action({
    name: 'removeFloatingIp',
    body: untilActionsRemoved(v.strictObject({ address: Address })),
    v3Name: 'removeFloatingIp',
    v3Value: (_c, value) => value,
  }),
];

export const floatingIpsFace = defineFace({
  alias: FLOATING_IPS_ALIAS,
  routes: [
    translatedRoute({
      method: 'get',
      path: '/v2.1/os-floating-ips',
      summary: "The project's floating IPs (before 2.36; deprecated)",
      target: v3Route(floatingIpsExtension, 'get', FLOATING_IPS),
      responses: { 200: 'floating_ips: [{id, ip, pool, fixed_ip, instance_id}]' },
    }),
    translatedRoute({
      method: 'get',
      path: '/v2.1/os-floating-ips/:floating_ip_id',
      summary: 'Show a floating IP of the project (before 2.36; deprecated)',
      target: v3Route(floatingIpsExtension, 'get', `${FLOATING_IPS}/:floating_ip_id`),
      responses: { 200: 'floating_ip: {id, ip, pool, fixed_ip, instance_id}' },
    }),
    // No body schema here: the body is optional, and the v3 handler reads it itself.
    translatedRoute({
      method: 'post',
      path: '/v2.1/os-floating-ips',
      summary: 'Allocate a floating IP from a pool (optional body {"pool": "..."}; before 2.36; deprecated)',
      target: v3Route(floatingIpsExtension, 'post', FLOATING_IPS),
      responses: { 200: 'floating_ip: {id, ip, pool, fixed_ip, instance_id}' },
    }),
    translatedRoute({
      method: 'delete',
      path: '/v2.1/os-floating-ips/:floating_ip_id',
      summary: 'Give a floating IP back to its pool (before 2.36; deprecated)',
      target: v3Route(floatingIpsExtension, 'delete', `${FLOATING_IPS}/:floating_ip_id`),
      responses: { 202: 'deallocated' },
    }),
  ].map((served) => removedAt(36, served)),
  microversions: [
    {
      minor: 36,
      change: 'every os-floating-ips route is gone (network proxy APIs)',
      routes: ['/v2.1/os-floating-ips', '/v2.1/os-floating-ips/{floating_ip_id}'],
    },
    {
      minor: 44,
      change: 'the addFloatingIp and removeFloatingIp server actions are gone',
      routes: ['/v2.1/servers/{server_id}/action'],
    },
  ],
});
