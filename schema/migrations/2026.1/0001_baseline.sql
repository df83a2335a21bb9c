CREATE TABLE IF NOT EXISTS `compute_commands` (
	`command_id` varchar(64) NOT NULL,
	`host` varchar(255) NOT NULL,
	`name` varchar(64) NOT NULL,
	`instance_uuid` varchar(36) NOT NULL,
	`task_token` text NOT NULL,
	`receipt_handle` text NOT NULL,
	`status` varchar(16) NOT NULL,
	`delivered_at` datetime(3) NOT NULL,
	`completed_at` datetime(3),
	`created_at` datetime(3) NOT NULL,
	`updated_at` datetime(3),
	CONSTRAINT `compute_commands_command_id` PRIMARY KEY(`command_id`)
);
--> statement-breakpoint
CREATE TABLE IF NOT EXISTS `compute_nodes` (
	`id` bigint unsigned AUTO_INCREMENT NOT NULL,
	`service_id` bigint unsigned NOT NULL,
	`host` varchar(255) NOT NULL,
	`hypervisor_hostname` varchar(255) NOT NULL,
	`hypervisor_type` varchar(255) NOT NULL,
	`hypervisor_version` int NOT NULL,
	`availability_zone` varchar(255) NOT NULL DEFAULT 'nova',
	`vcpus` int NOT NULL,
	`memory_mb` int NOT NULL,
	`local_gb` int NOT NULL,
	`vcpus_used` int NOT NULL DEFAULT 0,
	`memory_mb_used` int NOT NULL DEFAULT 0,
	`local_gb_used` int NOT NULL DEFAULT 0,
	`running_vms` int NOT NULL DEFAULT 0,
	`cpu_allocation_ratio` double NOT NULL DEFAULT 16,
	`ram_allocation_ratio` double NOT NULL DEFAULT 1.5,
	`disk_allocation_ratio` double NOT NULL DEFAULT 1,
	`metrics` json NOT NULL,
	`generation` bigint unsigned NOT NULL DEFAULT 0,
	`created_at` datetime(3) NOT NULL,
	`updated_at` datetime(3),
	`deleted_at` datetime(3),
	`deleted` bigint unsigned NOT NULL DEFAULT 0,
	CONSTRAINT `compute_nodes_id` PRIMARY KEY(`id`),
	CONSTRAINT `uniq_compute_nodes0host0hypervisor_hostname0deleted` UNIQUE(`host`,`hypervisor_hostname`,`deleted`)
);
--> statement-breakpoint
CREATE TABLE IF NOT EXISTS `resource_claims` (
	`id` bigint unsigned AUTO_INCREMENT NOT NULL,
	`instance_uuid` varchar(36) NOT NULL,
	`compute_node_id` bigint unsigned NOT NULL,
	`memory_mb` int NOT NULL,
	`vcpus` int NOT NULL,
	`disk_gb` int NOT NULL,
	`created_at` datetime(3) NOT NULL,
	`updated_at` datetime(3),
	CONSTRAINT `resource_claims_id` PRIMARY KEY(`id`),
	CONSTRAINT `uniq_resource_claims0instance_uuid0compute_node_id` UNIQUE(`instance_uuid`,`compute_node_id`)
);
--> statement-breakpoint
CREATE TABLE IF NOT EXISTS `flavor_extra_specs` (
	`id` bigint unsigned AUTO_INCREMENT NOT NULL,
	`flavor_id` bigint unsigned NOT NULL,
	`key` varchar(255) NOT NULL,
	`value` varchar(255) NOT NULL,
	`created_at` datetime(3) NOT NULL,
	`updated_at` datetime(3),
	`deleted_at` datetime(3),
	`deleted` bigint unsigned NOT NULL DEFAULT 0,
	CONSTRAINT `flavor_extra_specs_id` PRIMARY KEY(`id`),
	CONSTRAINT `uniq_flavor_extra_specs0flavor_id0key0deleted` UNIQUE(`flavor_id`,`key`,`deleted`)
);
--> statement-breakpoint
CREATE TABLE IF NOT EXISTS `flavor_projects` (
	`id` bigint unsigned AUTO_INCREMENT NOT NULL,
	`flavor_id` bigint unsigned NOT NULL,
	`project_id` varchar(64) NOT NULL,
	`created_at` datetime(3) NOT NULL,
	`updated_at` datetime(3),
	`deleted_at` datetime(3),
	`deleted` bigint unsigned NOT NULL DEFAULT 0,
	CONSTRAINT `flavor_projects_id` PRIMARY KEY(`id`),
	CONSTRAINT `uniq_flavor_projects0flavor_id0project_id0deleted` UNIQUE(`flavor_id`,`project_id`,`deleted`)
);
--> statement-breakpoint
CREATE TABLE IF NOT EXISTS `flavors` (
	`id` bigint unsigned AUTO_INCREMENT NOT NULL,
	`flavorid` varchar(255) NOT NULL,
	`name` varchar(255) NOT NULL,
	`memory_mb` int NOT NULL,
	`vcpus` int NOT NULL,
	`root_gb` int NOT NULL,
	`ephemeral_gb` int NOT NULL DEFAULT 0,
	`swap` int NOT NULL DEFAULT 0,
	`rxtx_factor` double NOT NULL DEFAULT 1,
	`is_public` boolean NOT NULL DEFAULT true,
	`disabled` boolean NOT NULL DEFAULT false,
	`created_at` datetime(3) NOT NULL,
	`updated_at` datetime(3),
	`deleted_at` datetime(3),
	`deleted` bigint unsigned NOT NULL DEFAULT 0,
	CONSTRAINT `flavors_id` PRIMARY KEY(`id`),
	CONSTRAINT `uniq_flavors0name0deleted` UNIQUE(`name`,`deleted`),
	CONSTRAINT `uniq_flavors0flavorid0deleted` UNIQUE(`flavorid`,`deleted`)
);
--> statement-breakpoint
CREATE TABLE IF NOT EXISTS `projects` (
	`id` varchar(64) NOT NULL,
	`name` varchar(64) NOT NULL,
	`description` varchar(255) NOT NULL DEFAULT '',
	`enabled` boolean NOT NULL DEFAULT true,
	`created_at` datetime(3) NOT NULL,
	`updated_at` datetime(3),
	CONSTRAINT `projects_id` PRIMARY KEY(`id`),
	CONSTRAINT `uniq_projects0name` UNIQUE(`name`)
);
--> statement-breakpoint
CREATE TABLE IF NOT EXISTS `role_assignments` (
	`user_id` varchar(64) NOT NULL,
	`project_id` varchar(64) NOT NULL,
	`role_id` varchar(64) NOT NULL,
	`created_at` datetime(3) NOT NULL,
	`updated_at` datetime(3),
	CONSTRAINT `role_assignments_user_id_project_id_role_id_pk` PRIMARY KEY(`user_id`,`project_id`,`role_id`)
);
--> statement-breakpoint
CREATE TABLE IF NOT EXISTS `roles` (
	`id` varchar(64) NOT NULL,
	`name` varchar(64) NOT NULL,
	`created_at` datetime(3) NOT NULL,
	`updated_at` datetime(3),
	CONSTRAINT `roles_id` PRIMARY KEY(`id`),
	CONSTRAINT `uniq_roles0name` UNIQUE(`name`)
);
--> statement-breakpoint
CREATE TABLE IF NOT EXISTS `users` (
	`id` varchar(64) NOT NULL,
	`name` varchar(255) NOT NULL,
	`password_hash` varchar(255) NOT NULL,
	`default_project_id` varchar(64),
	`enabled` boolean NOT NULL DEFAULT true,
	`created_at` datetime(3) NOT NULL,
	`updated_at` datetime(3),
	CONSTRAINT `users_id` PRIMARY KEY(`id`),
	CONSTRAINT `uniq_users0name` UNIQUE(`name`)
);
--> statement-breakpoint
CREATE TABLE IF NOT EXISTS `instance_action_events` (
	`id` bigint unsigned AUTO_INCREMENT NOT NULL,
	`action_id` bigint unsigned NOT NULL,
	`event` varchar(255) NOT NULL,
	`start_time` datetime(3) NOT NULL,
	`finish_time` datetime(3),
	`result` varchar(255),
	`traceback` text,
	`host` varchar(255),
	`created_at` datetime(3) NOT NULL,
	`updated_at` datetime(3),
	`deleted_at` datetime(3),
	`deleted` bigint unsigned NOT NULL DEFAULT 0,
	CONSTRAINT `instance_action_events_id` PRIMARY KEY(`id`)
);
--> statement-breakpoint
CREATE TABLE IF NOT EXISTS `instance_actions` (
	`id` bigint unsigned AUTO_INCREMENT NOT NULL,
	`action` varchar(255) NOT NULL,
	`instance_uuid` varchar(36) NOT NULL,
	`request_id` varchar(255) NOT NULL,
	`project_id` varchar(64) NOT NULL,
	`user_id` varchar(64) NOT NULL,
	`start_time` datetime(3) NOT NULL,
	`finish_time` datetime(3),
	`message` varchar(255),
	`created_at` datetime(3) NOT NULL,
	`updated_at` datetime(3),
	`deleted_at` datetime(3),
	`deleted` bigint unsigned NOT NULL DEFAULT 0,
	CONSTRAINT `instance_actions_id` PRIMARY KEY(`id`),
	CONSTRAINT `uniq_instance_actions0instance_uuid0request_id` UNIQUE(`instance_uuid`,`request_id`)
);
--> statement-breakpoint
CREATE TABLE IF NOT EXISTS `instance_faults` (
	`id` bigint unsigned AUTO_INCREMENT NOT NULL,
	`instance_uuid` varchar(36) NOT NULL,
	`code` int NOT NULL,
	`message` varchar(255) NOT NULL,
	`details` text,
	`host` varchar(255),
	`created_at` datetime(3) NOT NULL,
	`updated_at` datetime(3),
	`deleted_at` datetime(3),
	`deleted` bigint unsigned NOT NULL DEFAULT 0,
	CONSTRAINT `instance_faults_id` PRIMARY KEY(`id`)
);
--> statement-breakpoint
CREATE TABLE IF NOT EXISTS `instances` (
	`id` bigint unsigned AUTO_INCREMENT NOT NULL,
	`uuid` varchar(36) NOT NULL,
	`project_id` varchar(64) NOT NULL,
	`user_id` varchar(64) NOT NULL,
	`display_name` varchar(255) NOT NULL,
	`image_ref` varchar(255) NOT NULL,
	`flavor` json NOT NULL,
	`vm_state` varchar(255) NOT NULL,
	`task_state` varchar(255),
	`power_state` int NOT NULL DEFAULT 0,
	`host` varchar(255),
	`node` varchar(255),
	`availability_zone` varchar(255),
	`metadata` json NOT NULL,
	`key_name` varchar(255),
	`user_data` text,
	`reservation_id` varchar(255) NOT NULL,
	`progress` int NOT NULL DEFAULT 0,
	`execution_arn` varchar(2048),
	`launched_at` datetime(3),
	`terminated_at` datetime(3),
	`created_at` datetime(3) NOT NULL,
	`updated_at` datetime(3),
	`deleted_at` datetime(3),
	`deleted` bigint unsigned NOT NULL DEFAULT 0,
	CONSTRAINT `instances_id` PRIMARY KEY(`id`),
	CONSTRAINT `uniq_instances0uuid` UNIQUE(`uuid`)
);
--> statement-breakpoint
CREATE TABLE IF NOT EXISTS `migrations` (
	`id` bigint unsigned AUTO_INCREMENT NOT NULL,
	`instance_uuid` varchar(36) NOT NULL,
	`migration_type` varchar(32) NOT NULL,
	`status` varchar(255) NOT NULL,
	`source_compute` varchar(255),
	`source_node` varchar(255),
	`dest_compute` varchar(255),
	`dest_node` varchar(255),
	`dest_host` varchar(255),
	`old_flavorid` varchar(255),
	`new_flavorid` varchar(255),
	`progress` int NOT NULL DEFAULT 0,
	`execution_arn` varchar(2048),
	`created_at` datetime(3) NOT NULL,
	`updated_at` datetime(3),
	`deleted_at` datetime(3),
	`deleted` bigint unsigned NOT NULL DEFAULT 0,
	CONSTRAINT `migrations_id` PRIMARY KEY(`id`)
);
--> statement-breakpoint
CREATE TABLE IF NOT EXISTS `host_credentials` (
	`host` varchar(255) NOT NULL,
	`secret_hash` varchar(64) NOT NULL,
	`created_at` datetime(3) NOT NULL,
	`updated_at` datetime(3),
	CONSTRAINT `host_credentials_host` PRIMARY KEY(`host`)
);
--> statement-breakpoint
CREATE TABLE IF NOT EXISTS `services` (
	`id` bigint unsigned AUTO_INCREMENT NOT NULL,
	`host` varchar(255) NOT NULL,
	`binary` varchar(255) NOT NULL,
	`topic` varchar(255) NOT NULL,
	`availability_zone` varchar(255) NOT NULL DEFAULT 'nova',
	`disabled` boolean NOT NULL DEFAULT false,
	`disabled_reason` varchar(255),
	`forced_down` boolean NOT NULL DEFAULT false,
	`report_count` bigint unsigned NOT NULL DEFAULT 0,
	`last_seen_at` datetime(3),
	`queue_url` varchar(1024),
	`supported_objects` json NOT NULL,
	`created_at` datetime(3) NOT NULL,
	`updated_at` datetime(3),
	`deleted_at` datetime(3),
	`deleted` bigint unsigned NOT NULL DEFAULT 0,
	CONSTRAINT `services_id` PRIMARY KEY(`id`),
	CONSTRAINT `uniq_services0host0binary0deleted` UNIQUE(`host`,`binary`,`deleted`)
);
--> statement-breakpoint
CREATE INDEX IF NOT EXISTS `compute_commands_host_idx` ON `compute_commands` (`host`,`status`);--> statement-breakpoint
CREATE INDEX IF NOT EXISTS `compute_nodes_az_idx` ON `compute_nodes` (`availability_zone`,`deleted`);--> statement-breakpoint
CREATE INDEX IF NOT EXISTS `resource_claims_node_idx` ON `resource_claims` (`compute_node_id`);--> statement-breakpoint
CREATE INDEX IF NOT EXISTS `flavor_projects_project_idx` ON `flavor_projects` (`project_id`);--> statement-breakpoint
CREATE INDEX IF NOT EXISTS `instance_action_events_action_id_idx` ON `instance_action_events` (`action_id`,`deleted`);--> statement-breakpoint
CREATE INDEX IF NOT EXISTS `instance_actions_instance_uuid_idx` ON `instance_actions` (`instance_uuid`,`deleted`);--> statement-breakpoint
CREATE INDEX IF NOT EXISTS `instance_faults_instance_uuid_idx` ON `instance_faults` (`instance_uuid`,`deleted`,`created_at`);--> statement-breakpoint
CREATE INDEX IF NOT EXISTS `instances_project_deleted_created_idx` ON `instances` (`project_id`,`deleted`,`created_at`);--> statement-breakpoint
CREATE INDEX IF NOT EXISTS `instances_host_deleted_idx` ON `instances` (`host`,`deleted`);--> statement-breakpoint
CREATE INDEX IF NOT EXISTS `instances_updated_at_idx` ON `instances` (`updated_at`);--> statement-breakpoint
CREATE INDEX IF NOT EXISTS `migrations_instance_uuid_idx` ON `migrations` (`instance_uuid`,`deleted`);--> statement-breakpoint
CREATE INDEX IF NOT EXISTS `migrations_by_host_and_status_idx` ON `migrations` (`source_compute`,`dest_compute`,`status`,`deleted`);--> statement-breakpoint
CREATE INDEX IF NOT EXISTS `services_last_seen_idx` ON `services` (`last_seen_at`);