import * as v from 'valibot';
import { NetworkError } from '../../network/errors.ts';
import {
  deleteNetworkQuotaLimits,
  NETWORK_QUOTA_DEFAULTS,
  NETWORK_QUOTA_RESOURCES,
  type NetworkQuotaLimits,
  type NetworkQuotaResource,
  networkQuotaLimits,
  networkQuotaUsage,
  projectsWithOwnNetworkQuotas,
  setNetworkQuotaLimits,
} from '../../network/quotas.ts';
import type { Caller } from '../context.ts';
import { parseOrBadRequest } from '../middleware/validate.ts';
import { type Route, route } from '../route.ts';
import { neutronObject, requireAdmin } from './attributes.ts';

// /network/v2.0/quotas: the networking quotas per project (functions/network/quotas.ts), as the
// `quota` extension serves them and `openstack quota show|set` reads and writes them (the CLI merges
// them with compute's). A member reads only its own project's; only an admin changes them.

const isResource = (name: string): name is NetworkQuotaResource => name in NETWORK_QUOTA_DEFAULTS;

/** Neutron converts numeric strings; -1 is unlimited. */
const Limit = v.pipe(
  v.union([v.number(), v.pipe(v.string(), v.regex(/^-?\d{1,10}$/, 'must be an integer'))]),
  v.transform(Number),
  v.integer('must be an integer'),
  v.minValue(-1, 'must be -1 (unlimited) or more'),
  v.maxValue(2 ** 31 - 1, 'is too large'),
);

/** `force` and `check_limit` are flags, given as booleans or as their text. */
const Flag = v.union([
  v.boolean(),
  v.pipe(
    v.string(),
    v.transform((text) => text.toLowerCase()),
    v.picklist(['true', 'false'], 'must be true or false'),
    v.transform((text) => text === 'true'),
  ),
]);

const UpdateQuota = neutronObject({ quota: v.record(v.string(), v.unknown()) });

function readLimits(quota: Record<string, unknown>): {
  limits: Partial<NetworkQuotaLimits>;
  checkLimit: boolean;
} {
  const { force, check_limit: checkLimit, ...rest } = quota;
  const unknown = Object.keys(rest).filter((name) => !isResource(name));
  if (unknown.length > 0) {
    throw new NetworkError(400, 'HTTPBadRequest', `Unrecognized attribute(s) '${unknown.join(', ')}'`);
  }
  const limits: Partial<NetworkQuotaLimits> = {};
  for (const [name, value] of Object.entries(rest)) {
    limits[name as NetworkQuotaResource] = parseOrBadRequest(v.object({ [name]: Limit }), { [name]: value })[
      name
    ] as number;
  }
  const forced = force === undefined ? false : parseOrBadRequest(v.object({ force: Flag }), { force }).force;
  const checked =
    checkLimit === undefined
      ? false
      : parseOrBadRequest(v.object({ check_limit: Flag }), { check_limit: checkLimit }).check_limit;
  return { limits, checkLimit: checked && !forced };
}

/** A member sees its own project's quotas; another project's are an admin's (Neutron answers 403). */
function checkQuotaReader(caller: Caller, projectId: string): void {
  if (!caller.isAdmin && caller.projectId !== projectId) {
    throw new NetworkError(
      403,
      'AdminRequired',
      'User does not have admin privileges: Only admin is authorized to access quotas for another tenant.',
    );
  }
}

const QUOTA_PATH = '/network/v2.0/quotas/:project_id';

export const quotasRoutes: Route[] = [
  route({
    method: 'get',
    path: '/network/v2.0/quotas',
    summary: 'List the projects whose networking quotas differ from the defaults (admin)',
    responses: { 200: 'quotas: each project id with its limits' },
    handler: async (c) => {
      requireAdmin(c.var.caller, 'get_quota');
      const projects = await projectsWithOwnNetworkQuotas(c.var.db.$primary);
      return c.json({
        quotas: projects.map(({ projectId, limits }) => ({
          ...limits,
          project_id: projectId,
          tenant_id: projectId,
        })),
      });
    },
  }),
  route({
    method: 'get',
    path: QUOTA_PATH,
    summary: "Show a project's networking quotas",
    responses: { 200: 'quota: the limit of each resource' },
    handler: async (c) => {
      const projectId = c.req.param('project_id') ?? '';
      checkQuotaReader(c.var.caller, projectId);
      return c.json({ quota: await networkQuotaLimits(c.var.db.$primary, projectId) });
    },
  }),
  route({
    method: 'get',
    path: `${QUOTA_PATH}/default`,
    summary: 'Show the default networking quotas',
    responses: { 200: 'quota: the default limit of each resource' },
    handler: (c) => {
      checkQuotaReader(c.var.caller, c.req.param('project_id') ?? '');
      return c.json({ quota: { ...NETWORK_QUOTA_DEFAULTS } });
    },
  }),
  route({
    method: 'get',
    path: `${QUOTA_PATH}/details`,
    summary: "Show a project's networking quotas with what it uses",
    responses: { 200: 'quota: limit, used and reserved of each resource' },
    handler: async (c) => {
      const projectId = c.req.param('project_id') ?? '';
      checkQuotaReader(c.var.caller, projectId);
      const db = c.var.db.$primary;
      const [limits, usage] = await Promise.all([
        networkQuotaLimits(db, projectId),
        networkQuotaUsage(db, projectId),
      ]);
      // Reservations are taken and committed in one transaction here, so nothing is ever reserved.
      const quota = Object.fromEntries(
        NETWORK_QUOTA_RESOURCES.map((resource) => [
          resource,
          { limit: limits[resource], used: usage[resource], reserved: 0 },
        ]),
      );
      return c.json({ quota });
    },
  }),
  route({
    method: 'put',
    path: QUOTA_PATH,
    summary: "Set a project's networking quotas (admin); check_limit refuses a limit below what is used",
    body: UpdateQuota,
    responses: { 200: 'quota: the limit of each resource after the change' },
    handler: async (c, { body }) => {
      requireAdmin(c.var.caller, 'update_quota');
      const projectId = c.req.param('project_id') ?? '';
      const { limits, checkLimit } = readLimits(body.quota);
      const db = c.var.db.$primary;
      if (checkLimit) {
        const usage = await networkQuotaUsage(db, projectId);
        for (const [resource, limit] of Object.entries(limits) as Array<[NetworkQuotaResource, number]>) {
          if (limit >= 0 && limit < usage[resource]) {
            throw new NetworkError(
              400,
              'InvalidQuotaValue',
              `Quota limit ${limit} for ${resource} must be greater than or equal to already used ${usage[resource]} and reserved 0.`,
            );
          }
        }
      }
      await setNetworkQuotaLimits(db, projectId, limits);
      return c.json({ quota: await networkQuotaLimits(db, projectId) });
    },
  }),
  route({
    method: 'delete',
    path: QUOTA_PATH,
    summary: "Put a project's networking quotas back to the defaults (admin)",
    responses: { 204: 'nothing' },
    handler: async (c) => {
      requireAdmin(c.var.caller, 'delete_quota');
      await deleteNetworkQuotaLimits(c.var.db.$primary, c.req.param('project_id') ?? '');
      return c.body(null, 204);
    },
  }),
];
