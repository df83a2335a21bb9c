import type { AllocationPool } from '../../../schema/tables/networking.ts';
import { formatPools } from '../allocation-pools.ts';
import { type Cidr, cidrsOverlap, formatCidr, parseCidr, parseIp } from '../ip-math.ts';
import { canonicalMac } from '../mac.ts';
import { consecutiveRuns, coveringCidr, fixedSubnetPools } from './pools.ts';
import type {
  LegacyFixedIp,
  LegacyInstance,
  LegacyNetwork,
  LegacySnapshot,
  LegacyVif,
  NetworkingSnapshot,
} from './snapshot.ts';

// The migration's plan, as pure arithmetic over a snapshot: what each legacy object becomes in the
// networking service, and every conflict that must block the run. The dry run reports exactly this;
// the real run creates exactly this (its batches call the same builders on the rows they take), so
// the report of a dry run is what a real run would do.

export interface Finding {
  type: string;
  message: string;
  [detail: string]: unknown;
}

export interface PlannedSubnet {
  ip_version: 4;
  cidr: string;
  gateway_ip: string | null;
  dns_nameservers: string[];
  allocation_pools: AllocationPool[];
  enable_dhcp: boolean;
}

export interface PlannedNetwork {
  /** The legacy network's id, or `pool:<name>` for a floating pool's external network. */
  legacy_id: string;
  /** The legacy network keeps its uuid; an external network gets a new one when it is created. */
  id: string | null;
  name: string;
  /** null: the project of whoever started the migration. */
  project_id: string | null;
  shared: boolean;
  router_external: boolean;
  network_type: 'flat' | 'vlan';
  physical_network: string;
  segmentation_id: number | null;
  subnet: PlannedSubnet;
}

export interface PlannedPort {
  vif_id: number;
  /** The VIF's uuid: the port keeps it, so the guest's interface (tap<id>) keeps its name. */
  id: string;
  legacy_network_id: number;
  network_id: string;
  project_id: string;
  mac_address: string;
  fixed_ips: string[];
  device_id: string;
  device_owner: string;
  binding_host_id: string;
}

export interface PlannedFloatingIp {
  legacy_id: number;
  floating_ip_address: string;
  pool: string;
  project_id: string;
  /** The VIF (so the port) the legacy floating IP was associated with through its fixed IP. */
  port_id: string | null;
  fixed_ip_address: string | null;
}

/** A router per fixed network whose addresses carry floating IPs: gateway on the pool's network. */
export interface PlannedRouter {
  legacy_network_id: number;
  name: string;
  project_id: string | null;
  pool: string;
  /** The fixed network's gateway, which the router's interface there takes over. */
  interface_ip: string | null;
}

export interface NetworkMigrationPlan {
  networks: PlannedNetwork[];
  ports: PlannedPort[];
  floating_ips: PlannedFloatingIp[];
  routers: PlannedRouter[];
  /** Instances with VIFs on a host: each is re-plugged there. */
  instances_to_plug: number;
  conflicts: Finding[];
  warnings: Finding[];
}

export const DEFAULT_PHYSICAL_NETWORK = 'physnet1';

/** Where a floating pool's external network is kept in the map. */
export function poolLegacyId(pool: string): string {
  return `pool:${pool}`;
}

function ipValue(text: string | null): bigint | undefined {
  return text ? parseIp(text)?.value : undefined;
}

/** A legacy MAC as the networking service stores it (lower case, colons). */
export function portMac(vif: Pick<LegacyVif, 'address'>): string {
  return canonicalMac(vif.address) ?? vif.address.toLowerCase();
}

/** The new network and subnet of a nova network, keeping its uuid, CIDR, gateway, DNS and VLAN. */
export function networkFor(
  network: LegacyNetwork,
  cidr: Cidr,
  reserved: readonly string[],
  physicalNetwork: string,
): PlannedNetwork {
  const gateway = ipValue(network.gateway);
  const pools = fixedSubnetPools(
    cidr,
    ipValue(network.dhcp_start),
    gateway,
    reserved.flatMap((address) => ipValue(address) ?? []),
  );
  return {
    legacy_id: String(network.id),
    id: network.uuid,
    name: network.label ?? '',
    project_id: network.project_id,
    // A network with no project was every project's (Flat); a VLAN network was its project's own.
    shared: network.project_id === null,
    router_external: false,
    network_type: network.vlan === null ? 'flat' : 'vlan',
    physical_network: physicalNetwork,
    segmentation_id: network.vlan,
    subnet: {
      ip_version: 4,
      cidr: formatCidr(cidr),
      gateway_ip: network.gateway,
      dns_nameservers: [network.dns1, network.dns2].filter((dns): dns is string => Boolean(dns)),
      allocation_pools: formatPools(4, pools),
      // FlatManager injected addresses into the image and ran no DHCP server.
      enable_dhcp: !network.injected,
    },
  };
}

