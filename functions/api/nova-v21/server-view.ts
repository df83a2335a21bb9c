import { and, asc, eq, inArray } from 'drizzle-orm';
import type { Context } from 'hono';
import type { PrimaryDb } from '../../../schema/db.ts';
import {
  type FlavorSnapshot,
  flavorExtraSpecs,
  flavors,
  images,
  instances,
  instanceTags,
  services,
} from '../../../schema/tables/index.ts';
import { isServiceUp } from '../../compute/service-liveness.ts';
import type { AppEnv } from '../context.ts';
import { COMPUTE_BINARY } from '../nova/host-zones.ts';
import type { Addresses } from '../nova/ips.ts';
import { isAllowed } from '../policy.ts';
import { v21Addresses } from './ips.ts';
import { atLeast } from './microversion.ts';
import { isoTime, novaTime } from './nova-time.ts';

// The v2.1 server view (clients-and-microversions.md §4.4), made from the v3 view so that a view
// extension this deployment disabled leaves its attributes out here too. What v3 does not show (the
// 2.3 attributes, lock, host status, the flavor's extra specs, description, tags, hostname, the
// pinned zone, image properties, scheduler hints...) is read from the rows of the servers being shown:
// one query for them, and one per extra the caller's microversion and policy ask for.
type Reader = Pick<PrimaryDb, 'select'>;
type InstanceRow = typeof instances.$inferSelect;

/** A server as the v3 view shows it (functions/api/nova/server-view.ts). */
export type V3Server = { id: string } & Record<string, unknown>;

/** The v3 attributes v2.1 shows with the same value, and their v2.1 names. */
const RENAMED: Readonly<Record<string, string>> = {
  id: 'id',
  name: 'name',
  status: 'status',
  tenant_id: 'tenant_id',
  user_id: 'user_id',
  metadata: 'metadata',
  image: 'image',
  key_name: 'key_name',
  links: 'links',
  progress: 'progress',
  host_id: 'hostId',
  access_ip_v4: 'accessIPv4',
  access_ip_v6: 'accessIPv6',
  'os-extended-status:vm_state': 'OS-EXT-STS:vm_state',
  'os-extended-status:task_state': 'OS-EXT-STS:task_state',
  'os-extended-status:power_state': 'OS-EXT-STS:power_state',
  'os-extended-server-attributes:host': 'OS-EXT-SRV-ATTR:host',
  'os-extended-server-attributes:hypervisor_hostname': 'OS-EXT-SRV-ATTR:hypervisor_hostname',
  'os-extended-server-attributes:instance_name': 'OS-EXT-SRV-ATTR:instance_name',
  'os-extended-availability-zone:availability_zone': 'OS-EXT-AZ:availability_zone',
};

/** The usage times, which v2.1 writes in Nova's time form (nova-time.ts). */
const USAGE_TIMES: Readonly<Record<string, string>> = {
  'os-server-usage:launched_at': 'OS-SRV-USG:launched_at',
  'os-server-usage:terminated_at': 'OS-SRV-USG:terminated_at',
};

/** Each server's position among the servers its create request made (OS-EXT-SRV-ATTR:launch_index). */
async function launchIndexes(db: Reader, rows: InstanceRow[]): Promise<Map<string, number>> {
  const reservations = [...new Set(rows.map((row) => row.reservation_id))];
  // Deleted siblings count: the index was given at creation and never changes.
  const siblings = await db
    .select({ uuid: instances.uuid, reservation_id: instances.reservation_id })
    .from(instances)
    .where(inArray(instances.reservation_id, reservations))
    .orderBy(asc(instances.id));
  const seen = new Map<string, number>();
  const indexes = new Map<string, number>();
  for (const sibling of siblings) {
    const index = seen.get(sibling.reservation_id) ?? 0;
    indexes.set(sibling.uuid, index);
    seen.set(sibling.reservation_id, index + 1);
  }
  return indexes;
}

/**
 * Nova's host_status: DOWN when the compute service is forced down, MAINTENANCE when disabled, UP when
 * it reports in time, UNKNOWN when it does not; "" for a host without a compute service.
 */
