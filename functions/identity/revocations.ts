import { and, eq, gte, isNull, lt, or } from 'drizzle-orm';
import { unionAll } from 'drizzle-orm/mysql-core';
import type { PrimaryDb, PrimaryWriter } from '../../schema/db.ts';
import { revocationEvents } from '../../schema/tables/index.ts';
import { type TokenClaims, verifyToken } from './tokens.ts';

// Revocation in Keystone's manner (keystone/models/revoke_model.py): tokens are stored nowhere, so
// revoking one, or everything a user or project holds, records an event that validation checks.
// Events are written to and read from the primary: a worker that validates a token right after another
// revoked it must see the event, and workers keep nothing in memory between requests.

/** What an event matches: one token by audit id, or a user's and/or a project's tokens issued until now. */
export type RevocationTarget =
  | { auditId: string }
  | { userId: string; projectId?: string }
  | { projectId: string; userId?: string };

// Expired events are purged by the writes that add events, a bounded batch at a time: the table only
// grows through them, so it stays as small as the revocations of one token lifetime.
const PURGE_BATCH = 1000;

export async function recordRevocations(
  db: PrimaryWriter,
  targets: RevocationTarget[],
  tokenTtlSeconds: number,
): Promise<void> {
  if (targets.length === 0) return;
  const now = new Date();
  // Every token the event can match was issued before now, so all of them are expired by this time.
  const expiresAt = new Date(now.getTime() + tokenTtlSeconds * 1000);
  await db.insert(revocationEvents).values(
    targets.map((target) => ({
      audit_id: 'auditId' in target ? target.auditId : null,
      user_id: 'userId' in target ? (target.userId ?? null) : null,
      project_id: 'projectId' in target ? (target.projectId ?? null) : null,
      issued_before: now,
      revoked_at: now,
      expires_at: expiresAt,
    })),
  );
  await db.delete(revocationEvents).where(lt(revocationEvents.expires_at, now)).limit(PURGE_BATCH);
}

/**
 * Whether an event revokes the token: its audit id, or a user, project or user-on-project event
 * recorded at or after the token was issued. One query; each branch is answered by its own index.
 */
export async function isRevoked(db: PrimaryDb, claims: TokenClaims): Promise<boolean> {
  const issuedAt = new Date(claims.issued_at);
  const hit = { id: revocationEvents.id };
  const events = revocationEvents;
  const matches = await unionAll(
    db.select(hit).from(events).where(eq(events.audit_id, claims.audit_id)).limit(1),
    db
      .select(hit)
      .from(events)
      .where(
        and(
          eq(events.user_id, claims.user_id),
          gte(events.issued_before, issuedAt),
          or(isNull(events.project_id), eq(events.project_id, claims.project_id)),
        ),
      )
      .limit(1),
    db
      .select(hit)
      .from(events)
      .where(
        and(
          eq(events.project_id, claims.project_id),
          isNull(events.user_id),
          gte(events.issued_before, issuedAt),
        ),
      )
      .limit(1),
  ).limit(1);
  return matches.length > 0;
}

/** The claims of a token that verifies, has not expired and is not revoked; null otherwise. */
export async function validateToken(
  db: PrimaryDb,
  token: string,
  secret: string,
): Promise<TokenClaims | null> {
  const claims = await verifyToken(token, secret);
  if (!claims || (await isRevoked(db, claims))) return null;
  return claims;
}
