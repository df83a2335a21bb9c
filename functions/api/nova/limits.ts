import * as v from 'valibot';
import { projectLimits, projectUsage } from '../../compute/quotas.ts';
import { authorize } from '../policy.ts';
import { route } from '../route.ts';
import { defineExtension } from './extension.ts';
import { USED_LIMITS_ALIAS } from './os-used-limits.ts';

const LimitsQuery = v.object({
  // Admins may look at another project's limits (Havana's os-used-limits `tenant_id`).
  tenant_id: v.optional(v.pipe(v.string(), v.minLength(1), v.maxLength(64))),
});

export const limitsExtension = defineExtension({
  alias: 'limits',
  name: 'Limits',
  description: 'Limits support.',
  version: 1,
  core: false,
  history: [{ version: 1, change: 'absolute limits from the quota set; no rate limits (rate is empty)' }],
  routes: [
    route({
      method: 'get',
      path: '/v3/limits',
      summary: "The caller's absolute limits (and usage, with os-used-limits)",
      query: LimitsQuery,
      responses: { 200: 'limits: absolute, rate' },
      handler: async (c, { query }) => {
        authorize(c.var.caller, 'compute_extension:limits');
        const projectId = c.var.caller.isAdmin
          ? (query.tenant_id ?? c.var.caller.projectId)
          : c.var.caller.projectId;
        const limits = await projectLimits(c.var.db, projectId);
        const absolute: Record<string, number> = {
          maxImageMeta: limits.metadata_items,
          maxPersonality: limits.injected_files,
          maxPersonalitySize: limits.injected_file_content_bytes,
          maxSecurityGroupRules: limits.security_group_rules,
          maxSecurityGroups: limits.security_groups,
          maxServerMeta: limits.metadata_items,
          maxTotalCores: limits.cores,
          maxTotalFloatingIps: limits.floating_ips,
          maxTotalInstances: limits.instances,
          maxTotalKeypairs: limits.key_pairs,
          maxTotalRAMSize: limits.ram,
        };
        if (c.var.extensions.some((extension) => extension.alias === USED_LIMITS_ALIAS)) {
          const usage = await projectUsage(c.var.db, projectId);
          Object.assign(absolute, {
            totalCoresUsed: usage.cores,
            totalInstancesUsed: usage.instances,
            totalRAMUsed: usage.ram,
            // No floating IPs or security groups exist yet.
            totalFloatingIpsUsed: 0,
            totalSecurityGroupsUsed: 0,
          });
        }
        // Rate limits belong to the edge in front of the API, not to Nova: none are reported.
        return c.json({ limits: { absolute, rate: [] } });
      },
    }),
  ],
});