async function hostStatuses(c: Context<AppEnv>, db: Reader, hosts: string[]): Promise<Map<string, string>> {
  if (hosts.length === 0) return new Map();
  const rows = await db
    .select({
      host: services.host,
      disabled: services.disabled,
      forced_down: services.forced_down,
      last_seen_at: services.last_seen_at,
    })
    .from(services)
    .where(and(inArray(services.host, hosts), eq(services.binary, COMPUTE_BINARY), eq(services.deleted, 0)));
  const now = new Date();
  const status = (service: (typeof rows)[number]) => {
    if (service.forced_down) return 'DOWN';
    if (service.disabled) return 'MAINTENANCE';
    return isServiceUp(service, now, c.var.config.SERVICE_DOWN_TIME_SECONDS) ? 'UP' : 'UNKNOWN';
  };
  return new Map(rows.map((service) => [service.host, status(service)]));
}

/** The extra specs of the servers' flavors, as the flavors are now (a deleted flavor has none). */
async function extraSpecsByFlavor(
  db: Reader,
  flavorIds: string[],
): Promise<Map<string, Record<string, string>>> {
  const rows = await db
    .select({ flavorid: flavors.flavorid, key: flavorExtraSpecs.key, value: flavorExtraSpecs.value })
    .from(flavorExtraSpecs)
    .innerJoin(flavors, eq(flavors.id, flavorExtraSpecs.flavor_id))
    .where(
      and(inArray(flavors.flavorid, flavorIds), eq(flavors.deleted, 0), eq(flavorExtraSpecs.deleted, 0)),
    );
  const specs = new Map<string, Record<string, string>>();
  for (const row of rows) specs.set(row.flavorid, { ...specs.get(row.flavorid), [row.key]: row.value });
  return specs;
}

/** The live tags of the servers, each server's in tag order. */
async function tagsByServer(db: Reader, rows: InstanceRow[]): Promise<Map<string, string[]>> {
  // Nova drops a deleted server's tags; here they stay until it is archived, and are not shown.
  const live = rows.filter((row) => row.deleted === 0).map((row) => row.uuid);
  const tags = new Map<string, string[]>();
  if (live.length === 0) return tags;
  const found = await db
    .select({ uuid: instanceTags.instance_uuid, tag: instanceTags.tag })
    .from(instanceTags)
    .where(and(inArray(instanceTags.instance_uuid, live), eq(instanceTags.deleted, 0)))
    .orderBy(asc(instanceTags.tag));
  for (const { uuid, tag } of found) tags.set(uuid, [...(tags.get(uuid) ?? []), tag]);
  return tags;
}

/**
 * The properties of the servers' images, as their catalogue rows hold them (a deleted image's too: a
 * server outlives its image). Nova shows what it copied from the image at boot; the catalogue here is
 * the only copy.
 */
async function imageProperties(
  db: Reader,
  rows: InstanceRow[],
): Promise<Map<string, Record<string, string>>> {
  const found = await db
    .select({ uuid: images.uuid, properties: images.properties })
    .from(images)
    .where(inArray(images.uuid, [...new Set(rows.map((row) => row.image_ref))]));
  return new Map(found.map((image) => [image.uuid, image.properties]));
}

/** Nova's request spec keeps each hint as a list of strings, and shows them so. */
function hintsAsLists(hints: Record<string, unknown> | null): Record<string, string[]> {
  return Object.fromEntries(
    Object.entries(hints ?? {}).map(([name, value]) => [
      name,
      (Array.isArray(value) ? value : [value]).map((item) =>
        typeof item === 'string' ? item : JSON.stringify(item),
      ),
    ]),
  );
}

/** From 2.47 the view embeds the flavor the server has (its snapshot), named as it was. */
function embeddedFlavor(flavor: FlavorSnapshot, extraSpecs: Map<string, Record<string, string>> | undefined) {
  return {
    vcpus: flavor.vcpus,
    ram: flavor.memory_mb,
    disk: flavor.root_gb,
    ephemeral: flavor.ephemeral_gb,
    swap: flavor.swap,
    original_name: flavor.name,
    ...(extraSpecs ? { extra_specs: extraSpecs.get(flavor.flavorid) ?? {} } : {}),
  };
}

export interface ViewOptions {
  /** Where the servers' rows are read: the primary right after a write. */
  db: Reader;
  /** Show, update and rebuild answer one server, with what a list's items leave out (2.71). */
  single: boolean;
  /** A rebuild's answer names the user data itself (from 2.57), never as a host attribute (Nova). */
  rebuilt?: boolean;
}

/**
 * The v2.1 views of `servers` (v3 views), in their order. A server whose row is gone since v3 read it
 * (deleted and archived in between) is left out.
 */
