-- The networking service (/network/v2.0, Neutron's model): networks, subnets, ports and the address each
-- port holds (unique per subnet, which makes address allocation race-free), routers, floating IPs,
-- security groups and their rules, per-project quota overrides. Also Havana's instance_info_caches (each
-- server's network as its view shows it, for both network APIs) and network_settings (which network API
-- the deployment runs, once recorded). Every statement is re-runnable.
CREATE TABLE IF NOT EXISTS `neutron_default_security_groups` (
	`project_id` varchar(64) NOT NULL,
	`security_group_uuid` varchar(36) NOT NULL,
	CONSTRAINT `neutron_default_security_groups_project_id` PRIMARY KEY(`project_id`)
);
--> statement-breakpoint
CREATE TABLE IF NOT EXISTS `neutron_floatingips` (
	`id` bigint unsigned AUTO_INCREMENT NOT NULL,
	`uuid` varchar(36) NOT NULL,
	`project_id` varchar(64) NOT NULL,
	`description` varchar(255) NOT NULL DEFAULT '',
	`floating_network_uuid` varchar(36) NOT NULL,
	`floating_port_uuid` varchar(36) NOT NULL,
	`floating_ip_address` varchar(64) NOT NULL,
	`fixed_port_uuid` varchar(36),
	`fixed_ip_address` varchar(64),
	`router_uuid` varchar(36),
	`status` varchar(16) NOT NULL DEFAULT 'DOWN',
	`revision_number` bigint unsigned NOT NULL DEFAULT 0,
	`created_at` datetime(3) NOT NULL,
	`updated_at` datetime(3),
	CONSTRAINT `neutron_floatingips_id` PRIMARY KEY(`id`),
	CONSTRAINT `uniq_neutron_floatingips0uuid` UNIQUE(`uuid`),
	CONSTRAINT `uniq_neutron_floatingips0floating_port_uuid` UNIQUE(`floating_port_uuid`),
	CONSTRAINT `uniq_neutron_floatingips0fixed_port_uuid0fixed_ip_address` UNIQUE(`fixed_port_uuid`,`fixed_ip_address`)
);
--> statement-breakpoint
CREATE TABLE IF NOT EXISTS `neutron_ip_allocations` (
	`id` bigint unsigned AUTO_INCREMENT NOT NULL,
	`port_uuid` varchar(36) NOT NULL,
	`subnet_uuid` varchar(36) NOT NULL,
	`network_uuid` varchar(36) NOT NULL,
	`ip_address` varchar(64) NOT NULL,
	`created_at` datetime(3) NOT NULL,
	CONSTRAINT `neutron_ip_allocations_id` PRIMARY KEY(`id`),
	CONSTRAINT `uniq_neutron_ip_allocations0subnet_uuid0ip_address` UNIQUE(`subnet_uuid`,`ip_address`)
);
--> statement-breakpoint
CREATE TABLE IF NOT EXISTS `neutron_networks` (
	`id` bigint unsigned AUTO_INCREMENT NOT NULL,
	`uuid` varchar(36) NOT NULL,
	`project_id` varchar(64) NOT NULL,
	`name` varchar(255) NOT NULL DEFAULT '',
	`description` varchar(255) NOT NULL DEFAULT '',
	`admin_state_up` boolean NOT NULL DEFAULT true,
	`status` varchar(16) NOT NULL DEFAULT 'ACTIVE',
	`shared` boolean NOT NULL DEFAULT false,
	`router_external` boolean NOT NULL DEFAULT false,
	`mtu` int NOT NULL DEFAULT 1500,
	`network_type` varchar(16) NOT NULL DEFAULT 'local',
	`physical_network` varchar(64),
	`segmentation_id` int,
	`port_security_enabled` boolean NOT NULL DEFAULT true,
	`revision_number` bigint unsigned NOT NULL DEFAULT 0,
	`created_at` datetime(3) NOT NULL,
	`updated_at` datetime(3),
	CONSTRAINT `neutron_networks_id` PRIMARY KEY(`id`),
	CONSTRAINT `uniq_neutron_networks0uuid` UNIQUE(`uuid`),
	CONSTRAINT `uniq_neutron_networks0physical_network0segmentation_id` UNIQUE(`physical_network`,`segmentation_id`)
);
--> statement-breakpoint
CREATE TABLE IF NOT EXISTS `neutron_port_security_groups` (
	`port_uuid` varchar(36) NOT NULL,
	`security_group_uuid` varchar(36) NOT NULL,
	CONSTRAINT `neutron_port_security_groups_port_uuid_security_group_uuid_pk` PRIMARY KEY(`port_uuid`,`security_group_uuid`)
);
--> statement-breakpoint
CREATE TABLE IF NOT EXISTS `neutron_ports` (
	`id` bigint unsigned AUTO_INCREMENT NOT NULL,
	`uuid` varchar(36) NOT NULL,
	`network_uuid` varchar(36) NOT NULL,
	`project_id` varchar(64) NOT NULL,
	`name` varchar(255) NOT NULL DEFAULT '',
	`description` varchar(255) NOT NULL DEFAULT '',
	`mac_address` varchar(17) NOT NULL,
	`admin_state_up` boolean NOT NULL DEFAULT true,
	`status` varchar(16) NOT NULL DEFAULT 'DOWN',
	`device_id` varchar(255) NOT NULL DEFAULT '',
	`device_owner` varchar(255) NOT NULL DEFAULT '',
	`binding_host_id` varchar(255) NOT NULL DEFAULT '',
	`binding_vif_type` varchar(64) NOT NULL DEFAULT 'unbound',
	`binding_vnic_type` varchar(64) NOT NULL DEFAULT 'normal',
	`binding_profile` json NOT NULL,
	`allowed_address_pairs` json NOT NULL,
	`port_security_enabled` boolean NOT NULL DEFAULT true,
	`revision_number` bigint unsigned NOT NULL DEFAULT 0,
	`created_at` datetime(3) NOT NULL,
	`updated_at` datetime(3),
	CONSTRAINT `neutron_ports_id` PRIMARY KEY(`id`),
	CONSTRAINT `uniq_neutron_ports0uuid` UNIQUE(`uuid`),
	CONSTRAINT `uniq_neutron_ports0mac_address` UNIQUE(`mac_address`)
);
--> statement-breakpoint
CREATE TABLE IF NOT EXISTS `neutron_quotas` (
	`id` bigint unsigned AUTO_INCREMENT NOT NULL,
	`project_id` varchar(64) NOT NULL,
	`resource` varchar(64) NOT NULL,
	`hard_limit` int NOT NULL,
	`created_at` datetime(3) NOT NULL,
	`updated_at` datetime(3),
	CONSTRAINT `neutron_quotas_id` PRIMARY KEY(`id`),
	CONSTRAINT `uniq_neutron_quotas0project_id0resource` UNIQUE(`project_id`,`resource`)
);
--> statement-breakpoint
CREATE TABLE IF NOT EXISTS `neutron_routers` (
	`id` bigint unsigned AUTO_INCREMENT NOT NULL,
	`uuid` varchar(36) NOT NULL,
	`project_id` varchar(64) NOT NULL,
	`name` varchar(255) NOT NULL DEFAULT '',
	`description` varchar(255) NOT NULL DEFAULT '',
	`admin_state_up` boolean NOT NULL DEFAULT true,
	`status` varchar(16) NOT NULL DEFAULT 'ACTIVE',
	`gw_network_uuid` varchar(36),
	`gw_port_uuid` varchar(36),
	`enable_snat` boolean NOT NULL DEFAULT true,
	`revision_number` bigint unsigned NOT NULL DEFAULT 0,
	`created_at` datetime(3) NOT NULL,
	`updated_at` datetime(3),
	CONSTRAINT `neutron_routers_id` PRIMARY KEY(`id`),
	CONSTRAINT `uniq_neutron_routers0uuid` UNIQUE(`uuid`)
);
--> statement-breakpoint
CREATE TABLE IF NOT EXISTS `neutron_security_group_rules` (
	`id` bigint unsigned AUTO_INCREMENT NOT NULL,
	`uuid` varchar(36) NOT NULL,
	`security_group_uuid` varchar(36) NOT NULL,
	`project_id` varchar(64) NOT NULL,
	`description` varchar(255) NOT NULL DEFAULT '',
	`direction` varchar(16) NOT NULL,
	`ethertype` varchar(8) NOT NULL,
	`protocol` varchar(40),
	`port_range_min` int,
	`port_range_max` int,
	`remote_ip_prefix` varchar(64),
	`remote_group_uuid` varchar(36),
	`revision_number` bigint unsigned NOT NULL DEFAULT 0,
	`created_at` datetime(3) NOT NULL,
	`updated_at` datetime(3),
	CONSTRAINT `neutron_security_group_rules_id` PRIMARY KEY(`id`),
	CONSTRAINT `uniq_neutron_security_group_rules0uuid` UNIQUE(`uuid`)
);
--> statement-breakpoint
CREATE TABLE IF NOT EXISTS `neutron_security_groups` (
	`id` bigint unsigned AUTO_INCREMENT NOT NULL,
	`uuid` varchar(36) NOT NULL,
	`project_id` varchar(64) NOT NULL,
	`name` varchar(255) NOT NULL DEFAULT '',
	`description` varchar(255) NOT NULL DEFAULT '',
	`stateful` boolean NOT NULL DEFAULT true,
	`revision_number` bigint unsigned NOT NULL DEFAULT 0,
	`created_at` datetime(3) NOT NULL,
	`updated_at` datetime(3),
	CONSTRAINT `neutron_security_groups_id` PRIMARY KEY(`id`),
	CONSTRAINT `uniq_neutron_security_groups0uuid` UNIQUE(`uuid`)
);
--> statement-breakpoint
CREATE TABLE IF NOT EXISTS `neutron_subnets` (
	`id` bigint unsigned AUTO_INCREMENT NOT NULL,
	`uuid` varchar(36) NOT NULL,
	`network_uuid` varchar(36) NOT NULL,
	`project_id` varchar(64) NOT NULL,
	`name` varchar(255) NOT NULL DEFAULT '',
	`description` varchar(255) NOT NULL DEFAULT '',
	`ip_version` int NOT NULL,
	`cidr` varchar(64) NOT NULL,
	`gateway_ip` varchar(64),
	`enable_dhcp` boolean NOT NULL DEFAULT true,
	`allocation_pools` json NOT NULL,
	`dns_nameservers` json NOT NULL,
	`host_routes` json NOT NULL,
	`ipv6_address_mode` varchar(16),
	`ipv6_ra_mode` varchar(16),
	`revision_number` bigint unsigned NOT NULL DEFAULT 0,
	`created_at` datetime(3) NOT NULL,
	`updated_at` datetime(3),
	CONSTRAINT `neutron_subnets_id` PRIMARY KEY(`id`),
	CONSTRAINT `uniq_neutron_subnets0uuid` UNIQUE(`uuid`)
);
--> statement-breakpoint
CREATE TABLE IF NOT EXISTS `instance_info_caches` (
	`id` bigint unsigned AUTO_INCREMENT NOT NULL,
	`instance_uuid` varchar(36) NOT NULL,
	`network_info` json NOT NULL,
	`created_at` datetime(3) NOT NULL,
	`updated_at` datetime(3),
	CONSTRAINT `instance_info_caches_id` PRIMARY KEY(`id`),
	CONSTRAINT `uniq_instance_info_caches0instance_uuid` UNIQUE(`instance_uuid`)
);
--> statement-breakpoint
CREATE TABLE IF NOT EXISTS `network_settings` (
	`id` bigint unsigned AUTO_INCREMENT NOT NULL,
	`network_api` varchar(16) NOT NULL,
	`changed_by` varchar(64) NOT NULL,
	`updated_at` datetime(3) NOT NULL,
	CONSTRAINT `network_settings_id` PRIMARY KEY(`id`)
);
--> statement-breakpoint
CREATE INDEX IF NOT EXISTS `neutron_floatingips_project_idx` ON `neutron_floatingips` (`project_id`);
--> statement-breakpoint
CREATE INDEX IF NOT EXISTS `neutron_ip_allocations_port_idx` ON `neutron_ip_allocations` (`port_uuid`);
--> statement-breakpoint
CREATE INDEX IF NOT EXISTS `neutron_networks_project_idx` ON `neutron_networks` (`project_id`);
--> statement-breakpoint
CREATE INDEX IF NOT EXISTS `neutron_port_security_groups_group_idx` ON `neutron_port_security_groups` (`security_group_uuid`);
--> statement-breakpoint
CREATE INDEX IF NOT EXISTS `neutron_ports_network_idx` ON `neutron_ports` (`network_uuid`);
--> statement-breakpoint
CREATE INDEX IF NOT EXISTS `neutron_ports_device_idx` ON `neutron_ports` (`device_id`);
--> statement-breakpoint
CREATE INDEX IF NOT EXISTS `neutron_ports_project_idx` ON `neutron_ports` (`project_id`);
--> statement-breakpoint
CREATE INDEX IF NOT EXISTS `neutron_routers_project_idx` ON `neutron_routers` (`project_id`);
--> statement-breakpoint
CREATE INDEX IF NOT EXISTS `neutron_security_group_rules_group_idx` ON `neutron_security_group_rules` (`security_group_uuid`);
--> statement-breakpoint
CREATE INDEX IF NOT EXISTS `neutron_security_groups_project_idx` ON `neutron_security_groups` (`project_id`);
--> statement-breakpoint
CREATE INDEX IF NOT EXISTS `neutron_subnets_network_idx` ON `neutron_subnets` (`network_uuid`);
--> statement-breakpoint
CREATE INDEX IF NOT EXISTS `neutron_subnets_project_idx` ON `neutron_subnets` (`project_id`);
