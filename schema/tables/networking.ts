import {
  bigint,
  boolean,
  datetime,
  index,
  int,
  json,
  mysqlTable,
  primaryKey,
  uniqueIndex,
  varchar,
} from 'drizzle-orm/mysql-core';
import { id, timestamps } from './columns.ts';

// The networking service's own tables (the /network/v2.0 API, Neutron's model). Rows are deleted
// outright, as Neutron deletes them: nothing here is soft-deleted, so every natural key is a plain
// unique key. They are prefixed `neutron_` because nova-network's Havana tables keep their own names
// (schema/tables/nova-network.ts) in the same database while a deployment migrates.

/** Neutron's limit on a name or description. */
export const NEUTRON_NAME_LENGTH = 255;
/** Long enough for any IPv6 address or CIDR in text form. */
export const IP_TEXT_LENGTH = 64;

export const neutronNetworks = mysqlTable(
  'neutron_networks',
  {
    id: id(),
    uuid: varchar('uuid', { length: 36 }).notNull(),
    project_id: varchar('project_id', { length: 64 }).notNull(),
    name: varchar('name', { length: NEUTRON_NAME_LENGTH }).notNull().default(''),
    description: varchar('description', { length: NEUTRON_NAME_LENGTH }).notNull().default(''),
    admin_state_up: boolean('admin_state_up').notNull().default(true),
    /** ACTIVE, DOWN, BUILD or ERROR. */
    status: varchar('status', { length: 16 }).notNull().default('ACTIVE'),
    shared: boolean('shared').notNull().default(false),
    router_external: boolean('router_external').notNull().default(false),
    mtu: int('mtu').notNull().default(1500),
    /** provider:network_type: `flat`, `vlan` or `local`. */
    network_type: varchar('network_type', { length: 16 }).notNull().default('local'),
    physical_network: varchar('physical_network', { length: 64 }),
    /** The VLAN id of a `vlan` network; unique per physical network (the key below). */
    segmentation_id: int('segmentation_id'),
    port_security_enabled: boolean('port_security_enabled').notNull().default(true),
    revision_number: bigint('revision_number', { mode: 'number', unsigned: true }).notNull().default(0),
    ...timestamps,
  },
  (t) => [
    uniqueIndex('uniq_neutron_networks0uuid').on(t.uuid),
    uniqueIndex('uniq_neutron_networks0physical_network0segmentation_id').on(
      t.physical_network,
      t.segmentation_id,
    ),
    index('neutron_networks_project_idx').on(t.project_id),
  ],
);

export interface AllocationPool {
  start: string;
  end: string;
}
export interface HostRoute {
  destination: string;
  nexthop: string;
}

export const neutronSubnets = mysqlTable(
  'neutron_subnets',
  {
    id: id(),
    uuid: varchar('uuid', { length: 36 }).notNull(),
    network_uuid: varchar('network_uuid', { length: 36 }).notNull(),
    project_id: varchar('project_id', { length: 64 }).notNull(),
    name: varchar('name', { length: NEUTRON_NAME_LENGTH }).notNull().default(''),
    description: varchar('description', { length: NEUTRON_NAME_LENGTH }).notNull().default(''),
    ip_version: int('ip_version').notNull(),
    /** Canonical form (network address, prefix length). */
    cidr: varchar('cidr', { length: IP_TEXT_LENGTH }).notNull(),
    gateway_ip: varchar('gateway_ip', { length: IP_TEXT_LENGTH }),
    enable_dhcp: boolean('enable_dhcp').notNull().default(true),
    allocation_pools: json('allocation_pools').$type<AllocationPool[]>().notNull(),
    dns_nameservers: json('dns_nameservers').$type<string[]>().notNull(),
    host_routes: json('host_routes').$type<HostRoute[]>().notNull(),
    ipv6_address_mode: varchar('ipv6_address_mode', { length: 16 }),
    ipv6_ra_mode: varchar('ipv6_ra_mode', { length: 16 }),
    revision_number: bigint('revision_number', { mode: 'number', unsigned: true }).notNull().default(0),
    ...timestamps,
  },
  (t) => [
    uniqueIndex('uniq_neutron_subnets0uuid').on(t.uuid),
    index('neutron_subnets_network_idx').on(t.network_uuid),
    index('neutron_subnets_project_idx').on(t.project_id),
  ],
);

export interface AllowedAddressPair {
  ip_address: string;
  mac_address: string;
}