export async function serverViews(
  c: Context<AppEnv>,
  servers: V3Server[],
  { db, single, rebuilt = false }: ViewOptions,
): Promise<Record<string, unknown>[]> {
  if (servers.length === 0) return [];
  const ids = servers.map((server) => server.id);
  const found = await db.select().from(instances).where(inArray(instances.uuid, ids));
  if (found.length === 0) return [];
  const rows = new Map(found.map((row) => [row.uuid, row]));
  // The 2.3 attributes join v3's server attributes, so they follow its extension and policy.
  const withMoreAttributes =
    atLeast(c, 3) && servers.some((server) => 'os-extended-server-attributes:host' in server);
  const indexes = withMoreAttributes ? await launchIndexes(db, found) : undefined;
  // Nova's host_status policy is admin-only by default, like the host names.
  const statuses =
    atLeast(c, 16) && isAllowed(c.var.caller, 'compute:extended_server_attributes')
      ? await hostStatuses(c, db, [...new Set(found.flatMap((row) => (row.host ? [row.host] : [])))])
      : undefined;
  const extraSpecs =
    atLeast(c, 47) && isAllowed(c.var.caller, 'compute_extension:flavor-extra-specs:index')
      ? await extraSpecsByFlavor(db, [...new Set(found.map((row) => row.flavor.flavorid))])
      : undefined;
  const tags = atLeast(c, 26) ? await tagsByServer(db, found) : undefined;
  const properties = atLeast(c, 98) ? await imageProperties(db, found) : undefined;

  return servers.flatMap((server) => {
    const row = rows.get(server.id);
    if (!row) return [];
    const view: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(server)) {
      const renamed = RENAMED[key];
      if (renamed) view[renamed] = value;
      const usage = USAGE_TIMES[key];
      if (usage) view[usage] = typeof value === 'string' ? novaTime(value) : null;
    }
    view.addresses = v21Addresses((server.addresses ?? {}) as Addresses);
    view.created = isoTime(String(server.created));
    view.updated = isoTime(String(server.updated));
    const fault = server.fault as { created: string } | undefined;
    if (fault) view.fault = { ...fault, created: isoTime(fault.created) };
    view.flavor = atLeast(c, 47) ? embeddedFlavor(row.flavor, extraSpecs) : server.flavor;
    // No hypervisor here resizes partitions, attaches volumes or builds config drives, and the only
    // security group is the default one.
    view['OS-DCF:diskConfig'] = 'MANUAL';
    view.config_drive = '';
    view['os-extended-volumes:volumes_attached'] = [];
    view.security_groups = [{ name: 'default' }];
    if (indexes && 'OS-EXT-SRV-ATTR:host' in view) {
      Object.assign(view, {
        'OS-EXT-SRV-ATTR:reservation_id': row.reservation_id,
        'OS-EXT-SRV-ATTR:launch_index': indexes.get(row.uuid) ?? 0,
        'OS-EXT-SRV-ATTR:hostname': row.hostname,
        'OS-EXT-SRV-ATTR:kernel_id': '',
        'OS-EXT-SRV-ATTR:ramdisk_id': '',
        'OS-EXT-SRV-ATTR:root_device_name': null,
        ...(rebuilt ? {} : { 'OS-EXT-SRV-ATTR:user_data': row.user_data }),
      });
    }
    if (rebuilt && atLeast(c, 57)) view.user_data = row.user_data;
    if (atLeast(c, 9)) view.locked = row.locked_by !== null;
    if (statuses) view.host_status = row.host ? (statuses.get(row.host) ?? '') : '';
    if (atLeast(c, 19)) view.description = row.description;
    if (tags) view.tags = tags.get(row.uuid) ?? [];
    if (atLeast(c, 63)) view.trusted_image_certificates = row.trusted_image_certificates;
    if (single && atLeast(c, 71)) view.server_groups = [];
    if (atLeast(c, 73)) view.locked_reason = row.locked_by === null ? null : row.locked_reason;
    // From 2.90 everyone sees the hostname they may set.
    if (atLeast(c, 90)) view['OS-EXT-SRV-ATTR:hostname'] = row.hostname;
    if (atLeast(c, 96)) view.pinned_availability_zone = row.requested_availability_zone;
    if (properties && typeof view.image === 'object' && view.image !== null) {
      view.image = { ...view.image, properties: properties.get(row.image_ref) ?? {} };
    }
    if (atLeast(c, 100)) view.scheduler_hints = hintsAsLists(row.scheduler_hints);
    return [view];
  });
}
