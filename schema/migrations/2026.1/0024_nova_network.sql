-- nova-network's Havana tables, with their names and columns, for deployments that keep the legacy
-- network API (NETWORK_API=nova-network): networks, one fixed_ips row per address of every network,
-- floating_ips and virtual_interfaces. Soft-deleted rows keep `deleted = id`, so uniqueness includes it.
-- Every statement is re-runnable.
CREATE TABLE IF NOT EXISTS `fixed_ips` (
	`id` bigint unsigned AUTO_INCREMENT NOT NULL,
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
	CONSTRAINT `fixed_ips_id` PRIMARY KEY(`id`),
	CONSTRAINT `uniq_fixed_ips0address0deleted` UNIQUE(`address`,`deleted`)
);
--> statement-breakpoint
CREATE TABLE IF NOT EXISTS `floating_ips` (
	`id` bigint unsigned AUTO_INCREMENT NOT NULL,
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
	CONSTRAINT `floating_ips_id` PRIMARY KEY(`id`),
	CONSTRAINT `uniq_floating_ips0address0deleted` UNIQUE(`address`,`deleted`)
);
--> statement-breakpoint
CREATE TABLE IF NOT EXISTS `networks` (
	`id` bigint unsigned AUTO_INCREMENT NOT NULL,
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
	CONSTRAINT `networks_id` PRIMARY KEY(`id`),
	CONSTRAINT `uniq_networks0uuid` UNIQUE(`uuid`),
	CONSTRAINT `uniq_networks0vlan0deleted` UNIQUE(`vlan`,`deleted`)
);
--> statement-breakpoint
CREATE TABLE IF NOT EXISTS `virtual_interfaces` (
	`id` bigint unsigned AUTO_INCREMENT NOT NULL,
	`address` varchar(255) NOT NULL,
	`network_id` bigint unsigned,
	`instance_uuid` varchar(36),
	`uuid` varchar(36) NOT NULL,
	`created_at` datetime(3) NOT NULL,
	`updated_at` datetime(3),
	`deleted_at` datetime(3),
	`deleted` bigint unsigned NOT NULL DEFAULT 0,
	CONSTRAINT `virtual_interfaces_id` PRIMARY KEY(`id`),
	CONSTRAINT `uniq_virtual_interfaces0address0deleted` UNIQUE(`address`,`deleted`)
);
--> statement-breakpoint
CREATE INDEX IF NOT EXISTS `fixed_ips_network_id_free_idx` ON `fixed_ips` (`network_id`,`instance_uuid`,`reserved`);
--> statement-breakpoint
CREATE INDEX IF NOT EXISTS `fixed_ips_instance_uuid_idx` ON `fixed_ips` (`instance_uuid`);
--> statement-breakpoint
CREATE INDEX IF NOT EXISTS `fixed_ips_virtual_interface_id_idx` ON `fixed_ips` (`virtual_interface_id`);
--> statement-breakpoint
CREATE INDEX IF NOT EXISTS `floating_ips_pool_project_idx` ON `floating_ips` (`pool`,`project_id`);
--> statement-breakpoint
CREATE INDEX IF NOT EXISTS `floating_ips_fixed_ip_id_idx` ON `floating_ips` (`fixed_ip_id`);
--> statement-breakpoint
CREATE INDEX IF NOT EXISTS `networks_project_id_deleted_idx` ON `networks` (`project_id`,`deleted`);
--> statement-breakpoint
CREATE INDEX IF NOT EXISTS `virtual_interfaces_instance_uuid_idx` ON `virtual_interfaces` (`instance_uuid`);
--> statement-breakpoint
CREATE INDEX IF NOT EXISTS `virtual_interfaces_network_id_idx` ON `virtual_interfaces` (`network_id`);
