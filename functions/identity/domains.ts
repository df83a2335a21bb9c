// Keystone's domains, reduced to the one every Keystone deployment has: all projects, users and roles
// live in it, so clients that name a domain (user_domain_name: Default) work unchanged.
export const DEFAULT_DOMAIN = { id: 'default', name: 'Default' } as const;

/** Whether a Keystone domain reference (`{"id": ...}` or `{"name": ...}`) names the default domain. */
export function isDefaultDomain(ref: { id?: string; name?: string }): boolean {
  return ref.id !== undefined ? ref.id === DEFAULT_DOMAIN.id : ref.name === DEFAULT_DOMAIN.name;
}
