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
} as const satisfies Record<string, PolicyRule>;

export type PolicyAction = keyof typeof POLICY;

export function isAllowed(caller: Caller, action: PolicyAction): boolean {
  const rule: PolicyRule = POLICY[action];
  return rule === 'admin_or_owner' || caller.isAdmin;
}

export function authorize(caller: Caller, action: PolicyAction): void {
  if (!isAllowed(caller, action)) throw new Forbidden(`Policy doesn't allow ${action} to be performed.`);
}
