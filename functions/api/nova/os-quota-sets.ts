import * as v from 'valibot';
import {
  classLimits,
  DEFAULT_QUOTA_CLASS,
  deleteProjectQuotas,
  isQuotaResource,
  projectLimits,
  projectUsage,
  type QuotaLimits,
  type QuotaResource,
  setProjectQuotas,
} from '../../compute/quotas.ts';
import { BadRequest, NotFound } from '../../shared/errors.ts';
import type { Caller } from '../context.ts';
import { authorize } from '../policy.ts';
import { route } from '../route.ts';
import { defineExtension } from './extension.ts';

// Havana accepts limits as numbers or numeric strings; -1 is unlimited.
export const QuotaLimit = v.pipe(
  v.union([v.number(), v.pipe(v.string(), v.regex(/^-?\d+$/, 'must be an integer'))]),
  v.transform(Number),
  v.integer('must be an integer'),
  v.minValue(-1, 'must be -1 (unlimited) or more'),
);

/** Havana refuses unknown resources by name rather than dropping them. */
export function limitsFrom(input: Record<string, unknown>, field: string): Partial<QuotaLimits> {
  const unknown = Object.keys(input).filter((key) => !isQuotaResource(key));
  if (unknown.length > 0) throw new BadRequest(`Bad key(s) ${unknown.join(', ')} in ${field}`);
  const limits: Partial<QuotaLimits> = {};
  for (const [key, value] of Object.entries(input)) {
    const parsed = v.safeParse(QuotaLimit, value);
    if (!parsed.success) {
      throw new BadRequest(`Invalid input for field '${field}.${key}': ${parsed.issues[0].message}`);
    }
    limits[key as QuotaResource] = parsed.output;
  }
  return limits;
}

const UpdateQuotaSet = v.object({
  quota_set: v.pipe(
    v.record(v.string(), v.unknown()),
    v.check((set) => Object.keys(set).length > 0, 'quota_set must name at least one resource'),
  ),
});

const TRUE_STRINGS = new Set(['true', '1', 'yes', 'on']);

/** A member may read its own project's quotas only; any other project is simply not found. */
export function checkQuotaProject(caller: Caller, projectId: string): void {
  if (!caller.isAdmin && caller.projectId !== projectId) {
    throw new NotFound(`Quota for project ${projectId} could not be found.`);
  }
}

export const quotaSetsExtension = defineExtension({
  alias: 'os-quota-sets',
  name: 'Quotas',
  description: 'Quotas management support.',
  version: 1,
  core: false,
  history: [{ version: 1, change: 'show, defaults, update (force), delete per project' }],
  routes: [
    route({
      method: 'get',
      path: '/v3/os-quota-sets/:tenant_id',
      summary: "Show a project's quota set",
      responses: { 200: 'quota_set: every resource limit and id' },
      handler: async (c) => {
        authorize(c.var.caller, 'compute_extension:quotas:show');
        const projectId = c.req.param('tenant_id') ?? '';
        checkQuotaProject(c.var.caller, projectId);
        return c.json({ quota_set: { ...(await projectLimits(c.var.db, projectId)), id: projectId } });
      },
    }),
    route({
      method: 'get',
      path: '/v3/os-quota-sets/:tenant_id/defaults',
      summary: 'Show the default quota set',
      responses: { 200: 'quota_set: the default class limits and id' },
      handler: async (c) => {
        authorize(c.var.caller, 'compute_extension:quotas:show');
        const projectId = c.req.param('tenant_id') ?? '';
        checkQuotaProject(c.var.caller, projectId);
        return c.json({
          quota_set: { ...(await classLimits(c.var.db, DEFAULT_QUOTA_CLASS)), id: projectId },
        });
      },
    }),
    route({
      method: 'put',
      path: '/v3/os-quota-sets/:tenant_id',
      summary: "Update a project's quota set",
      body: UpdateQuotaSet,
      responses: { 200: 'quota_set after the update' },
      handler: async (c, { body }) => {
        authorize(c.var.caller, 'compute_extension:quotas:update');
        const projectId = c.req.param('tenant_id') ?? '';
        const { force, ...rest } = body.quota_set;
        const forced = force !== undefined && TRUE_STRINGS.has(String(force).toLowerCase());
        const limits = limitsFrom(rest, 'quota_set');
        const db = c.var.db.$primary;
        if (!forced) {
          // Without force, a limit below what the project already uses is refused, as in Havana.
          const usage = await projectUsage(db, projectId);
          for (const [resource, limit] of Object.entries(limits)) {
            const used = usage[resource as keyof typeof usage] ?? 0;
            if (limit >= 0 && limit < used) {
              throw new BadRequest(
                `Quota limit ${limit} for ${resource} must be greater than or equal to already used ${used}`,
              );
            }
          }
        }
        await setProjectQuotas(db, projectId, limits);
        return c.json({ quota_set: { ...(await projectLimits(db, projectId)), id: projectId } });
      },
    }),
    route({
      method: 'delete',
      path: '/v3/os-quota-sets/:tenant_id',
      summary: "Delete a project's own limits (it returns to the defaults)",
      responses: { 204: 'limits reset' },
      handler: async (c) => {
        authorize(c.var.caller, 'compute_extension:quotas:delete');
        await deleteProjectQuotas(c.var.db.$primary, c.req.param('tenant_id') ?? '');
        return c.body(null, 204);
      },
    }),
  ],
});
