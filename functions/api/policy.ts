import { ConfigError } from '../shared/config.ts';
import { Forbidden } from '../shared/errors.ts';
import type { Caller } from './context.ts';

// Who may do what, one rule per action. `admin_or_owner` lets members act on their own project's
// resources (ownership itself is enforced by scoping queries to the caller's project, so another
// project's resource is a 404, never a 403).
export type PolicyRule = 'admin_api' | 'admin_or_owner';

export const POLICY = {
  'compute:create': 'admin_or_owner',
  'compute:get': 'admin_or_owner',
  'compute:get_all': 'admin_or_owner',
  'compute:get_all_tenants': 'admin_api',
  'compute:delete': 'admin_or_owner',
  'compute:extended_server_attributes': 'admin_api',
  'compute_extension:flavors': 'admin_or_owner',
  'compute_agent:host_credentials': 'admin_api',
  'compute_extension:database_replicas': 'admin_api',
  'compute_extension:os-scheduler': 'admin_api',
  'compute_extension:os-scheduler-hints': 'admin_or_owner',
  'compute_extension:keypairs': 'admin_or_owner',
  'compute_extension:flavor-manage': 'admin_api',
  'compute_extension:flavor-extra-specs:index': 'admin_or_owner',
  'compute_extension:flavor-extra-specs:show': 'admin_or_owner',
  'compute_extension:flavor-extra-specs:create': 'admin_api',
  'compute_extension:flavor-extra-specs:update': 'admin_api',
  'compute_extension:flavor-extra-specs:delete': 'admin_api',
  'compute_extension:os-flavor-access': 'admin_api',
  'compute_extension:os-flavor-access:add_tenant_access': 'admin_api',
  'compute_extension:os-flavor-access:remove_tenant_access': 'admin_api',
  'compute_extension:os-availability-zone:list': 'admin_or_owner',
  'compute_extension:os-availability-zone:detail': 'admin_api',
  'compute_extension:os-hypervisors': 'admin_api',
  'compute_extension:os-hosts': 'admin_api',
  'compute_extension:os-services': 'admin_api',
  'compute_extension:os-aggregates': 'admin_api',
  'compute_extension:os-migrations': 'admin_api',
  'compute_extension:os-network-migrations': 'admin_api',
  'compute_extension:server-migrations': 'admin_api',
  'compute_extension:server-migrations:cancel': 'admin_api',
  'compute_extension:server-migrations:force_complete': 'admin_api',
  'compute_extension:os-instance-actions': 'admin_or_owner',
  // Event tracebacks name hosts and internals: admins only.
  'compute_extension:os-instance-actions:events:traceback': 'admin_api',
  'compute:update': 'admin_or_owner',
  'compute:reboot': 'admin_or_owner',
  'compute:start': 'admin_or_owner',
  'compute:stop': 'admin_or_owner',
  'compute:rebuild': 'admin_or_owner',
  'compute:resize': 'admin_or_owner',
  'compute:confirm_resize': 'admin_or_owner',
  'compute:revert_resize': 'admin_or_owner',
  'compute:get_server_metadata': 'admin_or_owner',
  'compute:update_server_metadata': 'admin_or_owner',
  'compute:delete_server_metadata': 'admin_or_owner',
  'compute_extension:ips': 'admin_or_owner',
  'compute_extension:attach_interfaces': 'admin_or_owner',
  'compute_extension:admin_actions:pause': 'admin_or_owner',
  'compute_extension:admin_actions:unpause': 'admin_or_owner',
  'compute_extension:admin_actions:suspend': 'admin_or_owner',
  'compute_extension:admin_actions:resume': 'admin_or_owner',
  'compute_extension:admin_actions:lock': 'admin_or_owner',
  'compute_extension:admin_actions:unlock': 'admin_or_owner',
  // Lifting a lock an admin set.
  'compute_extension:admin_actions:unlock_override': 'admin_api',
  'compute_extension:admin_actions:migrate': 'admin_api',
  'compute_extension:admin_actions:migrate_live': 'admin_api',
  'compute_extension:admin_actions:reset_state': 'admin_api',
  'compute_extension:evacuate': 'admin_api',
  'compute_extension:quotas:show': 'admin_or_owner',
  'compute_extension:quotas:update': 'admin_api',
  'compute_extension:quotas:delete': 'admin_api',
  'compute_extension:quota_classes:show': 'admin_or_owner',
  'compute_extension:quota_classes:update': 'admin_api',
  'compute_extension:limits': 'admin_or_owner',
  'compute_extension:simple_tenant_usage:show': 'admin_or_owner',
  'compute_extension:simple_tenant_usage:list': 'admin_api',
  // nova-network (deprecated): networks and fixed IPs are the admin's; members see the networks they
  // may use and manage their own project's floating IPs.
  'compute_extension:networks': 'admin_api',
  'compute_extension:networks:view': 'admin_or_owner',
  'compute_extension:networks_associate': 'admin_api',
  'compute_extension:fixed_ips': 'admin_api',
  'compute_extension:floating_ips': 'admin_or_owner',
  'compute_extension:floating_ip_pools': 'admin_or_owner',
  'compute_extension:floating_ips_bulk': 'admin_api',
  'image:get_images': 'admin_or_owner',
  // Identity administration is the admin's. `admin_or_owner` rules let a user act on their own token,
  // user, projects or domain; the handler checks that the target is the caller's own
  // (functions/api/keystone/access.ts).
  'identity:validate_token': 'admin_or_owner',
  'identity:revoke_token': 'admin_or_owner',
  'identity:get_project': 'admin_or_owner',
  'identity:list_projects': 'admin_api',
  'identity:create_project': 'admin_api',
  'identity:update_project': 'admin_api',
  'identity:delete_project': 'admin_api',
  'identity:get_user': 'admin_or_owner',
  'identity:list_user_projects': 'admin_or_owner',
  'identity:change_password': 'admin_or_owner',
  'identity:list_users': 'admin_api',
  'identity:create_user': 'admin_api',
  'identity:update_user': 'admin_api',
  'identity:delete_user': 'admin_api',
  'identity:get_role': 'admin_api',
  'identity:list_roles': 'admin_api',
  'identity:create_role': 'admin_api',
  'identity:update_role': 'admin_api',
  'identity:delete_role': 'admin_api',
  'identity:create_grant': 'admin_api',
  'identity:check_grant': 'admin_api',
  'identity:list_grants': 'admin_api',
  'identity:revoke_grant': 'admin_api',
  'identity:list_role_assignments': 'admin_api',
  'identity:get_domain': 'admin_or_owner',
  'identity:list_domains': 'admin_api',
  'identity:list_services': 'admin_api',
  'identity:get_service': 'admin_api',
  'identity:list_endpoints': 'admin_api',
  'identity:get_endpoint': 'admin_api',
  'identity:list_regions': 'admin_or_owner',
  'identity:get_region': 'admin_or_owner',
} as const satisfies Record<string, PolicyRule>;

export type PolicyAction = keyof typeof POLICY;

function hasRule(name: string): name is PolicyAction {
  return Object.hasOwn(POLICY, name);
}

/** The deployment's POLICY_OVERRIDES win over the defaults; a name that is not a rule is a configuration mistake. */
export function isAllowed(caller: Caller, action: PolicyAction): boolean {
  const overrides = caller.policyOverrides ?? {};
  const unknown = Object.keys(overrides).filter((name) => !hasRule(name));
  if (unknown.length > 0)
    throw new ConfigError(`POLICY_OVERRIDES names unknown rules: ${unknown.join(', ')}`);
  const rule: PolicyRule = overrides[action] ?? POLICY[action];
  return rule === 'admin_or_owner' || caller.isAdmin;
}

export function authorize(caller: Caller, action: PolicyAction): void {
  if (!isAllowed(caller, action)) throw new Forbidden(`Policy doesn't allow ${action} to be performed.`);
}
