-- Shadow tables: where `archive deleted rows` (schema/archive.ts) moves soft-deleted rows, one per
-- soft-deletable table, declared in schema/tables/shadow.ts. Same columns as the live table (a row is
-- copied as it was), but no AUTO_INCREMENT (an archived row keeps its live id) and no unique key but
-- the primary key (many deleted rows share a natural key). Indexes serve the purge: deletion time, and
-- the column tying a row to the parent it was archived with. A migration that adds a column to a live
-- table adds it to its shadow too. Every statement is re-runnable.
CREATE TABLE IF NOT EXISTS `shadow_aggregate_hosts` (
	`id` bigint unsigned NOT NULL,
	`aggregate_id` bigint unsigned NOT NULL,
	`host` varchar(255) NOT NULL,
	`created_at` datetime(3) NOT NULL,
	`updated_at` datetime(3),
	`deleted_at` datetime(3),
	`deleted` bigint unsigned NOT NULL DEFAULT 0,
	CONSTRAINT `shadow_aggregate_hosts_id` PRIMARY KEY(`id`)
);
--> statement-breakpoint
CREATE TABLE IF NOT EXISTS `shadow_aggregate_metadata` (
	`id` bigint unsigned NOT NULL,
	`aggregate_id` bigint unsigned NOT NULL,
	`key` varchar(255) NOT NULL,
	`value` varchar(255) NOT NULL,
	`created_at` datetime(3) NOT NULL,
	`updated_at` datetime(3),
	`deleted_at` datetime(3),
	`deleted` bigint unsigned NOT NULL DEFAULT 0,
	CONSTRAINT `shadow_aggregate_metadata_id` PRIMARY KEY(`id`)
);
--> statement-breakpoint
CREATE TABLE IF NOT EXISTS `shadow_aggregates` (
	`id` bigint unsigned NOT NULL,
	`uuid` varchar(36) NOT NULL,
	`name` varchar(255) NOT NULL,
	`created_at` datetime(3) NOT NULL,
	`updated_at` datetime(3),
	`deleted_at` datetime(3),
	`deleted` bigint unsigned NOT NULL DEFAULT 0,
	CONSTRAINT `shadow_aggregates_id` PRIMARY KEY(`id`)
);
--> statement-breakpoint
CREATE TABLE IF NOT EXISTS `shadow_compute_nodes` (
	`id` bigint unsigned NOT NULL,
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
	CONSTRAINT `shadow_compute_nodes_id` PRIMARY KEY(`id`)
);
--> statement-breakpoint
CREATE TABLE IF NOT EXISTS `shadow_dedicated_hosts` (
	`id` bigint unsigned NOT NULL,
	`project_id` varchar(64) NOT NULL,
	`host` varchar(255),
	`aggregate_id` bigint unsigned,
	`created_at` datetime(3) NOT NULL,
	`updated_at` datetime(3),
	`deleted_at` datetime(3),
	`deleted` bigint unsigned NOT NULL DEFAULT 0,
	CONSTRAINT `shadow_dedicated_hosts_id` PRIMARY KEY(`id`)
);
--> statement-breakpoint
CREATE TABLE IF NOT EXISTS `shadow_flavor_extra_specs` (
	`id` bigint unsigned NOT NULL,
	`flavor_id` bigint unsigned NOT NULL,
	`key` varchar(255) NOT NULL,
	`value` varchar(255) NOT NULL,
	`created_at` datetime(3) NOT NULL,
	`updated_at` datetime(3),
	`deleted_at` datetime(3),
	`deleted` bigint unsigned NOT NULL DEFAULT 0,
	CONSTRAINT `shadow_flavor_extra_specs_id` PRIMARY KEY(`id`)
);
--> statement-breakpoint
CREATE TABLE IF NOT EXISTS `shadow_flavor_projects` (
	`id` bigint unsigned NOT NULL,
	`flavor_id` bigint unsigned NOT NULL,
	`project_id` varchar(64) NOT NULL,
	`created_at` datetime(3) NOT NULL,
	`updated_at` datetime(3),
	`deleted_at` datetime(3),
	`deleted` bigint unsigned NOT NULL DEFAULT 0,
	CONSTRAINT `shadow_flavor_projects_id` PRIMARY KEY(`id`)
);
--> statement-breakpoint
CREATE TABLE IF NOT EXISTS `shadow_flavors` (
	`id` bigint unsigned NOT NULL,
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
	CONSTRAINT `shadow_flavors_id` PRIMARY KEY(`id`)
);
--> statement-breakpoint
CREATE TABLE IF NOT EXISTS `shadow_instance_action_events` (
	`id` bigint unsigned NOT NULL,
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
	CONSTRAINT `shadow_instance_action_events_id` PRIMARY KEY(`id`)
);
--> statement-breakpoint
CREATE TABLE IF NOT EXISTS `shadow_instance_actions` (
	`id` bigint unsigned NOT NULL,
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
	CONSTRAINT `shadow_instance_actions_id` PRIMARY KEY(`id`)
);
--> statement-breakpoint
CREATE TABLE IF NOT EXISTS `shadow_instance_faults` (
	`id` bigint unsigned NOT NULL,
	`instance_uuid` varchar(36) NOT NULL,
	`code` int NOT NULL,
	`message` varchar(255) NOT NULL,
	`details` text,
	`host` varchar(255),
	`created_at` datetime(3) NOT NULL,
	`updated_at` datetime(3),
	`deleted_at` datetime(3),
	`deleted` bigint unsigned NOT NULL DEFAULT 0,
	CONSTRAINT `shadow_instance_faults_id` PRIMARY KEY(`id`)
);
--> statement-breakpoint
CREATE TABLE IF NOT EXISTS `shadow_instances` (
	`id` bigint unsigned NOT NULL,
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
	`scheduler_hints` json,
	`scheduler_policy` varchar(255),
	`launched_at` datetime(3),
	`terminated_at` datetime(3),
	`created_at` datetime(3) NOT NULL,
	`updated_at` datetime(3),
	`deleted_at` datetime(3),
	`deleted` bigint unsigned NOT NULL DEFAULT 0,
	CONSTRAINT `shadow_instances_id` PRIMARY KEY(`id`)
);
--> statement-breakpoint
CREATE TABLE IF NOT EXISTS `shadow_key_pairs` (
	`id` bigint unsigned NOT NULL,
	`name` varchar(255) NOT NULL,
	`user_id` varchar(64) NOT NULL,
	`fingerprint` varchar(255) NOT NULL,
	`public_key` text NOT NULL,
	`type` varchar(16) NOT NULL DEFAULT 'ssh',
	`created_at` datetime(3) NOT NULL,
	`updated_at` datetime(3),
	`deleted_at` datetime(3),
	`deleted` bigint unsigned NOT NULL DEFAULT 0,
	CONSTRAINT `shadow_key_pairs_id` PRIMARY KEY(`id`)
);
--> statement-breakpoint
CREATE TABLE IF NOT EXISTS `shadow_migrations` (
	`id` bigint unsigned NOT NULL,
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
	CONSTRAINT `shadow_migrations_id` PRIMARY KEY(`id`)
);
--> statement-breakpoint
CREATE TABLE IF NOT EXISTS `shadow_quota_classes` (
	`id` bigint unsigned NOT NULL,
	`class_name` varchar(255) NOT NULL,
	`resource` varchar(255) NOT NULL,
	`hard_limit` int NOT NULL,
	`created_at` datetime(3) NOT NULL,
	`updated_at` datetime(3),
	`deleted_at` datetime(3),
	`deleted` bigint unsigned NOT NULL DEFAULT 0,
	CONSTRAINT `shadow_quota_classes_id` PRIMARY KEY(`id`)
);
--> statement-breakpoint
CREATE TABLE IF NOT EXISTS `shadow_quota_usages` (
	`id` bigint unsigned NOT NULL,
	`project_id` varchar(64) NOT NULL,
	`resource` varchar(255) NOT NULL,
	`in_use` bigint NOT NULL DEFAULT 0,
	`created_at` datetime(3) NOT NULL,
	`updated_at` datetime(3),
	`deleted_at` datetime(3),
	`deleted` bigint unsigned NOT NULL DEFAULT 0,
	CONSTRAINT `shadow_quota_usages_id` PRIMARY KEY(`id`)
);
--> statement-breakpoint
CREATE TABLE IF NOT EXISTS `shadow_quotas` (
	`id` bigint unsigned NOT NULL,
	`project_id` varchar(64) NOT NULL,
	`resource` varchar(255) NOT NULL,
	`hard_limit` int NOT NULL,
	`created_at` datetime(3) NOT NULL,
	`updated_at` datetime(3),
	`deleted_at` datetime(3),
	`deleted` bigint unsigned NOT NULL DEFAULT 0,
	CONSTRAINT `shadow_quotas_id` PRIMARY KEY(`id`)
);
--> statement-breakpoint
CREATE TABLE IF NOT EXISTS `shadow_scheduler_policies` (
	`id` bigint unsigned NOT NULL,
	`name` varchar(255) NOT NULL,
	`description` varchar(255) NOT NULL DEFAULT '',
	`filters` json NOT NULL,
	`weighers` json NOT NULL,
	`settings` json NOT NULL,
	`created_at` datetime(3) NOT NULL,
	`updated_at` datetime(3),
	`deleted_at` datetime(3),
	`deleted` bigint unsigned NOT NULL DEFAULT 0,
	CONSTRAINT `shadow_scheduler_policies_id` PRIMARY KEY(`id`)
);
--> statement-breakpoint
CREATE TABLE IF NOT EXISTS `shadow_scheduler_policy_bindings` (
	`id` bigint unsigned NOT NULL,
	`policy_id` bigint unsigned NOT NULL,
	`kind` varchar(32) NOT NULL,
	`key` varchar(255) NOT NULL DEFAULT '',
	`value` varchar(255) NOT NULL,
	`created_at` datetime(3) NOT NULL,
	`updated_at` datetime(3),
	`deleted_at` datetime(3),
	`deleted` bigint unsigned NOT NULL DEFAULT 0,
	CONSTRAINT `shadow_scheduler_policy_bindings_id` PRIMARY KEY(`id`)
);
--> statement-breakpoint
CREATE TABLE IF NOT EXISTS `shadow_services` (
	`id` bigint unsigned NOT NULL,
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
	CONSTRAINT `shadow_services_id` PRIMARY KEY(`id`)
);
--> statement-breakpoint
CREATE INDEX IF NOT EXISTS `shadow_aggregate_hosts_deleted_at_idx` ON `shadow_aggregate_hosts` (`deleted_at`);
--> statement-breakpoint
CREATE INDEX IF NOT EXISTS `shadow_aggregate_hosts_aggregate_id_idx` ON `shadow_aggregate_hosts` (`aggregate_id`);
--> statement-breakpoint
CREATE INDEX IF NOT EXISTS `shadow_aggregate_metadata_deleted_at_idx` ON `shadow_aggregate_metadata` (`deleted_at`);
--> statement-breakpoint
CREATE INDEX IF NOT EXISTS `shadow_aggregate_metadata_aggregate_id_idx` ON `shadow_aggregate_metadata` (`aggregate_id`);
--> statement-breakpoint
CREATE INDEX IF NOT EXISTS `shadow_aggregates_deleted_at_idx` ON `shadow_aggregates` (`deleted_at`);
--> statement-breakpoint
CREATE INDEX IF NOT EXISTS `shadow_compute_nodes_deleted_at_idx` ON `shadow_compute_nodes` (`deleted_at`);
--> statement-breakpoint
CREATE INDEX IF NOT EXISTS `shadow_compute_nodes_service_id_idx` ON `shadow_compute_nodes` (`service_id`);
--> statement-breakpoint
CREATE INDEX IF NOT EXISTS `shadow_dedicated_hosts_deleted_at_idx` ON `shadow_dedicated_hosts` (`deleted_at`);
--> statement-breakpoint
CREATE INDEX IF NOT EXISTS `shadow_dedicated_hosts_aggregate_id_idx` ON `shadow_dedicated_hosts` (`aggregate_id`);
--> statement-breakpoint
CREATE INDEX IF NOT EXISTS `shadow_flavor_extra_specs_deleted_at_idx` ON `shadow_flavor_extra_specs` (`deleted_at`);
--> statement-breakpoint
CREATE INDEX IF NOT EXISTS `shadow_flavor_extra_specs_flavor_id_idx` ON `shadow_flavor_extra_specs` (`flavor_id`);
--> statement-breakpoint
CREATE INDEX IF NOT EXISTS `shadow_flavor_projects_deleted_at_idx` ON `shadow_flavor_projects` (`deleted_at`);
--> statement-breakpoint
CREATE INDEX IF NOT EXISTS `shadow_flavor_projects_flavor_id_idx` ON `shadow_flavor_projects` (`flavor_id`);
--> statement-breakpoint
CREATE INDEX IF NOT EXISTS `shadow_flavors_deleted_at_idx` ON `shadow_flavors` (`deleted_at`);
--> statement-breakpoint
CREATE INDEX IF NOT EXISTS `shadow_instance_action_events_deleted_at_idx` ON `shadow_instance_action_events` (`deleted_at`);
--> statement-breakpoint
CREATE INDEX IF NOT EXISTS `shadow_instance_action_events_action_id_idx` ON `shadow_instance_action_events` (`action_id`);
--> statement-breakpoint
CREATE INDEX IF NOT EXISTS `shadow_instance_actions_deleted_at_idx` ON `shadow_instance_actions` (`deleted_at`);
--> statement-breakpoint
CREATE INDEX IF NOT EXISTS `shadow_instance_actions_instance_uuid_idx` ON `shadow_instance_actions` (`instance_uuid`);
--> statement-breakpoint
CREATE INDEX IF NOT EXISTS `shadow_instance_faults_deleted_at_idx` ON `shadow_instance_faults` (`deleted_at`);
--> statement-breakpoint
CREATE INDEX IF NOT EXISTS `shadow_instance_faults_instance_uuid_idx` ON `shadow_instance_faults` (`instance_uuid`);
--> statement-breakpoint
CREATE INDEX IF NOT EXISTS `shadow_instances_deleted_at_idx` ON `shadow_instances` (`deleted_at`);
--> statement-breakpoint
CREATE INDEX IF NOT EXISTS `shadow_key_pairs_deleted_at_idx` ON `shadow_key_pairs` (`deleted_at`);
--> statement-breakpoint
CREATE INDEX IF NOT EXISTS `shadow_migrations_deleted_at_idx` ON `shadow_migrations` (`deleted_at`);
--> statement-breakpoint
CREATE INDEX IF NOT EXISTS `shadow_migrations_instance_uuid_idx` ON `shadow_migrations` (`instance_uuid`);
--> statement-breakpoint
CREATE INDEX IF NOT EXISTS `shadow_quota_classes_deleted_at_idx` ON `shadow_quota_classes` (`deleted_at`);
--> statement-breakpoint
CREATE INDEX IF NOT EXISTS `shadow_quota_usages_deleted_at_idx` ON `shadow_quota_usages` (`deleted_at`);
--> statement-breakpoint
CREATE INDEX IF NOT EXISTS `shadow_quotas_deleted_at_idx` ON `shadow_quotas` (`deleted_at`);
--> statement-breakpoint
CREATE INDEX IF NOT EXISTS `shadow_scheduler_policies_deleted_at_idx` ON `shadow_scheduler_policies` (`deleted_at`);
--> statement-breakpoint
CREATE INDEX IF NOT EXISTS `shadow_scheduler_policy_bindings_deleted_at_idx` ON `shadow_scheduler_policy_bindings` (`deleted_at`);
--> statement-breakpoint
CREATE INDEX IF NOT EXISTS `shadow_scheduler_policy_bindings_policy_id_idx` ON `shadow_scheduler_policy_bindings` (`policy_id`);
--> statement-breakpoint
CREATE INDEX IF NOT EXISTS `shadow_services_deleted_at_idx` ON `shadow_services` (`deleted_at`);
