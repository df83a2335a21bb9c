import * as v from 'valibot';
import { fromBase64Url, toBase64Url } from '../shared/encoding.ts';

// Identity tokens are signed, not stored: any API worker verifies one with the shared secret and
// no database round trip; revocation is checked separately against revocation events
// (revocations.ts). Format: `v1.<payload base64url>.<HMAC-SHA256 base64url>`.
const AuditId = v.pipe(v.string(), v.regex(/^[A-Za-z0-9_-]{22}$/, 'not an audit id'));

export const TokenClaims = v.object({
  user_id: v.string(),
  user_name: v.string(),
  project_id: v.string(),
  project_name: v.string(),
  roles: v.array(v.object({ id: v.string(), name: v.string() })),
  issued_at: v.number(),
  expires_at: v.number(),
  /** Names this token in revocation events and audit records without revealing the token itself. */
  audit_id: AuditId,
});
export type TokenClaims = v.InferOutput<typeof TokenClaims>;

/** 16 random bytes, base64url without padding: 22 characters, like Keystone's audit ids. */
export function newAuditId(): string {
  return toBase64Url(crypto.getRandomValues(new Uint8Array(16)));
}

async function signingKey(secret: string): Promise<CryptoKey> {
  return crypto.subtle.importKey(
    'raw',
    new TextEncoder().encode(secret),
    { name: 'HMAC', hash: 'SHA-256' },
    false,
    ['sign', 'verify'],
  );
}

export async function issueToken(claims: TokenClaims, secret: string): Promise<string> {
  const payload = toBase64Url(new TextEncoder().encode(JSON.stringify(claims)));
  const signature = await crypto.subtle.sign(
    'HMAC',
    await signingKey(secret),
    new TextEncoder().encode(payload),
  );
  return `v1.${payload}.${toBase64Url(new Uint8Array(signature))}`;
}

/** The claims of a valid, unexpired token; null for anything else (malformed, forged, expired). */
export async function verifyToken(
  token: string,
  secret: string,
  now = Date.now(),
): Promise<TokenClaims | null> {
  const [version, payload, signature] = token.split('.');
  if (version !== 'v1' || !payload || !signature) return null;
  let valid: boolean;
  try {
    valid = await crypto.subtle.verify(
      'HMAC',
      await signingKey(secret),
      fromBase64Url(signature),
      new TextEncoder().encode(payload),
    );
  } catch {
    return null;
  }
  if (!valid) return null;
  const parsed = v.safeParse(TokenClaims, JSON.parse(new TextDecoder().decode(fromBase64Url(payload))));
  if (!parsed.success || parsed.output.expires_at <= now) return null;
  return parsed.output;
}
