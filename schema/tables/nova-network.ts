import {
  bigint as bigintColumn,
  boolean,
  index,
  int,
  mysqlTable,
  uniqueIndex,
  varchar,
} from 'drizzle-orm/mysql-core';
import { id, softDelete, timestamps } from './columns.ts';
import { IP_TEXT_LENGTH } from './networking.ts';

/** A reference to another row's `id` (the tables' ids are unsigned bigints). */
const bigint = (name: string) => bigintColumn(name, { mode: 'number', unsigned: true });

// nova-network's Havana tables, kept with their names, columns and soft delete for deployments that
// still run the legacy network API (NETWORK_API=nova-network), and read by the migration to the
// networking service. Uniqueness includes `deleted`, as Havana's did.

export const novaNetworks = mysqlTable(
  'networks',
  {
    id: id(),
    uuid: varchar('uuid', { length: 36 }).notNull(),
    label: varchar('label', { length: 255 }),
    injected: boolean('injected').notNull().default(false),
    cidr: varchar('cidr', { length: IP_TEXT_LENGTH }),
    cidr_v6: varchar('cidr_v6', { length: IP_TEXT_LENGTH }),
    netmask: varchar('netmask', { length: IP_TEXT_LENGTH }),
    netmask_v6: varchar('netmask_v6', { length: IP_TEXT_LENGTH }),
    gateway: varchar('gateway', { length: IP_TEXT_LENGTH }),
    gateway_v6: varchar('gateway_v6', { length: IP_TEXT_LENGTH }),
    broadcast: varchar('broadcast', { length: IP_TEXT_LENGTH }),
    dns1: varchar('dns1', { length: IP_TEXT_LENGTH }),
    dns2: varchar('dns2', { length: IP_TEXT_LENGTH }),
    bridge: varchar('bridge', { length: 255 }),
    bridge_interface: varchar('bridge_interface', { length: 255 }),
    /** Set on VlanManager networks only; unique among live networks. */
    vlan: int('vlan'),
    multi_host: boolean('multi_host').notNull().default(false),
    vpn_public_address: varchar('vpn_public_address', { length: IP_TEXT_LENGTH }),
    vpn_public_port: int('vpn_public_port'),
    vpn_private_address: varchar('vpn_private_address', { length: IP_TEXT_LENGTH }),
    dhcp_start: varchar('dhcp_start', { length: IP_TEXT_LENGTH }),
    rxtx_base: int('rxtx_base'),
    /** NULL: shared by every project (Flat); set: the project the network belongs to (VLAN). */
    project_id: varchar('project_id', { length: 255 }),
    priority: int('priority'),
    host: varchar('host', { length: 255 }),
    ...timestamps,
    ...softDelete,
  },
  (t) => [
    uniqueIndex('uniq_networks0uuid').on(t.uuid),
    uniqueIndex('uniq_networks0vlan0deleted').on(t.vlan, t.deleted),
    index('networks_project_id_deleted_idx').on(t.project_id, t.deleted),
  ],
);

/** One row per address of every network, written when the network is created (Havana's bulk create). */
export const fixedIps = mysqlTable(
  'fixed_ips',
  {
    id: id(),
    address: varchar('address', { length: IP_TEXT_LENGTH }).notNull(),
    network_id: bigint('network_id').notNull(),
    /** Set ⇒ allocated to that VIF. */
    virtual_interface_id: bigint('virtual_interface_id'),
    /** Set ⇒ associated with that instance. */
    instance_uuid: varchar('instance_uuid', { length: 36 }),
    allocated: boolean('allocated').notNull().default(false),
    leased: boolean('leased').notNull().default(false),
    /** The network address, the gateway and the broadcast address (and VLAN mode's VPN address). */
    reserved: boolean('reserved').notNull().default(false),
    host: varchar('host', { length: 255 }),
    ...timestamps,
    ...softDelete,
  },
  (t) => [
    uniqueIndex('uniq_fixed_ips0address0deleted').on(t.address, t.deleted),
    index('fixed_ips_network_id_free_idx').on(t.network_id, t.instance_uuid, t.reserved),
    index('fixed_ips_instance_uuid_idx').on(t.instance_uuid),
    index('fixed_ips_virtual_interface_id_idx').on(t.virtual_interface_id),
  ],
);

export const floatingIps = mysqlTable(
  'floating_ips',
  {
    id: id(),
    address: varchar('address', { length: IP_TEXT_LENGTH }).notNull(),
    /** Set ⇒ associated with that fixed IP (fixed_ips.id). */
    fixed_ip_id: bigint('fixed_ip_id'),
    /** Set ⇒ allocated to that project. */
    project_id: varchar('project_id', { length: 255 }),
    host: varchar('host', { length: 255 }),
    auto_assigned: boolean('auto_assigned').notNull().default(false),
    pool: varchar('pool', { length: 255 }).notNull().default('nova'),
    interface: varchar('interface', { length: 255 }),
    ...timestamps,
    ...softDelete,
  },
  (t) => [
    uniqueIndex('uniq_floating_ips0address0deleted').on(t.address, t.deleted),
    index('floating_ips_pool_project_idx').on(t.pool, t.project_id),
    index('floating_ips_fixed_ip_id_idx').on(t.fixed_ip_id),
  ],
);

export const virtualInterfaces = mysqlTable(
  'virtual_interfaces',
  {
    id: id(),
    /** The MAC address. */
    address: varchar('address', { length: 255 }).notNull(),
    network_id: bigint('network_id'),
    instance_uuid: varchar('instance_uuid', { length: 36 }),
    uuid: varchar('uuid', { length: 36 }).notNull(),
    ...timestamps,
    ...softDelete,
  },
  (t) => [
    uniqueIndex('uniq_virtual_interfaces0address0deleted').on(t.address, t.deleted),
    // One live VIF per network per instance: a concurrent retry of an allocation reads the first one.
    uniqueIndex('uniq_virtual_interfaces0instance_uuid0network_id0deleted').on(
      t.instance_uuid,
      t.network_id,
      t.deleted,
    ),
    index('virtual_interfaces_instance_uuid_idx').on(t.instance_uuid),
    index('virtual_interfaces_network_id_idx').on(t.network_id),
  ],
);
