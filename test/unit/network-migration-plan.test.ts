import { describe, expect, it } from 'vitest';
import { formatPools } from '../../functions/network/allocation-pools.ts';
import { formatCidr, parseCidr, parseIp } from '../../functions/network/ip-math.ts';
import { type Finding, planMigration } from '../../functions/network/migration/plan.ts';
import { consecutiveRuns, coveringCidr, fixedSubnetPools } from '../../functions/network/migration/pools.ts';
import type {
  LegacyFixedIp,
  LegacyNetwork,
  LegacySnapshot,
  NetworkingSnapshot,
} from '../../functions/network/migration/snapshot.ts';
import {
  FINAL_STATUSES,
  FROZEN_STATUSES,
  NETWORK_MIGRATION_TRANSITIONS,
  type NetworkMigrationEvent,
  networkMigrationTransitionAllowed,
} from '../../functions/network/migration/states.ts';
import { compareMigration, type MigratedState } from '../../functions/network/migration/verify.ts';

// The migration's plan arithmetic: the pools a nova network's subnet gets, the subnet a floating pool
// gets, each conflict the plan must report, and verify's comparison address by address.

const ip = (text: string) => {
  const parsed = parseIp(text);
  if (!parsed) throw new Error(`bad address ${text}`);
  return parsed.value;
};
const cidr = (text: string) => {
  const parsed = parseCidr(text);
  if (!parsed) throw new Error(`bad cidr ${text}`);
  return parsed;
};
const pools = (...args: Parameters<typeof fixedSubnetPools>) => formatPools(4, fixedSubnetPools(...args));

describe('fixed subnet pools', () => {
  it('run from dhcp_start to the address below the broadcast, without the gateway', () => {
    expect(pools(cidr('10.0.0.0/24'), ip('10.0.0.2'), ip('10.0.0.1'), [])).toEqual([
      { start: '10.0.0.2', end: '10.0.0.254' },
    ]);
  });

  it('start at dhcp_start, leaving the addresses below it out', () => {
    expect(pools(cidr('10.0.0.0/24'), ip('10.0.0.10'), ip('10.0.0.1'), [])).toEqual([
      { start: '10.0.0.10', end: '10.0.0.254' },
    ]);
  });

  it('have a hole for each reserved address inside them', () => {
    // VlanManager reserves the VPN address above the gateway; an admin reserved .20 and .254.
    const reserved = [ip('10.1.0.2'), ip('10.1.0.20'), ip('10.1.0.254'), ip('10.1.0.0'), ip('10.1.0.255')];
    expect(pools(cidr('10.1.0.0/24'), ip('10.1.0.2'), ip('10.1.0.1'), reserved)).toEqual([
      { start: '10.1.0.3', end: '10.1.0.19' },
      { start: '10.1.0.21', end: '10.1.0.253' },
    ]);
  });

  it('split around a gateway that lies inside the range', () => {
    expect(pools(cidr('192.168.5.0/28'), ip('192.168.5.2'), ip('192.168.5.9'), [])).toEqual([
      { start: '192.168.5.2', end: '192.168.5.8' },
      { start: '192.168.5.10', end: '192.168.5.14' },
    ]);
  });

  it('start at the first host address when dhcp_start is missing or below it', () => {
    expect(pools(cidr('10.2.0.0/29'), undefined, undefined, [])).toEqual([
      { start: '10.2.0.1', end: '10.2.0.6' },
    ]);
    expect(pools(cidr('10.2.0.0/29'), ip('10.2.0.0'), undefined, [])).toEqual([
      { start: '10.2.0.1', end: '10.2.0.6' },
    ]);
  });
});

