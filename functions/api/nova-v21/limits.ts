import { projectLimits, projectUsage } from '../../compute/quotas.ts';
import { Forbidden } from '../../shared/errors.ts';
import { authorize } from '../policy.ts';
import { route } from '../route.ts';
import { defineFace } from './face.ts';
import { atLeast } from './microversion.ts';
import { lastQueryValues, strictQuery } from './query.ts';
import { SERVER_GROUP_QUOTAS } from './quota-view.ts';

// GET /limits as Nova's v2.1 builds it: the project's quota limits under their absolute-limit names and
// what it uses, always both (v2.1 has no optional os-used-limits). 2.36 drops the network limits,
// 2.39 maxImageMeta, 2.57 the personality limits. Server groups are not served, so no quota is kept
// for them: their limits are Nova's defaults (quota-view.ts) and nothing is used. No floating IPs or security groups
// exist either, so those are never used.

export const limitsFace = defineFace({
  alias: 'limits',
  routes: [
    strictQuery(
      route({
        method: 'get',
        path: '/v2.1/limits',
        summary: "A project's absolute limits and usage (tenant_id: another project's, admin)",
        responses: { 200: 'limits: {rate: [], absolute: {...}}' },
        handler: async (c) => {
          const caller = c.var.caller;
          authorize(caller, 'compute_extension:limits');
          const tenantId = lastQueryValues(c).tenant_id;
          if (tenantId !== undefined && !caller.isAdmin) {
            throw new Forbidden(
              "Policy doesn't allow compute_extension:limits to be performed for another project.",
            );
          }
          const projectId = tenantId ?? caller.projectId;
          const [limits, usage] = await Promise.all([
            projectLimits(c.var.db, projectId),
            projectUsage(c.var.db, projectId),
          ]);
          const networkLimits = atLeast(c, 36)
            ? {}
            : {
                maxTotalFloatingIps: limits.floating_ips,
                maxSecurityGroups: limits.security_groups,
                maxSecurityGroupRules: limits.security_group_rules,
                totalFloatingIpsUsed: 0,
                totalSecurityGroupsUsed: 0,
              };
          const personalityLimits = atLeast(c, 57)
            ? {}
            : {
                maxPersonality: limits.injected_files,
                maxPersonalitySize: limits.injected_file_content_bytes,
              };
          const absolute = {
            maxTotalRAMSize: limits.ram,
            maxTotalInstances: limits.instances,
            maxTotalCores: limits.cores,
            maxTotalKeypairs: limits.key_pairs,
            maxServerMeta: limits.metadata_items,
            ...(atLeast(c, 39) ? {} : { maxImageMeta: limits.metadata_items }),
            ...personalityLimits,
            maxServerGroups: SERVER_GROUP_QUOTAS.server_groups,
            maxServerGroupMembers: SERVER_GROUP_QUOTAS.server_group_members,
            totalRAMUsed: usage.ram,
            totalCoresUsed: usage.cores,
            totalInstancesUsed: usage.instances,
            totalServerGroupsUsed: 0,
            ...networkLimits,
          };
          // Rate limits belong to the edge in front of the API, not to Nova: none are reported.
          return c.json({ limits: { rate: [], absolute } });
        },
      }),
      75,
      ['tenant_id'],
    ),
  ],
  microversions: [
    {
      minor: 36,
      change:
        'maxTotalFloatingIps, maxSecurityGroups, maxSecurityGroupRules, totalFloatingIpsUsed and totalSecurityGroupsUsed leave the limits',
      routes: ['/v2.1/limits'],
    },
    { minor: 39, change: 'maxImageMeta leaves the limits', routes: ['/v2.1/limits'] },
    { minor: 57, change: 'maxPersonality and maxPersonalitySize leave the limits', routes: ['/v2.1/limits'] },
    { minor: 75, change: 'unknown query parameters are a 400', routes: ['/v2.1/limits'] },
    {
      minor: 102,
      change: 'unknown query parameters are a 400 on every GET (limits refuses them from 2.75)',
      routes: ['/v2.1/limits'],
    },
  ],
});