export const neutronPorts = mysqlTable(
  'neutron_ports',
  {
    id: id(),
    uuid: varchar('uuid', { length: 36 }).notNull(),
    network_uuid: varchar('network_uuid', { length: 36 }).notNull(),
    project_id: varchar('project_id', { length: 64 }).notNull(),
    name: varchar('name', { length: NEUTRON_NAME_LENGTH }).notNull().default(''),
    description: varchar('description', { length: NEUTRON_NAME_LENGTH }).notNull().default(''),
    /** Lower case `fa:16:3e:xx:xx:xx` when generated; unique across the cloud (the key below). */
    mac_address: varchar('mac_address', { length: 17 }).notNull(),
    admin_state_up: boolean('admin_state_up').notNull().default(true),
    /** ACTIVE, DOWN, BUILD or ERROR: DOWN until the host that binds it has plugged it. */
    status: varchar('status', { length: 16 }).notNull().default('DOWN'),
    /** The owner: an instance uuid for `compute:<zone>`, a router uuid for `network:router_*`. */
    device_id: varchar('device_id', { length: 255 }).notNull().default(''),
    device_owner: varchar('device_owner', { length: 255 }).notNull().default(''),
    binding_host_id: varchar('binding_host_id', { length: 255 }).notNull().default(''),
    /** `unbound` until a host binds the port, then `bridge`; `binding_failed` when binding failed. */
    binding_vif_type: varchar('binding_vif_type', { length: 64 }).notNull().default('unbound'),
    binding_vnic_type: varchar('binding_vnic_type', { length: 64 }).notNull().default('normal'),
    binding_profile: json('binding_profile').$type<Record<string, unknown>>().notNull(),
    allowed_address_pairs: json('allowed_address_pairs').$type<AllowedAddressPair[]>().notNull(),
    port_security_enabled: boolean('port_security_enabled').notNull().default(true),
    revision_number: bigint('revision_number', { mode: 'number', unsigned: true }).notNull().default(0),
    ...timestamps,
  },
  (t) => [
    uniqueIndex('uniq_neutron_ports0uuid').on(t.uuid),
    uniqueIndex('uniq_neutron_ports0mac_address').on(t.mac_address),
    index('neutron_ports_network_idx').on(t.network_uuid),
    index('neutron_ports_device_idx').on(t.device_id),
    index('neutron_ports_project_idx').on(t.project_id),
  ],
);

/**
 * One row per address a port holds. The unique key on (subnet, address) is what makes IPAM race-free:
 * two concurrent creates that pick the same free address cannot both insert it.
 */
export const neutronIpAllocations = mysqlTable(
  'neutron_ip_allocations',
  {
    id: id(),
    port_uuid: varchar('port_uuid', { length: 36 }).notNull(),
    subnet_uuid: varchar('subnet_uuid', { length: 36 }).notNull(),
    network_uuid: varchar('network_uuid', { length: 36 }).notNull(),
    ip_address: varchar('ip_address', { length: IP_TEXT_LENGTH }).notNull(),
    created_at: datetime('created_at', { mode: 'date', fsp: 3 }).notNull(),
  },
  (t) => [
    uniqueIndex('uniq_neutron_ip_allocations0subnet_uuid0ip_address').on(t.subnet_uuid, t.ip_address),
    index('neutron_ip_allocations_port_idx').on(t.port_uuid),
  ],
);

export const neutronRouters = mysqlTable(
  'neutron_routers',
  {
    id: id(),
    uuid: varchar('uuid', { length: 36 }).notNull(),
    project_id: varchar('project_id', { length: 64 }).notNull(),
    name: varchar('name', { length: NEUTRON_NAME_LENGTH }).notNull().default(''),
    description: varchar('description', { length: NEUTRON_NAME_LENGTH }).notNull().default(''),
    admin_state_up: boolean('admin_state_up').notNull().default(true),
    status: varchar('status', { length: 16 }).notNull().default('ACTIVE'),
    /** The external network of the router's gateway; its gateway port has device_owner network:router_gateway. */
    gw_network_uuid: varchar('gw_network_uuid', { length: 36 }),
    gw_port_uuid: varchar('gw_port_uuid', { length: 36 }),
    enable_snat: boolean('enable_snat').notNull().default(true),
    revision_number: bigint('revision_number', { mode: 'number', unsigned: true }).notNull().default(0),
    ...timestamps,
  },
  (t) => [
    uniqueIndex('uniq_neutron_routers0uuid').on(t.uuid),
    index('neutron_routers_project_idx').on(t.project_id),
  ],
);

/**
 * A floating IP holds its address through a port of its own on the external network (device_owner
 * network:floatingip), so the address comes from the same IPAM as every other. At most one floating IP
 * per fixed address of a port (the key below).
 */