describe('floating pool subnets', () => {
  it('are the smallest CIDR holding every address as a host address', () => {
    const addresses = ['172.24.4.1', '172.24.4.2', '172.24.4.50'].map(ip);
    expect(formatCidr(coveringCidr(addresses) ?? cidr('0.0.0.0/0'))).toBe('172.24.4.0/26');
    expect(formatCidr(coveringCidr([ip('203.0.113.7')]) ?? cidr('0.0.0.0/0'))).toBe('203.0.113.7/32');
  });

  it('grow when an address would be the network or broadcast address', () => {
    // .64-.127 is a /26 whose network address .64 cannot be a host's: the /25 holds it.
    const addresses = ['172.24.4.64', '172.24.4.100'].map(ip);
    expect(formatCidr(coveringCidr(addresses) ?? cidr('0.0.0.0/0'))).toBe('172.24.4.0/25');
  });

  it('hand out only the pool addresses, as runs of consecutive ones', () => {
    const runs = consecutiveRuns(
      ['172.24.4.5', '172.24.4.1', '172.24.4.2', '172.24.4.3', '172.24.4.9'].map(ip),
    );
    expect(formatPools(4, runs)).toEqual([
      { start: '172.24.4.1', end: '172.24.4.3' },
      { start: '172.24.4.5', end: '172.24.4.5' },
      { start: '172.24.4.9', end: '172.24.4.9' },
    ]);
  });
});

// A small legacy deployment: a shared flat network, a VLAN network of project p2, two instances on
// compute-a, and a floating pool with one associated and one allocated address.
function network(overrides: Partial<LegacyNetwork> & Pick<LegacyNetwork, 'id' | 'cidr'>): LegacyNetwork {
  return {
    uuid: `00000000-0000-4000-8000-00000000000${overrides.id}`,
    label: `net${overrides.id}`,
    cidr_v6: null,
    gateway: null,
    dns1: '8.8.4.4',
    dns2: null,
    vlan: null,
    dhcp_start: null,
    project_id: null,
    injected: false,
    multi_host: false,
    ...overrides,
  };
}

function fixed(
  id: number,
  address: string,
  networkId: number,
  vif: number | null,
  instance: string | null,
): LegacyFixedIp {
  return {
    id,
    address,
    network_id: networkId,
    virtual_interface_id: vif,
    instance_uuid: instance,
    reserved: false,
  };
}

const VM1 = '11111111-1111-4111-8111-111111111111';
const VM2 = '22222222-2222-4222-8222-222222222222';

function legacyDeployment(): LegacySnapshot {
  return {
    networks: [
      network({ id: 1, cidr: '10.0.0.0/24', gateway: '10.0.0.1', dhcp_start: '10.0.0.2' }),
      network({
        id: 2,
        cidr: '10.1.0.0/24',
        gateway: '10.1.0.1',
        dhcp_start: '10.1.0.3',
        vlan: 102,
        project_id: 'p2',
      }),
    ],
    fixedIps: [
      { ...fixed(100, '10.1.0.2', 2, null, null), reserved: true },
      fixed(101, '10.0.0.5', 1, 1, VM1),
      fixed(102, '10.1.0.7', 2, 2, VM2),
    ],
    vifs: [
      {
        id: 1,
        uuid: 'aaaaaaaa-0000-4000-8000-000000000001',
        address: 'FA:16:3E:00:00:01',
        network_id: 1,
        instance_uuid: VM1,
      },
      {
        id: 2,
        uuid: 'aaaaaaaa-0000-4000-8000-000000000002',
        address: 'fa:16:3e:00:00:02',
        network_id: 2,
        instance_uuid: VM2,
      },
    ],
    floatingIps: [
      { id: 1, address: '172.24.4.1', fixed_ip_id: 101, project_id: 'p1', pool: 'nova' },
      { id: 2, address: '172.24.4.2', fixed_ip_id: null, project_id: 'p2', pool: 'nova' },
      { id: 3, address: '172.24.4.3', fixed_ip_id: null, project_id: null, pool: 'nova' },
    ],
    instances: new Map([
      [VM1, { uuid: VM1, project_id: 'p1', host: 'compute-a', availability_zone: 'az-1', task_state: null }],
      [VM2, { uuid: VM2, project_id: 'p2', host: 'compute-a', availability_zone: null, task_state: null }],
    ]),
    hostProblems: new Map([['compute-a', undefined]]),
  };
}

function emptyNetworking(): NetworkingSnapshot {
  return {
    subnets: [],
    segments: [],
    networkUuids: new Set(),
    macs: new Map(),
    addresses: new Map(),
    migratedElsewhere: new Map(),
  };
}

const types = (findings: Finding[]) => findings.map((finding) => finding.type).sort();

