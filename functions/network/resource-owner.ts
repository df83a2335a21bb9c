import type { NetworkCaller } from './networks.ts';

// Who may see and change a project's routers, floating IPs and security groups: the project itself
// and admins. Another project's resource is not found, never forbidden, so its existence does not leak.

/** The networking service undoing its own half-made work: it acts on every project. */
export const SERVICE_CALLER: NetworkCaller = { projectId: '', isAdmin: true };

export function ownsResource(caller: NetworkCaller, projectId: string): boolean {
  return caller.isAdmin || caller.projectId === projectId;
}