/** A floating pool's external network: a subnet over its addresses, handing out only those. */
export function externalNetworkFor(pool: string, addresses: readonly string[], physicalNetwork: string) {
  const values = addresses.flatMap((address) => ipValue(address) ?? []);
  const cidr = coveringCidr(values);
  if (!cidr) return undefined;
  const network: PlannedNetwork = {
    legacy_id: poolLegacyId(pool),
    id: null,
    name: pool,
    project_id: null,
    shared: false,
    router_external: true,
    network_type: 'flat',
    physical_network: physicalNetwork,
    segmentation_id: null,
    subnet: {
      ip_version: 4,
      cidr: formatCidr(cidr),
      // nova kept no gateway for a floating range; the addresses are NATed by the router.
      gateway_ip: null,
      dns_nameservers: [],
      allocation_pools: formatPools(4, consecutiveRuns(values)),
      enable_dhcp: false,
    },
  };
  return { network, cidr };
}

/** A VIF's port: the same uuid, MAC, fixed IPs, instance and host. */
export function portFor(
  vif: LegacyVif & { network_id: number; instance_uuid: string },
  networkUuid: string,
  fixedIps: readonly Pick<LegacyFixedIp, 'address'>[],
  instance: LegacyInstance,
): PlannedPort {
  return {
    vif_id: vif.id,
    id: vif.uuid,
    legacy_network_id: vif.network_id,
    network_id: networkUuid,
    project_id: instance.project_id,
    mac_address: portMac(vif),
    fixed_ips: fixedIps.map((ip) => ip.address).sort(),
    device_id: instance.uuid,
    device_owner: `compute:${instance.availability_zone ?? 'nova'}`,
    binding_host_id: instance.host ?? '',
  };
}

/** Conflicts block a real run; warnings say what the run does about something odd and do not. */
class Findings {
  readonly conflicts: Finding[] = [];
  readonly warnings: Finding[] = [];

  constructor(private readonly networking: NetworkingSnapshot) {}

  conflict(type: string, message: string, details: Record<string, unknown> = {}): void {
    this.conflicts.push({ type, message, ...details });
  }

  warning(type: string, message: string, details: Record<string, unknown> = {}): void {
    this.warnings.push({ type, message, ...details });
  }

  /** A legacy object another run already carried over (and did not roll back). */
  alreadyMigrated(kind: string, legacyId: string, what: string): void {
    const other = this.networking.migratedElsewhere.get(`${kind}/${legacyId}`);
    if (other) {
      this.conflict('already_migrated', `${what} was already carried over by network migration ${other}`, {
        migration: other,
      });
    }
  }
}

/** A range the run would create a subnet over, and whose it is (for the overlap conflicts). */
interface Range {
  what: string;
  cidr: Cidr;
}

function planFixedNetworks(
  legacy: LegacySnapshot,
  networking: NetworkingSnapshot,
  physicalNetwork: string,
  findings: Findings,
) {
  const byLegacyId = new Map<number, PlannedNetwork>();
  const ranges: Range[] = [];
  const reservedByNetwork = groupBy(
    legacy.fixedIps.filter((ip) => ip.reserved),
    (ip) => ip.network_id,
  );
  for (const network of legacy.networks) {
    const what = `network ${network.uuid} (${network.label ?? 'no label'})`;
    const about = { network: network.uuid };
    findings.alreadyMigrated('network', String(network.id), what);
    if (network.cidr_v6) {
      findings.conflict(
        'ipv6_network',
        `${what} has an IPv6 range ${network.cidr_v6}: nova-network derived those addresses from MACs, and the migration carries IPv4 only`,
        about,
      );
    }
    const cidr = network.cidr ? parseCidr(network.cidr, { strict: false }) : undefined;
    if (cidr?.version !== 4) {
      findings.conflict('unsupported_network', `${what} has no IPv4 range to carry over`, about);
      continue;
    }
    const reserved = (reservedByNetwork.get(network.id) ?? []).map((ip) => ip.address);
    byLegacyId.set(network.id, networkFor(network, cidr, reserved, physicalNetwork));
    ranges.push({ what, cidr });
    if (network.multi_host) {
      findings.warning(
        'multi_host',
        `${what} was multi_host (gateway and NAT on every compute host); in the networking service its floating IPs go through one router`,
        about,
      );
    }
    const clash = networking.segments.find(
      (segment) => segment.physical_network === physicalNetwork && segment.segmentation_id === network.vlan,
    );
    if (network.vlan !== null && clash) {
      findings.conflict(
        'vlan_clash',
        `${what} uses VLAN ${network.vlan} on ${physicalNetwork}, which network ${clash.network_uuid} of the networking service already uses`,
        { ...about, vlan: network.vlan, clashes_with: clash.network_uuid },
      );
    }
    if (networking.networkUuids.has(network.uuid)) {
      findings.conflict(
        'network_id_in_use',
        `${what}: the networking service already has a network with its uuid`,
        about,
      );
    }
  }
  return { byLegacyId, ranges };
}