describe('the plan', () => {
  it('carries a clean deployment over with no conflict: networks, ports, floating IPs, a router', () => {
    const plan = planMigration(legacyDeployment(), emptyNetworking(), 'physnet1');
    expect(plan.conflicts).toEqual([]);
    expect(plan.networks.map((planned) => planned.subnet)).toEqual([
      {
        ip_version: 4,
        cidr: '10.0.0.0/24',
        gateway_ip: '10.0.0.1',
        dns_nameservers: ['8.8.4.4'],
        allocation_pools: [{ start: '10.0.0.2', end: '10.0.0.254' }],
        enable_dhcp: true,
      },
      {
        ip_version: 4,
        cidr: '10.1.0.0/24',
        gateway_ip: '10.1.0.1',
        dns_nameservers: ['8.8.4.4'],
        allocation_pools: [{ start: '10.1.0.3', end: '10.1.0.254' }],
        enable_dhcp: true,
      },
      {
        ip_version: 4,
        // .3 would be a /30's broadcast address: the /29 holds all three as host addresses.
        cidr: '172.24.4.0/29',
        gateway_ip: null,
        dns_nameservers: [],
        allocation_pools: [{ start: '172.24.4.1', end: '172.24.4.3' }],
        enable_dhcp: false,
      },
    ]);
    expect(
      plan.networks.map(({ id, network_type, segmentation_id, shared, router_external, project_id }) => ({
        id,
        network_type,
        segmentation_id,
        shared,
        router_external,
        project_id,
      })),
    ).toEqual([
      {
        id: '00000000-0000-4000-8000-000000000001',
        network_type: 'flat',
        segmentation_id: null,
        shared: true,
        router_external: false,
        project_id: null,
      },
      {
        id: '00000000-0000-4000-8000-000000000002',
        network_type: 'vlan',
        segmentation_id: 102,
        shared: false,
        router_external: false,
        project_id: 'p2',
      },
      {
        id: null,
        network_type: 'flat',
        segmentation_id: null,
        shared: false,
        router_external: true,
        project_id: null,
      },
    ]);
    expect(plan.ports).toEqual([
      {
        vif_id: 1,
        id: 'aaaaaaaa-0000-4000-8000-000000000001',
        legacy_network_id: 1,
        network_id: '00000000-0000-4000-8000-000000000001',
        project_id: 'p1',
        mac_address: 'fa:16:3e:00:00:01',
        fixed_ips: ['10.0.0.5'],
        device_id: VM1,
        device_owner: 'compute:az-1',
        binding_host_id: 'compute-a',
      },
      {
        vif_id: 2,
        id: 'aaaaaaaa-0000-4000-8000-000000000002',
        legacy_network_id: 2,
        network_id: '00000000-0000-4000-8000-000000000002',
        project_id: 'p2',
        mac_address: 'fa:16:3e:00:00:02',
        fixed_ips: ['10.1.0.7'],
        device_id: VM2,
        device_owner: 'compute:nova',
        binding_host_id: 'compute-a',
      },
    ]);
    // The unallocated address is no floating IP: it stays free in the external subnet's pool.
    expect(plan.floating_ips).toEqual([
      {
        legacy_id: 1,
        floating_ip_address: '172.24.4.1',
        pool: 'nova',
        project_id: 'p1',
        port_id: 'aaaaaaaa-0000-4000-8000-000000000001',
        fixed_ip_address: '10.0.0.5',
      },
      {
        legacy_id: 2,
        floating_ip_address: '172.24.4.2',
        pool: 'nova',
        project_id: 'p2',
        port_id: null,
        fixed_ip_address: null,
      },
    ]);
    expect(plan.routers).toEqual([
      {
        legacy_network_id: 1,
        name: 'nova-network-net1',
        project_id: null,
        pool: 'nova',
        interface_ip: '10.0.0.1',
      },
    ]);
    expect(plan.instances_to_plug).toBe(2);
  });

  it('reports legacy ranges that overlap each other', () => {
    const legacy = legacyDeployment();
    legacy.networks.push(network({ id: 3, cidr: '10.0.0.128/25', gateway: '10.0.0.129' }));
    const plan = planMigration(legacy, emptyNetworking(), 'physnet1');
    expect(types(plan.conflicts)).toEqual(['overlapping_ranges']);
    expect(plan.conflicts[0]?.ranges).toEqual(['10.0.0.0/24', '10.0.0.128/25']);
  });

  it('reports a range overlapping a subnet the networking service has', () => {
    const networking = emptyNetworking();
    networking.subnets.push({ uuid: 'subnet-x', network_uuid: 'net-x', cidr: '172.24.0.0/16' });
    const plan = planMigration(legacyDeployment(), networking, 'physnet1');
    expect(types(plan.conflicts)).toEqual(['overlapping_subnet']);
    expect(plan.conflicts[0]).toMatchObject({ range: '172.24.4.0/29', subnet: 'subnet-x' });
  });

  it('reports a VLAN the networking service already uses on the same physical network only', () => {
    const networking = emptyNetworking();
    networking.segments.push({ network_uuid: 'net-x', physical_network: 'physnet1', segmentation_id: 102 });
    expect(types(planMigration(legacyDeployment(), networking, 'physnet1').conflicts)).toEqual([
      'vlan_clash',
    ]);
    expect(planMigration(legacyDeployment(), networking, 'physnet2').conflicts).toEqual([]);
  });

  it('reports floating addresses without a pool', () => {
    const legacy = legacyDeployment();
    legacy.floatingIps.push({
      id: 9,
      address: '198.51.100.9',
      fixed_ip_id: null,
      project_id: null,
      pool: '',
    });
    expect(types(planMigration(legacy, emptyNetworking(), 'physnet1').conflicts)).toEqual([
      'floating_range_without_pool',
    ]);
  });

  it('reports a MAC or an address the networking service already holds', () => {
    const networking = emptyNetworking();
    networking.macs.set('fa:16:3e:00:00:01', 'port-x');
    networking.addresses.set('172.24.4.2', 'port-y');
    const conflicts = planMigration(legacyDeployment(), networking, 'physnet1').conflicts;
    expect(types(conflicts)).toEqual(['ip_in_use', 'mac_in_use']);
    expect(conflicts.find((c) => c.type === 'mac_in_use')).toMatchObject({
      instance: VM1,
      held_by: 'port-x',
    });
  });

  it('reports hosts whose agent cannot re-plug, busy instances and IPv6 ranges', () => {
    const legacy = legacyDeployment();
    legacy.hostProblems.set('compute-a', 'its agent does not run plug_vifs: upgrade it');
    const busy = legacy.instances.get(VM2);
    if (busy) busy.task_state = 'migrating';
    const first = legacy.networks[0];
    if (first) first.cidr_v6 = 'fd00::/64';
    const conflicts = planMigration(legacy, emptyNetworking(), 'physnet1').conflicts;
    expect(types(conflicts)).toEqual(['host_cannot_plug', 'instance_busy', 'ipv6_network']);
    expect(conflicts.find((c) => c.type === 'host_cannot_plug')).toMatchObject({
      host: 'compute-a',
      instances: 2,
    });
  });

  it('reports an instance on a host with no registered agent', () => {
    const legacy = legacyDeployment();
    legacy.hostProblems.clear();
    expect(planMigration(legacy, emptyNetworking(), 'physnet1').conflicts).toMatchObject([
      { type: 'host_cannot_plug', message: expect.stringContaining('no compute agent is registered') },
    ]);
  });

  it('reports a floating IP whose fixed IP no carried VIF holds, and floating IPs of one network from two pools', () => {
    const legacy = legacyDeployment();
    legacy.fixedIps.push({ ...fixed(103, '10.0.0.9', 1, null, VM1) });
    legacy.floatingIps.push({
      id: 4,
      address: '172.24.4.4',
      fixed_ip_id: 103,
      project_id: 'p1',
      pool: 'nova',
    });
    legacy.fixedIps.push(fixed(104, '10.0.0.6', 1, 1, VM1));
    legacy.floatingIps.push({
      id: 5,
      address: '198.51.100.1',
      fixed_ip_id: 104,
      project_id: 'p1',
      pool: 'public',
    });
    const plan = planMigration(legacy, emptyNetworking(), 'physnet1');
    expect(types(plan.conflicts)).toEqual(['floating_ip_unmapped', 'several_floating_pools']);
    expect(types(plan.warnings)).toContain('fixed_ip_without_vif');
  });

  it('skips VIFs of deleted instances with a warning', () => {
    const legacy = legacyDeployment();
    legacy.instances.delete(VM2);
    const plan = planMigration(legacy, emptyNetworking(), 'physnet1');
    expect(plan.ports.map((port) => port.device_id)).toEqual([VM1]);
    expect(types(plan.warnings)).toEqual(['stale_vif']);
  });
});

