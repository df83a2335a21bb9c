/** Keystone's id form: a UUID4 as 32 hex digits. */
export function newIdentityId(): string {
  return crypto.randomUUID().replaceAll('-', '');
}
