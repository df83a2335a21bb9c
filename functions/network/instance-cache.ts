import { eq, inArray } from 'drizzle-orm';
import type { PrimaryWriter } from '../../schema/db.ts';
import type { NetworkInfo } from '../../schema/objects/network-info.ts';
import { instanceInfoCaches } from '../../schema/tables/index.ts';

// The instance network cache: each server's network as its view shows it and its host plugs it. Both
// network APIs write it whenever what a server has changes (boot, attach, detach, floating IPs, moves,
// the migration between them); readers never ask the network service.

type Reader = Pick<PrimaryWriter, 'select'>;

/** Writes a server's whole network info (an upsert: a retried step writes the same row again). */
export async function saveNetworkInfo(
  db: PrimaryWriter,
  instanceUuid: string,
  info: NetworkInfo,
): Promise<void> {
  const now = new Date();
  await db
    .insert(instanceInfoCaches)
    .values({ instance_uuid: instanceUuid, network_info: info, created_at: now, updated_at: now })
    .onDuplicateKeyUpdate({ set: { network_info: info, updated_at: now } });
}

/** The servers' network info by uuid; a server with no row has none (`[]`). */
export async function loadNetworkInfos(
  db: Reader,
  instanceUuids: readonly string[],
): Promise<Map<string, NetworkInfo>> {
  const found = new Map<string, NetworkInfo>(instanceUuids.map((uuid) => [uuid, []]));
  if (instanceUuids.length === 0) return found;
  const rows = await db
    .select({
      instance_uuid: instanceInfoCaches.instance_uuid,
      network_info: instanceInfoCaches.network_info,
    })
    .from(instanceInfoCaches)
    .where(inArray(instanceInfoCaches.instance_uuid, [...instanceUuids]));
  for (const row of rows) found.set(row.instance_uuid, row.network_info);
  return found;
}

export async function loadNetworkInfo(db: Reader, instanceUuid: string): Promise<NetworkInfo> {
  return (await loadNetworkInfos(db, [instanceUuid])).get(instanceUuid) ?? [];
}

/** Drops a server's cache once its network resources are released. */
export async function deleteNetworkInfo(db: PrimaryWriter, instanceUuid: string): Promise<void> {
  await db.delete(instanceInfoCaches).where(eq(instanceInfoCaches.instance_uuid, instanceUuid));
}