function inPools(address: string, pools: readonly AllocationPool[]): boolean {
  const value = ipValue(address);
  return (
    value !== undefined &&
    pools.some((pool) => value >= (ipValue(pool.start) ?? 0n) && value <= (ipValue(pool.end) ?? 0n))
  );
}

/** One port per VIF of a live instance, on a network the run carries. */
function planPorts(
  legacy: LegacySnapshot,
  networks: ReadonlyMap<number, PlannedNetwork>,
  networking: NetworkingSnapshot,
  findings: Findings,
) {
  const byVifId = new Map<number, PlannedPort>();
  const fixedByVif = groupBy(
    legacy.fixedIps.filter((ip) => ip.virtual_interface_id !== null),
    (ip) => ip.virtual_interface_id ?? 0,
  );
  const liveNetworks = new Set(legacy.networks.map((network) => network.id));
  for (const vif of legacy.vifs) {
    const instance = vif.instance_uuid ? legacy.instances.get(vif.instance_uuid) : undefined;
    if (!instance || vif.instance_uuid === null) {
      findings.warning(
        'stale_vif',
        `VIF ${vif.uuid} (${vif.address}) belongs to no live instance: not carried over`,
        {
          vif: vif.uuid,
        },
      );
      continue;
    }
    const network = vif.network_id === null ? undefined : networks.get(vif.network_id);
    if (!network || vif.network_id === null) {
      // A VIF on a network that cannot be carried is already reported with its network.
      if (vif.network_id === null || !liveNetworks.has(vif.network_id)) {
        findings.conflict(
          'vif_without_network',
          `VIF ${vif.uuid} of instance ${instance.uuid} is on no live network`,
          {
            vif: vif.uuid,
            instance: instance.uuid,
          },
        );
      }
      continue;
    }
    findings.alreadyMigrated('port', String(vif.id), `VIF ${vif.uuid}`);
    const port = portFor(
      { ...vif, network_id: vif.network_id, instance_uuid: vif.instance_uuid },
      network.id ?? '',
      fixedByVif.get(vif.id) ?? [],
      instance,
    );
    byVifId.set(vif.id, port);
    const macHolder = networking.macs.get(port.mac_address);
    if (macHolder) {
      findings.conflict(
        'mac_in_use',
        `MAC ${port.mac_address} of instance ${instance.uuid} is already held by port ${macHolder} of the networking service`,
        { mac_address: port.mac_address, instance: instance.uuid, held_by: macHolder },
      );
    }
    for (const address of port.fixed_ips) {
      const holder = networking.addresses.get(address);
      if (holder) {
        findings.conflict(
          'ip_in_use',
          `IP ${address} of instance ${instance.uuid} is already held by port ${holder} of the networking service`,
          { ip_address: address, instance: instance.uuid, held_by: holder },
        );
      }
    }
    const outside = port.fixed_ips.filter((address) => !inPools(address, network.subnet.allocation_pools));
    if (outside.length > 0) {
      findings.warning(
        'address_outside_pools',
        `instance ${instance.uuid} keeps ${outside.join(', ')}, outside the subnet's allocation pools (allowed for a port given its address)`,
        { instance: instance.uuid },
      );
    }
  }
  for (const ip of legacy.fixedIps) {
    if (ip.instance_uuid !== null && ip.virtual_interface_id === null && !ip.reserved) {
      findings.warning(
        'fixed_ip_without_vif',
        `fixed IP ${ip.address} is associated with instance ${ip.instance_uuid} but allocated to no VIF: it becomes free`,
        { ip_address: ip.address },
      );
    }
  }
  return byVifId;
}

