import type { Context } from 'hono';
import type { NetworkInfo } from '../../../schema/objects/network-info.ts';
import type { instanceFaults, instances } from '../../../schema/tables/index.ts';
import { STATUSES_WITH_PROGRESS, serverStatus } from '../../compute/server-status.ts';
import { loadNetworkInfo } from '../../network/instance-cache.ts';
import { sha256Hex } from '../../shared/encoding.ts';
import type { AppEnv } from '../context.ts';
import { bookmarkLink, resourceLinks } from '../links.ts';
import { extensionAttributes } from './extension.ts';
import { addressesOf } from './ips.ts';

type InstanceRow = typeof instances.$inferSelect;
type FaultRow = typeof instanceFaults.$inferSelect;

/**
 * What a project sees of a host: the same opaque id for every one of its servers on that host, so it
 * can tell which share one without learning the host's name (Nova's hostId: 56 hex digits).
 */
export async function hostId(projectId: string, host: string): Promise<string> {
  return (await sha256Hex(`${projectId}${host}`)).slice(0, 56);
}

/**
 * The core view plus what the enabled view extensions add (extended status, AZ, usage, server
 * attributes). A list passes each server's network info, read for the whole page at once
 * (loadNetworkInfos); a single server's is read here.
 */
export async function serverDetail(
  c: Context<AppEnv>,
  instance: InstanceRow,
  fault: FaultRow | undefined,
  networkInfo?: NetworkInfo,
) {
  const status = serverStatus(instance.vm_state, instance.task_state);
  const isAdmin = c.var.caller.isAdmin;
  return {
    id: instance.uuid,
    name: instance.display_name,
    status,
    tenant_id: instance.project_id,
    user_id: instance.user_id,
    metadata: instance.metadata,
    host_id: instance.host ? await hostId(instance.project_id, instance.host) : '',
    image: { id: instance.image_ref, links: bookmarkLink(c, 'images', instance.image_ref) },
    flavor: { id: instance.flavor.flavorid, links: bookmarkLink(c, 'flavors', instance.flavor.flavorid) },
    created: instance.created_at.toISOString(),
    updated: (instance.updated_at ?? instance.created_at).toISOString(),
    addresses: addressesOf(networkInfo ?? (await loadNetworkInfo(c.var.db, instance.uuid))),
    access_ip_v4: '',
    access_ip_v6: '',
    key_name: instance.key_name,
    links: resourceLinks(c, 'servers', instance.uuid),
    ...(STATUSES_WITH_PROGRESS.has(status) ? { progress: instance.progress } : {}),
    ...(status === 'ERROR' && fault
      ? {
          fault: {
            code: fault.code,
            created: fault.created_at.toISOString(),
            message: fault.message,
            ...(isAdmin || fault.code !== 500 ? { details: fault.details ?? '' } : {}),
          },
        }
      : {}),
    ...extensionAttributes(c.var.extensions, (extension) => extension.serverAttributes?.(c, instance)),
  };
}
