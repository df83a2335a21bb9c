-- Shadow tables for nova-network's Havana tables, so that `npm run db:archive` moves their soft-deleted
-- rows as it moves every other soft-deletable table's (fixed IPs with their network). Re-runnable.
CREATE TABLE IF NOT EXISTS `shadow_fixed_ips` (
	`id` bigint unsigned NOT NULL,
	`address` varchar(64) NOT NULL,
	`network_id` bigint unsigned NOT NULL,
	`virtual_interface_id` bigint unsigned,
	`instance_uuid` varchar(36),
	`allocated` boolean NOT NULL DEFAULT false,
	`leased` boolean NOT NULL DEFAULT false,
	`reserved` boolean NOT NULL DEFAULT false,
	`host` varchar(255),
	`created_at` datetime(3) NOT NULL,
	`updated_at` datetime(3),
	`deleted_at` datetime(3),
	`deleted` bigint unsigned NOT NULL DEFAULT 0,
	CONSTRAINT `shadow_fixed_ips_id` PRIMARY KEY(`id`)
);
--> statement-breakpoint
CREATE TABLE IF NOT EXISTS `shadow_floating_ips` (
	`id` bigint unsigned NOT NULL,
	`address` varchar(64) NOT NULL,
	`fixed_ip_id` bigint unsigned,
	`project_id` varchar(255),
	`host` varchar(255),
	`auto_assigned` boolean NOT NULL DEFAULT false,
	`pool` varchar(255) NOT NULL DEFAULT 'nova',
	`interface` varchar(255),
	`created_at` datetime(3) NOT NULL,
	`updated_at` datetime(3),
	`deleted_at` datetime(3),
	`deleted` bigint unsigned NOT NULL DEFAULT 0,
	CONSTRAINT `shadow_floating_ips_id` PRIMARY KEY(`id`)
);
--> statement-breakpoint
CREATE TABLE IF NOT EXISTS `shadow_networks` (
	`id` bigint unsigned NOT NULL,
	`uuid` varchar(36) NOT NULL,
	`label` varchar(255),
	`injected` boolean NOT NULL DEFAULT false,
	`cidr` varchar(64),
	`cidr_v6` varchar(64),
	`netmask` varchar(64),
	`netmask_v6` varchar(64),
	`gateway` varchar(64),
	`gateway_v6` varchar(64),
	`broadcast` varchar(64),
	`dns1` varchar(64),
	`dns2` varchar(64),
	`bridge` varchar(255),
	`bridge_interface` varchar(255),
	`vlan` int,
	`multi_host` boolean NOT NULL DEFAULT false,
	`vpn_public_address` varchar(64),
	`vpn_public_port` int,
	`vpn_private_address` varchar(64),
	`dhcp_start` varchar(64),
	`rxtx_base` int,
	`project_id` varchar(255),
	`priority` int,
	`host` varchar(255),
	`created_at` datetime(3) NOT NULL,
	`updated_at` datetime(3),
	`deleted_at` datetime(3),
	`deleted` bigint unsigned NOT NULL DEFAULT 0,
	CONSTRAINT `shadow_networks_id` PRIMARY KEY(`id`)
);
--> statement-breakpoint
CREATE TABLE IF NOT EXISTS `shadow_virtual_interfaces` (
	`id` bigint unsigned NOT NULL,
	`address` varchar(255) NOT NULL,
	`network_id` bigint unsigned,
	`instance_uuid` varchar(36),
	`uuid` varchar(36) NOT NULL,
	`created_at` datetime(3) NOT NULL,
	`updated_at` datetime(3),
	`deleted_at` datetime(3),
	`deleted` bigint unsigned NOT NULL DEFAULT 0,
	CONSTRAINT `shadow_virtual_interfaces_id` PRIMARY KEY(`id`)
);
--> statement-breakpoint
CREATE INDEX IF NOT EXISTS `shadow_fixed_ips_deleted_at_idx` ON `shadow_fixed_ips` (`deleted_at`);
--> statement-breakpoint
CREATE INDEX IF NOT EXISTS `shadow_fixed_ips_network_id_idx` ON `shadow_fixed_ips` (`network_id`);
--> statement-breakpoint
CREATE INDEX IF NOT EXISTS `shadow_floating_ips_deleted_at_idx` ON `shadow_floating_ips` (`deleted_at`);
--> statement-breakpoint
CREATE INDEX IF NOT EXISTS `shadow_networks_deleted_at_idx` ON `shadow_networks` (`deleted_at`);
--> statement-breakpoint
CREATE INDEX IF NOT EXISTS `shadow_virtual_interfaces_deleted_at_idx` ON `shadow_virtual_interfaces` (`deleted_at`);
--> statement-breakpoint
CREATE INDEX IF NOT EXISTS `shadow_virtual_interfaces_instance_uuid_idx` ON `shadow_virtual_interfaces` (`instance_uuid`);