describe('verify', () => {
  function migratedAsPlanned(): MigratedState {
    const plan = planMigration(legacyDeployment(), emptyNetworking(), 'physnet1');
    return {
      ports: new Map(
        plan.ports.map((port) => [
          String(port.vif_id),
          {
            uuid: port.id,
            network_uuid: port.network_id,
            mac_address: port.mac_address,
            device_id: port.device_id,
            binding_host_id: port.binding_host_id,
            fixed_ips: port.fixed_ips,
          },
        ]),
      ),
      floatingIps: new Map(
        plan.floating_ips.map((floating) => [
          String(floating.legacy_id),
          {
            uuid: `fip-${floating.legacy_id}`,
            floating_ip_address: floating.floating_ip_address,
            project_id: floating.project_id,
            fixed_port_uuid: floating.port_id,
            fixed_ip_address: floating.fixed_ip_address,
          },
        ]),
      ),
      answers: new Map(
        plan.ports.map((port) => [
          port.device_id,
          {
            status: 'plugged',
            host: port.binding_host_id,
            vifs: [{ id: port.id, address: port.mac_address, ips: port.fixed_ips }],
            error: null,
          },
        ]),
      ),
    };
  }

  it('finds no difference when ports, floating IPs and the agents all match the legacy state', () => {
    expect(compareMigration(legacyDeployment(), migratedAsPlanned())).toEqual([]);
  });

  it('finds a changed MAC, a changed address and what an agent reports differently', () => {
    const migrated = migratedAsPlanned();
    const port = migrated.ports.get('1');
    if (port) port.mac_address = 'fa:16:3e:99:99:99';
    const other = migrated.ports.get('2');
    if (other) other.fixed_ips = ['10.1.0.8'];
    const answer = migrated.answers.get(VM1);
    if (answer) answer.vifs = [{ id: port?.uuid ?? '', address: 'fa:16:3e:00:00:01', ips: ['10.0.0.77'] }];
    // The agent of VM2 still reports the legacy address: only the port is wrong there.
    expect(types(compareMigration(legacyDeployment(), migrated))).toEqual([
      'agent_ips_changed',
      'fixed_ips_changed',
      'mac_changed',
    ]);
  });

  it('finds instances not re-plugged, missing ports, extra ports and a lost floating association', () => {
    const migrated = migratedAsPlanned();
    migrated.answers.set(VM1, {
      status: 'failed',
      host: 'compute-a',
      vifs: [],
      error: 'host did not answer',
    });
    const second = migrated.ports.get('2');
    if (second) migrated.ports.set('99', { ...second, uuid: 'port-99' });
    // VM2's agent still reports the port that is gone: a VIF the migrated state does not have.
    migrated.ports.delete('2');
    const floating = migrated.floatingIps.get('1');
    if (floating) floating.fixed_port_uuid = null;
    expect(types(compareMigration(legacyDeployment(), migrated))).toEqual([
      'agent_extra_vif',
      'floating_ip_changed',
      'missing_port',
      'not_replugged',
      'port_without_vif',
    ]);
  });
});

describe("the run's state table", () => {
  const statuses = [
    'planning',
    'planned',
    'refused',
    'migrating',
    'failed',
    'cutting_over',
    'completed',
    'rolling_back',
    'rolled_back',
  ];
  const events = Object.keys(NETWORK_MIGRATION_TRANSITIONS) as NetworkMigrationEvent[];

  it('allows a rollback only before the cut-over', () => {
    expect(
      statuses.filter((status) => networkMigrationTransitionAllowed('rollback_started', status)),
    ).toEqual(['planning', 'migrating', 'failed']);
  });

  it('lets nothing leave a final status', () => {
    for (const status of FINAL_STATUSES) {
      expect(
        events.filter((event) => networkMigrationTransitionAllowed(event, status)),
        status,
      ).toEqual([]);
    }
  });

  it('keeps the legacy API frozen from the freeze until the run ends', () => {
    expect([...FROZEN_STATUSES].sort()).toEqual(['cutting_over', 'failed', 'migrating', 'rolling_back']);
    expect(FROZEN_STATUSES.filter((status) => FINAL_STATUSES.includes(status))).toEqual([]);
  });
});
