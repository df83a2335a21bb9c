import type { Context } from 'hono';
import * as v from 'valibot';
import { IP_TEXT_LENGTH } from '../../../schema/tables/index.ts';
import {
  allocateFloatingIp,
  associateFloatingIp,
  DEFAULT_POOL,
  deallocateFloatingIp,
  disassociateFloatingIp,
  type FloatingIpDetail,
  type FloatingScope,
  listProjectFloatingIps,
  showFloatingIp,
} from '../../network/nova-network/floating-ips.ts';
import { BadRequest, NotFound } from '../../shared/errors.ts';
import type { AppEnv } from '../context.ts';
import { parseOrBadRequest } from '../middleware/validate.ts';
import { authorize } from '../policy.ts';
import { route } from '../route.ts';
import { defineExtension } from './extension.ts';
import { defineAction, type ServerAction } from './server-action-kit.ts';

// os-floating-ips (nova-network, deprecated; functions/api/nova/legacy-network.ts): a project's
// floating IPs, allocated from a pool and given back, and the server actions that put one on a
// server's fixed IP and take it off. Another project's floating IP is a 404; admins reach any.

export const FLOATING_IPS_ALIAS = 'os-floating-ips';

export function floatingIpView(floating: FloatingIpDetail) {
  return {
    id: floating.id,
    ip: floating.address,
    pool: floating.pool,
    fixed_ip: floating.fixed_address,
    instance_id: floating.instance_uuid,
  };
}

function scopeOf(c: Context<AppEnv>): FloatingScope {
  return c.var.caller.isAdmin ? null : c.var.caller.projectId;
}

/** Floating IP ids are the rows' integers; anything else names no floating IP. */
function floatingId(c: Context<AppEnv>): number {
  const raw = c.req.param('floating_ip_id') ?? '';
  if (!/^[1-9]\d{0,15}$/.test(raw)) throw new NotFound(`Floating ip not found for id ${raw}`);
  return Number(raw);
}

const Pool = v.pipe(v.string(), v.minLength(1, 'must not be empty'), v.maxLength(255));
const AllocateFloatingIp = v.nullable(v.strictObject({ pool: v.optional(v.nullable(Pool)) }));

/** The body is optional (Havana's clients send none, or `{"pool": null}` for the default pool). */
async function requestedPool(c: Context<AppEnv>): Promise<string> {
  const text = await c.req.text();
  if (text.trim() === '') return DEFAULT_POOL;
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new BadRequest('Malformed request body: expected a JSON document');
  }
  return parseOrBadRequest(AllocateFloatingIp, json)?.pool ?? DEFAULT_POOL;
}

const Address = v.pipe(v.string(), v.minLength(1, 'Address not specified'), v.maxLength(IP_TEXT_LENGTH));

/** `addFloatingIp` / `removeFloatingIp` on /v3/servers/{id}/action (server-actions.ts dispatches them). */
export const FLOATING_IP_ACTIONS: ServerAction[] = [
  defineAction({
    name: 'addFloatingIp',
    extension: FLOATING_IPS_ALIAS,
    body: v.strictObject({ address: Address, fixed_address: v.optional(Address) }),
    policy: 'compute_extension:floating_ips',
    run: async (c, instance, body) => {
      await associateFloatingIp(c.var.db.$primary, scopeOf(c), instance.uuid, body);
      return c.body(null, 202);
    },
  }),
  defineAction({
    name: 'removeFloatingIp',
    extension: FLOATING_IPS_ALIAS,
    body: v.strictObject({ address: Address }),
    policy: 'compute_extension:floating_ips',
    run: async (c, instance, body) => {
      await disassociateFloatingIp(c.var.db.$primary, scopeOf(c), instance.uuid, body.address);
      return c.body(null, 202);
    },
  }),
];

export const floatingIpsExtension = defineExtension({
  alias: FLOATING_IPS_ALIAS,
  name: 'FloatingIps',
  description: 'nova-network floating IPs (deprecated: use the networking service at /network/v2.0).',
  version: 1,
  core: false,
  history: [
    {
      version: 1,
      change:
        'list, show, allocate from a pool, deallocate; addFloatingIp (with fixed_address), removeFloatingIp',
    },
  ],
  routes: [
    route({
      method: 'get',
      path: '/v3/os-floating-ips',
      summary: "The project's floating IPs (deprecated)",
      responses: { 200: 'floating_ips: [{id, ip, pool, fixed_ip, instance_id}]' },
      handler: async (c) => {
        authorize(c.var.caller, 'compute_extension:floating_ips');
        const rows = await listProjectFloatingIps(c.var.db, c.var.caller.projectId);
        return c.json({ floating_ips: rows.map(floatingIpView) });
      },
    }),
    route({
      method: 'get',
      path: '/v3/os-floating-ips/:floating_ip_id',
      summary: 'Show a floating IP of the project (deprecated)',
      responses: { 200: 'floating_ip: {id, ip, pool, fixed_ip, instance_id}' },
      handler: async (c) => {
        authorize(c.var.caller, 'compute_extension:floating_ips');
        const floating = await showFloatingIp(c.var.db, scopeOf(c), floatingId(c));
        return c.json({ floating_ip: floatingIpView(floating) });
      },
    }),
    route({
      method: 'post',
      path: '/v3/os-floating-ips',
      summary: `Allocate a floating IP to the project from a pool (optional body {"pool": "..."}, default ${DEFAULT_POOL}; 404 when none is left; deprecated)`,
      responses: { 200: 'floating_ip: {id, ip, pool, fixed_ip, instance_id}' },
      handler: async (c) => {
        authorize(c.var.caller, 'compute_extension:floating_ips');
        const pool = await requestedPool(c);
        const floating = await allocateFloatingIp(c.var.db.$primary, c.var.caller.projectId, pool);
        return c.json({ floating_ip: floatingIpView(floating) });
      },
    }),
    route({
      method: 'delete',
      path: '/v3/os-floating-ips/:floating_ip_id',
      summary: 'Give a floating IP back to its pool, taking it off its server first (deprecated)',
      responses: { 202: 'deallocated' },
      handler: async (c) => {
        authorize(c.var.caller, 'compute_extension:floating_ips');
        await deallocateFloatingIp(c.var.db.$primary, scopeOf(c), floatingId(c));
        return c.body(null, 202);
      },
    }),
  ],
});
