-- The scheduler: policies and their bindings, dedicated hosts, host capabilities, and the hints and
-- deciding policy on each instance. Every statement is re-runnable.
CREATE TABLE IF NOT EXISTS `scheduler_policies` (
	`id` bigint unsigned AUTO_INCREMENT NOT NULL,
	`name` varchar(255) NOT NULL,
	`description` varchar(255) NOT NULL DEFAULT '',
	`filters` json NOT NULL,
	`weighers` json NOT NULL,
	`settings` json NOT NULL,
	`created_at` datetime(3) NOT NULL,
	`updated_at` datetime(3),
	`deleted_at` datetime(3),
	`deleted` bigint unsigned NOT NULL DEFAULT 0,
	CONSTRAINT `scheduler_policies_id` PRIMARY KEY(`id`),
	CONSTRAINT `uniq_scheduler_policies0name0deleted` UNIQUE(`name`,`deleted`)
);
--> statement-breakpoint
CREATE TABLE IF NOT EXISTS `scheduler_policy_bindings` (
	`id` bigint unsigned AUTO_INCREMENT NOT NULL,
	`policy_id` bigint unsigned NOT NULL,
	`kind` varchar(32) NOT NULL,
	`key` varchar(255) NOT NULL DEFAULT '',
	`value` varchar(255) NOT NULL,
	`created_at` datetime(3) NOT NULL,
	`updated_at` datetime(3),
	`deleted_at` datetime(3),
	`deleted` bigint unsigned NOT NULL DEFAULT 0,
	CONSTRAINT `scheduler_policy_bindings_id` PRIMARY KEY(`id`),
	CONSTRAINT `uniq_scheduler_policy_bindings0kind0key0value0deleted` UNIQUE(`kind`,`key`,`value`,`deleted`)
);
--> statement-breakpoint
CREATE INDEX IF NOT EXISTS `scheduler_policy_bindings_policy_idx` ON `scheduler_policy_bindings` (`policy_id`,`deleted`);
--> statement-breakpoint
CREATE TABLE IF NOT EXISTS `dedicated_hosts` (
	`id` bigint unsigned AUTO_INCREMENT NOT NULL,
	`project_id` varchar(64) NOT NULL,
	`host` varchar(255),
	`aggregate_id` bigint unsigned,
	`created_at` datetime(3) NOT NULL,
	`updated_at` datetime(3),
	`deleted_at` datetime(3),
	`deleted` bigint unsigned NOT NULL DEFAULT 0,
	CONSTRAINT `dedicated_hosts_id` PRIMARY KEY(`id`),
	CONSTRAINT `uniq_dedicated_hosts0host0deleted` UNIQUE(`host`,`deleted`),
	CONSTRAINT `uniq_dedicated_hosts0aggregate_id0deleted` UNIQUE(`aggregate_id`,`deleted`)
);
--> statement-breakpoint
CREATE INDEX IF NOT EXISTS `dedicated_hosts_project_idx` ON `dedicated_hosts` (`project_id`,`deleted`);
--> statement-breakpoint
CREATE TABLE IF NOT EXISTS `host_capabilities` (
	`host` varchar(255) NOT NULL,
	`capabilities` json NOT NULL,
	`created_at` datetime(3) NOT NULL,
	`updated_at` datetime(3),
	CONSTRAINT `host_capabilities_host` PRIMARY KEY(`host`)
);
--> statement-breakpoint
ALTER TABLE `instances` ADD COLUMN IF NOT EXISTS `scheduler_hints` json;
--> statement-breakpoint
ALTER TABLE `instances` ADD COLUMN IF NOT EXISTS `scheduler_policy` varchar(255);
--> statement-breakpoint
-- Archived instances keep the same columns as live ones (schema/tables/shadow.ts), when that table exists yet.
ALTER TABLE IF EXISTS `shadow_instances` ADD COLUMN IF NOT EXISTS `scheduler_hints` json;
--> statement-breakpoint
ALTER TABLE IF EXISTS `shadow_instances` ADD COLUMN IF NOT EXISTS `scheduler_policy` varchar(255);
