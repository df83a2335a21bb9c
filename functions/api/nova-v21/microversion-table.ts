// Every compute microversion Nova has defined, 2.2 to 2.104 (clients-and-microversions.md §2), in our
// own words. Whether we implement one is not written here: a v2.1 face declares the microversions it
// implements in its history (face.ts), and this table only says, for a change that touches nothing we
// serve at any version, why it needs no code. The version we advertise is the highest for which
// every change up to it is either declared by a face or not served (advertisedMaximum).
export interface NovaMicroversion {
  minor: number;
  change: string;
  /** Set when the change concerns only routes or fields this API serves at no version: why. */
  notServed?: string;
  /** Why a change that concerns what we serve is not implemented (docs/compute-microversions.md). */
  gap?: string;
  /**
   * A change spread over several extensions' routes is implemented only when every face named here
   * declares it for its own routes; otherwise one declaration suffices.
   */
  concerns?: string[];
}

const NO_VOLUMES = 'no block storage: volume attachments and boot-from-volume are not served';
const NO_CONSOLES = 'no remote consoles are served';
const NO_SERVER_GROUPS = 'os-server-groups is not served';
const NO_EVENTS = 'os-server-external-events is not served';
const NO_SHELVE = 'shelve and unshelve are not served';

export const NOVA_MICROVERSIONS: readonly NovaMicroversion[] = [
  { minor: 2, change: 'keypair type (ssh|x509); create answers 201, delete 204' },
  { minor: 3, change: 'more OS-EXT-SRV-ATTR fields (reservation_id, launch_index, hostname, ...)' },
  { minor: 4, change: 'reserved in os-fixed-ips' },
  { minor: 5, change: 'ip6 server list filter for non-admins' },
  {
    minor: 6,
    change: 'POST /servers/{id}/remote-consoles; os-get*Console actions removed',
    notServed: NO_CONSOLES,
  },
  { minor: 7, change: 'adding tenant access to a public flavor is a 409' },
  { minor: 8, change: 'mks remote consoles', notServed: NO_CONSOLES },
  { minor: 9, change: 'locked in the server view' },
  { minor: 10, change: "admins manage other users' keypairs with user_id" },
  { minor: 11, change: 'service forced_down and PUT /os-services/force-down' },
  {
    minor: 12,
    change: 'net_id in os-virtual-interfaces',
    notServed: 'os-virtual-interfaces is not served (nova-network keeps no VIF listing API here)',
  },
  { minor: 13, change: 'server groups show project_id and user_id', notServed: NO_SERVER_GROUPS },
  { minor: 14, change: 'evacuate drops onSharedStorage and the adminPass answer' },
  { minor: 15, change: 'soft-affinity server group policies', notServed: NO_SERVER_GROUPS },
  { minor: 16, change: 'host_status in the server view' },
  { minor: 17, change: 'trigger_crash_dump server action' },
  { minor: 18, change: 'the project id URL segment becomes optional' },
  { minor: 19, change: 'server description' },
  { minor: 20, change: 'volume attach/detach for shelved servers', notServed: NO_VOLUMES },
  { minor: 21, change: 'instance actions of deleted servers' },
  { minor: 22, change: 'force_complete a live migration' },
  {
    minor: 23,
    change: 'GET /servers/{id}/migrations; migration_type and links in os-migrations',
    concerns: ['server-migrations', 'os-migrations'],
  },
  { minor: 24, change: 'DELETE /servers/{id}/migrations/{id} aborts a live migration' },
  { minor: 25, change: 'os-migrateLive block_migration "auto", disk_over_commit removed' },
  { minor: 26, change: 'server tags' },
  { minor: 27, change: 'the OpenStack-API-Version header form' },
  { minor: 28, change: 'hypervisor cpu_info as an object' },
  { minor: 29, change: 'evacuate force' },
  { minor: 30, change: 'os-migrateLive force' },
  { minor: 31, change: 'console auth tokens for every console type', notServed: NO_CONSOLES },
  { minor: 32, change: 'tag on networks and block_device_mapping_v2 items' },
  { minor: 33, change: 'hypervisor list paging' },
  { minor: 34, change: 'live migration pre-checks run asynchronously' },
  { minor: 35, change: 'keypair list paging' },
  {
    minor: 36,
    change: 'proxy APIs answer 404; network quotas and limits dropped',
    concerns: [
      'limits',
      'os-quota-sets',
      'os-networks',
      'os-fixed-ips',
      'os-floating-ips',
      'os-floating-ip-pools',
      'os-floating-ips-bulk',
    ],
  },
  { minor: 37, change: 'networks required on create: a list, "auto" or "none"' },
  { minor: 38, change: 'an invalid status filter is a 400' },
  { minor: 39, change: 'image metadata proxy 404; maxImageMeta dropped from limits' },
  { minor: 40, change: 'simple tenant usage paging' },
  { minor: 41, change: 'aggregate uuid' },
  { minor: 42, change: 'tag on networks and block_device_mapping_v2 items restored' },
  { minor: 43, change: 'os-hosts answers 404' },
  {
    minor: 44,
    change: 'fixed/floating IP actions and os-virtual-interfaces answer 404',
  },
  {
    minor: 45,
    change: 'createImage/createBackup answer {"image_id"} without Location',
    notServed: 'no image upload exists: createImage and createBackup answer 400 at every version',
  },
  { minor: 46, change: 'X-OpenStack-Request-ID beside X-Compute-Request-ID' },
  { minor: 47, change: 'the server view embeds its flavor' },
  { minor: 48, change: 'standard server diagnostics body', notServed: 'server diagnostics are not served' },
  { minor: 49, change: 'tag on interface and volume attach (no volumes: the interface tag)' },
  { minor: 50, change: 'quota classes show server_groups, drop network quotas' },
  { minor: 51, change: 'volume-extended event (no events API is served); action events shown to owners' },
  { minor: 52, change: 'tags at server create' },
  {
    minor: 53,
    change: 'services and hypervisors identified by uuid',
    concerns: ['os-services', 'os-hypervisors'],
  },
  { minor: 54, change: 'rebuild accepts key_name' },
  { minor: 55, change: 'flavor description', concerns: ['flavors', 'flavor-manage'] },
  { minor: 56, change: 'migrate to a named host' },
  {
    minor: 57,
    change: 'personality removed; rebuild user_data; injected-file quotas dropped',
    concerns: ['servers', 'limits', 'os-quota-sets', 'os-quota-class-sets'],
  },
  { minor: 58, change: 'instance action paging, changes-since, updated_at' },
  { minor: 59, change: 'os-migrations paging, changes-since, uuid' },
  { minor: 60, change: 'multiattach volumes', notServed: NO_VOLUMES },
  { minor: 61, change: 'flavor extra_specs in flavor views', concerns: ['flavors', 'flavor-manage'] },
  { minor: 62, change: 'action events show hostId and host' },
  { minor: 63, change: 'trusted_image_certificates' },
  { minor: 64, change: 'server group policy and rules', notServed: NO_SERVER_GROUPS },
  { minor: 65, change: 'abort queued/preparing live migrations' },
  {
    minor: 66,
    change: 'changes-before filter',
    concerns: ['servers', 'os-instance-actions', 'os-migrations'],
  },
  { minor: 67, change: 'block_device_mapping_v2 volume_type', notServed: NO_VOLUMES },
  { minor: 68, change: 'force removed from evacuate and live migration' },
  {
    minor: 69,
    change: 'partial records for down cells',
    notServed: 'there are no cells: every record is whole',
  },
  { minor: 70, change: 'tag in volume and interface attachment views (no volumes: the interface views)' },
  { minor: 71, change: 'server_groups in the server view' },
  {
    minor: 72,
    change: 'create with ports carrying resource requests',
    notServed: 'no port carries a resource request here (no QoS minimum-bandwidth rules are served)',
  },
  { minor: 73, change: 'lock reason' },
  { minor: 74, change: 'create with host and hypervisor_hostname' },
  {
    minor: 75,
    change: 'unknown server API parameters 400; full views from PUT and rebuild; swap 0',
    concerns: ['servers', 'flavors', 'os-hypervisors', 'os-services', 'os-simple-tenant-usage'],
  },
  { minor: 76, change: 'power-update external event', notServed: NO_EVENTS },
  { minor: 77, change: 'unshelve to an availability zone', notServed: NO_SHELVE },
  { minor: 78, change: 'server topology' },
  { minor: 79, change: 'delete_on_termination on volume attach', notServed: NO_VOLUMES },
  {
    minor: 80,
    change: 'migrations show user_id and project_id',
    concerns: ['server-migrations', 'os-migrations'],
  },
  { minor: 81, change: 'aggregate image pre-cache' },
  { minor: 82, change: 'accelerator-request-bound external event', notServed: NO_EVENTS },
  { minor: 83, change: 'more server list filters for non-admins' },
  { minor: 84, change: 'action events show details' },
  { minor: 85, change: 'update delete_on_termination of an attachment', notServed: NO_VOLUMES },
  { minor: 86, change: 'extra spec namespaces validated' },
  { minor: 87, change: 'rescue of volume-backed servers', notServed: NO_VOLUMES },
  { minor: 88, change: 'hypervisor statistics fields dropped, uptime added' },
  { minor: 89, change: 'attachment ids in volume attachment views', notServed: NO_VOLUMES },
  { minor: 90, change: 'server hostname on create, update and rebuild' },
  { minor: 91, change: 'unshelve to a host; pin or unpin the zone', notServed: NO_SHELVE },
  { minor: 92, change: 'keypair create requires a public key' },
  { minor: 93, change: 'rebuild of volume-backed servers', notServed: NO_VOLUMES },
  { minor: 94, change: 'hostname may be a FQDN' },
  { minor: 95, change: 'evacuated servers end stopped' },
  { minor: 96, change: 'pinned_availability_zone in the server view' },
  { minor: 97, change: 'Manila shares', notServed: 'no shared file systems are served' },
  { minor: 98, change: 'image properties embedded in the server view' },
  { minor: 99, change: 'spice-direct consoles', notServed: NO_CONSOLES },
  { minor: 100, change: 'scheduler_hints in the server view' },
  { minor: 101, change: 'volume attach answers 202', notServed: NO_VOLUMES },
  {
    minor: 102,
    change:
      'flavor name filter; rxtx_factor and OS-FLV-DISABLED dropped; every API refuses unknown query parameters',
    concerns: [
      'servers',
      'server-metadata',
      'ips',
      'os-instance-actions',
      'server-migrations',
      'flavors',
      'flavor-manage',
      'flavor-extra-specs',
      'os-flavor-access',
      'keypairs',
      'limits',
      'os-quota-sets',
      'os-quota-class-sets',
      'os-availability-zone',
      'extensions',
      'os-hypervisors',
      'os-services',
      'os-aggregates',
      'os-migrations',
      'os-simple-tenant-usage',
    ],
  },
  { minor: 103, change: '/os-volumes_boot removed', notServed: NO_VOLUMES },
  { minor: 104, change: 'PUT /servers/{id} pins the availability zone' },
];

/**
 * The highest minor for which every change from 2.2 up is implemented (declared by a face) or
 * touches nothing we serve: what `GET /v2.1` advertises as `version`.
 */
export function advertisedMaximum(declared: ReadonlyMap<number, readonly string[]>): number {
  let max = 1;
  for (const entry of NOVA_MICROVERSIONS) {
    if (!isImplemented(entry, declared.get(entry.minor) ?? []) && !entry.notServed) break;
    max = entry.minor;
  }
  return max;
}

/** Whether the faces that declare `entry` (by alias) cover every part of its change. */
export function isImplemented(entry: NovaMicroversion, declaredBy: readonly string[]): boolean {
  if (declaredBy.length === 0) return false;
  return (entry.concerns ?? []).every((alias) => declaredBy.includes(alias));
}

/** Which faces declare each microversion. */
export function declarations(
  faces: ReadonlyArray<{ alias: string; microversions: ReadonlyArray<{ minor: number }> }>,
) {
  const declared = new Map<number, string[]>();
  for (const face of faces) {
    for (const { minor } of face.microversions)
      declared.set(minor, [...(declared.get(minor) ?? []), face.alias]);
  }
  return declared;
}
