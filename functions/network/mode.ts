import { eq } from 'drizzle-orm';
import type { PrimaryDb } from '../../schema/db.ts';
import { networkSettings } from '../../schema/tables/index.ts';

export const NETWORK_API_MODES = ['neutron', 'nova-network'] as const;
export type NetworkApiMode = (typeof NETWORK_API_MODES)[number];

const SETTINGS_ROW_ID = 1;

/**
 * The network API the deployment runs: what network_settings records (the migration's cut-over, or
 * the operator tool), else the NETWORK_API setting. Read from the primary: a cut-over must take effect
 * for the very next boot.
 */
export async function networkApiMode(
  db: PrimaryDb,
  config: { NETWORK_API: NetworkApiMode },
): Promise<NetworkApiMode> {
  const [row] = await db
    .select({ network_api: networkSettings.network_api })
    .from(networkSettings)
    .where(eq(networkSettings.id, SETTINGS_ROW_ID));
  if (!row) return config.NETWORK_API;
  return (NETWORK_API_MODES as readonly string[]).includes(row.network_api)
    ? (row.network_api as NetworkApiMode)
    : config.NETWORK_API;
}

/** Records the deployment's network API (idempotent: the row is written whole). */
export async function recordNetworkApiMode(
  db: PrimaryDb,
  mode: NetworkApiMode,
  changedBy: string,
): Promise<void> {
  const now = new Date();
  await db
    .insert(networkSettings)
    .values({ id: SETTINGS_ROW_ID, network_api: mode, changed_by: changedBy, updated_at: now })
    .onDuplicateKeyUpdate({ set: { network_api: mode, changed_by: changedBy, updated_at: now } });
}
