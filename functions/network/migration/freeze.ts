import { inArray } from 'drizzle-orm';
import type { PrimaryWriter } from '../../../schema/db.ts';
import { networkMigrations } from '../../../schema/tables/index.ts';
import { Conflict } from '../../shared/errors.ts';
import { FROZEN_STATUSES } from './states.ts';

// While a migration to the networking service has copied (or is copying) the legacy state, a write to
// the legacy tables would make the copy wrong, so every legacy write path asks first. Read from the
// primary: the freeze must hold from the very write that started it.

/** The migration that freezes the legacy network API, if one does. */
export async function freezingMigration(db: Pick<PrimaryWriter, 'select'>): Promise<string | undefined> {
  const [row] = await db
    .select({ uuid: networkMigrations.uuid })
    .from(networkMigrations)
    .where(inArray(networkMigrations.status, FROZEN_STATUSES))
    .limit(1);
  return row?.uuid;
}

/** Whether the legacy network API must refuse writes now. */
export async function legacyWritesFrozen(db: Pick<PrimaryWriter, 'select'>): Promise<boolean> {
  return (await freezingMigration(db)) !== undefined;
}

/** For a legacy write path: a 409 naming the migration while one freezes the legacy API. */
export async function refuseLegacyWriteWhileFrozen(db: Pick<PrimaryWriter, 'select'>): Promise<void> {
  const uuid = await freezingMigration(db);
  if (uuid !== undefined) {
    throw new Conflict(
      `The nova-network API is frozen while network migration ${uuid} moves this deployment to the networking service`,
    );
  }
}