/** How many instances the hosts re-plug; an instance with a task under way or a host that cannot re-plug blocks. */
function planReplug(legacy: LegacySnapshot, ports: Iterable<PlannedPort>, findings: Findings): number {
  const seen = new Set<string>();
  const byHost = new Map<string, number>();
  for (const port of ports) {
    const instance = legacy.instances.get(port.device_id);
    if (!instance || seen.has(instance.uuid)) continue;
    seen.add(instance.uuid);
    if (instance.task_state !== null) {
      findings.conflict(
        'instance_busy',
        `instance ${instance.uuid} is ${instance.task_state}: wait for it to finish`,
        {
          instance: instance.uuid,
          task_state: instance.task_state,
        },
      );
    }
    if (instance.host === null) {
      findings.warning(
        'instance_without_host',
        `instance ${instance.uuid} is on no host: its ports are created unbound and nothing is re-plugged`,
        { instance: instance.uuid },
      );
      continue;
    }
    byHost.set(instance.host, (byHost.get(instance.host) ?? 0) + 1);
  }
  for (const [host, count] of byHost) {
    const problem = legacy.hostProblems.has(host)
      ? legacy.hostProblems.get(host)
      : 'no compute agent is registered on it';
    if (problem) {
      findings.conflict(
        'host_cannot_plug',
        `host ${host} holds ${count} instance(s) to re-plug, but ${problem}`,
        {
          host,
          instances: count,
        },
      );
    }
  }
  return [...byHost.values()].reduce((sum, count) => sum + count, 0);
}

/** An external network per floating pool, over the pool's addresses. */
function planFloatingPools(legacy: LegacySnapshot, physicalNetwork: string, findings: Findings) {
  const byPool = new Map<string, PlannedNetwork>();
  const ranges: Range[] = [];
  for (const [pool, addresses] of groupBy(legacy.floatingIps, (ip) => ip.pool)) {
    if (pool.trim() === '') {
      findings.conflict(
        'floating_range_without_pool',
        `floating IPs ${summarize(addresses.map((ip) => ip.address))} belong to no pool: no external network can carry them`,
        { addresses: addresses.length },
      );
      continue;
    }
    findings.alreadyMigrated('network', poolLegacyId(pool), `floating pool ${pool}`);
    const external = externalNetworkFor(
      pool,
      addresses.map((ip) => ip.address),
      physicalNetwork,
    );
    if (!external) {
      findings.conflict(
        'unsupported_floating_range',
        `floating pool ${pool} holds addresses that are not IPv4`,
        {
          pool,
        },
      );
      continue;
    }
    byPool.set(pool, external.network);
    ranges.push({ what: `floating pool ${pool}`, cidr: external.cidr });
  }
  return { byPool, ranges };
}

/** The ranges may overlap neither each other nor a subnet the networking service already has. */
function checkRanges(ranges: readonly Range[], networking: NetworkingSnapshot, findings: Findings): void {
  for (const [index, range] of ranges.entries()) {
    for (const other of ranges.slice(index + 1)) {
      if (cidrsOverlap(range.cidr, other.cidr)) {
        findings.conflict(
          'overlapping_ranges',
          `${range.what} (${formatCidr(range.cidr)}) overlaps ${other.what} (${formatCidr(other.cidr)})`,
          { ranges: [formatCidr(range.cidr), formatCidr(other.cidr)] },
        );
      }
    }
    for (const subnet of networking.subnets) {
      const existing = parseCidr(subnet.cidr);
      if (existing && cidrsOverlap(range.cidr, existing)) {
        findings.conflict(
          'overlapping_subnet',
          `${range.what} (${formatCidr(range.cidr)}) overlaps subnet ${subnet.uuid} (${subnet.cidr}) of the networking service`,
          { range: formatCidr(range.cidr), subnet: subnet.uuid },
        );
      }
    }
  }
}