export const neutronFloatingIps = mysqlTable(
  'neutron_floatingips',
  {
    id: id(),
    uuid: varchar('uuid', { length: 36 }).notNull(),
    project_id: varchar('project_id', { length: 64 }).notNull(),
    description: varchar('description', { length: NEUTRON_NAME_LENGTH }).notNull().default(''),
    floating_network_uuid: varchar('floating_network_uuid', { length: 36 }).notNull(),
    floating_port_uuid: varchar('floating_port_uuid', { length: 36 }).notNull(),
    floating_ip_address: varchar('floating_ip_address', { length: IP_TEXT_LENGTH }).notNull(),
    fixed_port_uuid: varchar('fixed_port_uuid', { length: 36 }),
    fixed_ip_address: varchar('fixed_ip_address', { length: IP_TEXT_LENGTH }),
    router_uuid: varchar('router_uuid', { length: 36 }),
    /** ACTIVE when associated, DOWN otherwise. */
    status: varchar('status', { length: 16 }).notNull().default('DOWN'),
    revision_number: bigint('revision_number', { mode: 'number', unsigned: true }).notNull().default(0),
    ...timestamps,
  },
  (t) => [
    uniqueIndex('uniq_neutron_floatingips0uuid').on(t.uuid),
    uniqueIndex('uniq_neutron_floatingips0floating_port_uuid').on(t.floating_port_uuid),
    uniqueIndex('uniq_neutron_floatingips0fixed_port_uuid0fixed_ip_address').on(
      t.fixed_port_uuid,
      t.fixed_ip_address,
    ),
    index('neutron_floatingips_project_idx').on(t.project_id),
  ],
);

export const neutronSecurityGroups = mysqlTable(
  'neutron_security_groups',
  {
    id: id(),
    uuid: varchar('uuid', { length: 36 }).notNull(),
    project_id: varchar('project_id', { length: 64 }).notNull(),
    name: varchar('name', { length: NEUTRON_NAME_LENGTH }).notNull().default(''),
    description: varchar('description', { length: NEUTRON_NAME_LENGTH }).notNull().default(''),
    stateful: boolean('stateful').notNull().default(true),
    revision_number: bigint('revision_number', { mode: 'number', unsigned: true }).notNull().default(0),
    ...timestamps,
  },
  (t) => [
    uniqueIndex('uniq_neutron_security_groups0uuid').on(t.uuid),
    index('neutron_security_groups_project_idx').on(t.project_id),
  ],
);

/** A project's `default` group: the primary key makes creating it on first use race-free. */
export const neutronDefaultSecurityGroups = mysqlTable('neutron_default_security_groups', {
  project_id: varchar('project_id', { length: 64 }).primaryKey(),
  security_group_uuid: varchar('security_group_uuid', { length: 36 }).notNull(),
});

export const neutronSecurityGroupRules = mysqlTable(
  'neutron_security_group_rules',
  {
    id: id(),
    uuid: varchar('uuid', { length: 36 }).notNull(),
    security_group_uuid: varchar('security_group_uuid', { length: 36 }).notNull(),
    project_id: varchar('project_id', { length: 64 }).notNull(),
    description: varchar('description', { length: NEUTRON_NAME_LENGTH }).notNull().default(''),
    /** ingress or egress. */
    direction: varchar('direction', { length: 16 }).notNull(),
    /** IPv4 or IPv6. */
    ethertype: varchar('ethertype', { length: 8 }).notNull(),
    protocol: varchar('protocol', { length: 40 }),
    port_range_min: int('port_range_min'),
    port_range_max: int('port_range_max'),
    remote_ip_prefix: varchar('remote_ip_prefix', { length: IP_TEXT_LENGTH }),
    remote_group_uuid: varchar('remote_group_uuid', { length: 36 }),
    revision_number: bigint('revision_number', { mode: 'number', unsigned: true }).notNull().default(0),
    ...timestamps,
  },
  (t) => [
    uniqueIndex('uniq_neutron_security_group_rules0uuid').on(t.uuid),
    index('neutron_security_group_rules_group_idx').on(t.security_group_uuid),
  ],
);

export const neutronPortSecurityGroups = mysqlTable(
  'neutron_port_security_groups',
  {
    port_uuid: varchar('port_uuid', { length: 36 }).notNull(),
    security_group_uuid: varchar('security_group_uuid', { length: 36 }).notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.port_uuid, t.security_group_uuid] }),
    index('neutron_port_security_groups_group_idx').on(t.security_group_uuid),
  ],
);

/** Per-project overrides of the networking quotas (network, subnet, port, router, floatingip, ...). */
export const neutronQuotas = mysqlTable(
  'neutron_quotas',
  {
    id: id(),
    project_id: varchar('project_id', { length: 64 }).notNull(),
    resource: varchar('resource', { length: 64 }).notNull(),
    hard_limit: int('hard_limit').notNull(),
    ...timestamps,
  },
  (t) => [uniqueIndex('uniq_neutron_quotas0project_id0resource').on(t.project_id, t.resource)],
);