/** Floating IPs allocated to a project, re-associated with the port of their fixed IP. */
function planFloatingIps(
  legacy: LegacySnapshot,
  ports: ReadonlyMap<number, PlannedPort>,
  pools: ReadonlyMap<string, PlannedNetwork>,
  networking: NetworkingSnapshot,
  findings: Findings,
) {
  const floatingIps: PlannedFloatingIp[] = [];
  const fixedById = new Map(legacy.fixedIps.map((ip) => [ip.id, ip]));
  /** legacy network id → the pools of the floating IPs on its addresses */
  const poolsByNetwork = new Map<number, Set<string>>();
  for (const ip of legacy.floatingIps) {
    if (!pools.has(ip.pool)) continue;
    const holder = networking.addresses.get(ip.address);
    if (holder) {
      findings.conflict(
        'ip_in_use',
        `floating IP ${ip.address} is already held by port ${holder} of the networking service`,
        { ip_address: ip.address, held_by: holder },
      );
    }
    if (ip.project_id === null && ip.fixed_ip_id === null) continue;
    findings.alreadyMigrated('floatingip', String(ip.id), `floating IP ${ip.address}`);
    const fixed = ip.fixed_ip_id === null ? undefined : fixedById.get(ip.fixed_ip_id);
    const port = fixed?.virtual_interface_id == null ? undefined : ports.get(fixed.virtual_interface_id);
    if (ip.fixed_ip_id !== null && (!fixed || !port)) {
      findings.conflict(
        'floating_ip_unmapped',
        `floating IP ${ip.address} is associated with fixed IP ${fixed?.address ?? ip.fixed_ip_id}, which no carried-over VIF holds`,
        { ip_address: ip.address },
      );
      continue;
    }
    floatingIps.push({
      legacy_id: ip.id,
      floating_ip_address: ip.address,
      pool: ip.pool,
      project_id: ip.project_id ?? port?.project_id ?? '',
      port_id: port?.id ?? null,
      fixed_ip_address: fixed?.address ?? null,
    });
    if (port) {
      const onNetwork = poolsByNetwork.get(port.legacy_network_id) ?? new Set<string>();
      onNetwork.add(ip.pool);
      poolsByNetwork.set(port.legacy_network_id, onNetwork);
    }
  }
  return { floatingIps, poolsByNetwork };
}

/** A router per fixed network whose addresses carry floating IPs, its gateway on their pool. */
function planRouters(
  legacy: LegacySnapshot,
  poolsByNetwork: ReadonlyMap<number, ReadonlySet<string>>,
  findings: Findings,
): PlannedRouter[] {
  const routers: PlannedRouter[] = [];
  for (const [networkId, pools] of poolsByNetwork) {
    const network = legacy.networks.find((candidate) => candidate.id === networkId);
    if (!network) continue;
    if (pools.size > 1) {
      findings.conflict(
        'several_floating_pools',
        `network ${network.uuid} has floating IPs from pools ${[...pools].sort().join(', ')}; one router can have its gateway on one pool only`,
        { network: network.uuid },
      );
      continue;
    }
    findings.alreadyMigrated('router', String(network.id), `the router of network ${network.uuid}`);
    routers.push(routerFor(network, [...pools][0] ?? ''));
  }
  return routers;
}

/** The plan of the whole migration, with every conflict and warning. */
export function planMigration(
  legacy: LegacySnapshot,
  networking: NetworkingSnapshot,
  physicalNetwork: string,
): NetworkMigrationPlan {
  const findings = new Findings(networking);
  const fixed = planFixedNetworks(legacy, networking, physicalNetwork, findings);
  const ports = planPorts(legacy, fixed.byLegacyId, networking, findings);
  const instancesToPlug = planReplug(legacy, ports.values(), findings);
  const external = planFloatingPools(legacy, physicalNetwork, findings);
  checkRanges([...fixed.ranges, ...external.ranges], networking, findings);
  const floating = planFloatingIps(legacy, ports, external.byPool, networking, findings);
  const routers = planRouters(legacy, floating.poolsByNetwork, findings);
  return {
    networks: [...fixed.byLegacyId.values(), ...external.byPool.values()],
    ports: [...ports.values()],
    floating_ips: floating.floatingIps,
    routers,
    instances_to_plug: instancesToPlug,
    conflicts: findings.conflicts,
    warnings: findings.warnings,
  };
}

/** The router that takes over a fixed network's gateway and NATs its floating IPs. */
export function routerFor(network: LegacyNetwork, pool: string): PlannedRouter {
  return {
    legacy_network_id: network.id,
    name: `nova-network-${network.label ?? network.uuid}`.slice(0, 255),
    project_id: network.project_id,
    pool,
    interface_ip: network.gateway,
  };
}

function groupBy<T, K>(items: readonly T[], key: (item: T) => K): Map<K, T[]> {
  const groups = new Map<K, T[]>();
  for (const item of items) {
    const group = groups.get(key(item));
    if (group) group.push(item);
    else groups.set(key(item), [item]);
  }
  return groups;
}

function summarize(addresses: readonly string[]): string {
  const shown = addresses.slice(0, 3).join(', ');
  return addresses.length > 3 ? `${shown} and ${addresses.length - 3} more` : shown;
}
