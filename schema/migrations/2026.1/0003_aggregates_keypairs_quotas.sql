CREATE TABLE IF NOT EXISTS `aggregate_hosts` (
	`id` bigint unsigned AUTO_INCREMENT NOT NULL,
	`aggregate_id` bigint unsigned NOT NULL,
	`host` varchar(255) NOT NULL,
	`created_at` datetime(3) NOT NULL,
	`updated_at` datetime(3),
	`deleted_at` datetime(3),
	`deleted` bigint unsigned NOT NULL DEFAULT 0,
	CONSTRAINT `aggregate_hosts_id` PRIMARY KEY(`id`),
	CONSTRAINT `uniq_aggregate_hosts0host0aggregate_id0deleted` UNIQUE(`host`,`aggregate_id`,`deleted`)
);
--> statement-breakpoint
CREATE TABLE IF NOT EXISTS `aggregate_metadata` (
	`id` bigint unsigned AUTO_INCREMENT NOT NULL,
	`aggregate_id` bigint unsigned NOT NULL,
	`key` varchar(255) NOT NULL,
	`value` varchar(255) NOT NULL,
	`created_at` datetime(3) NOT NULL,
	`updated_at` datetime(3),
	`deleted_at` datetime(3),
	`deleted` bigint unsigned NOT NULL DEFAULT 0,
	CONSTRAINT `aggregate_metadata_id` PRIMARY KEY(`id`),
	CONSTRAINT `uniq_aggregate_metadata0aggregate_id0key0deleted` UNIQUE(`aggregate_id`,`key`,`deleted`)
);
--> statement-breakpoint
CREATE TABLE IF NOT EXISTS `aggregates` (
	`id` bigint unsigned AUTO_INCREMENT NOT NULL,
	`uuid` varchar(36) NOT NULL,
	`name` varchar(255) NOT NULL,
	`created_at` datetime(3) NOT NULL,
	`updated_at` datetime(3),
	`deleted_at` datetime(3),
	`deleted` bigint unsigned NOT NULL DEFAULT 0,
	CONSTRAINT `aggregates_id` PRIMARY KEY(`id`),
	CONSTRAINT `uniq_aggregates0name0deleted` UNIQUE(`name`,`deleted`),
	CONSTRAINT `uniq_aggregates0uuid` UNIQUE(`uuid`)
);
--> statement-breakpoint
CREATE TABLE IF NOT EXISTS `key_pairs` (
	`id` bigint unsigned AUTO_INCREMENT NOT NULL,
	`name` varchar(255) NOT NULL,
	`user_id` varchar(64) NOT NULL,
	`fingerprint` varchar(255) NOT NULL,
	`public_key` text NOT NULL,
	`type` varchar(16) NOT NULL DEFAULT 'ssh',
	`created_at` datetime(3) NOT NULL,
	`updated_at` datetime(3),
	`deleted_at` datetime(3),
	`deleted` bigint unsigned NOT NULL DEFAULT 0,
	CONSTRAINT `key_pairs_id` PRIMARY KEY(`id`),
	CONSTRAINT `uniq_key_pairs0user_id0name0deleted` UNIQUE(`user_id`,`name`,`deleted`)
);
--> statement-breakpoint
CREATE TABLE IF NOT EXISTS `quota_classes` (
	`id` bigint unsigned AUTO_INCREMENT NOT NULL,
	`class_name` varchar(255) NOT NULL,
	`resource` varchar(255) NOT NULL,
	`hard_limit` int NOT NULL,
	`created_at` datetime(3) NOT NULL,
	`updated_at` datetime(3),
	`deleted_at` datetime(3),
	`deleted` bigint unsigned NOT NULL DEFAULT 0,
	CONSTRAINT `quota_classes_id` PRIMARY KEY(`id`),
	CONSTRAINT `uniq_quota_classes0class_name0resource0deleted` UNIQUE(`class_name`,`resource`,`deleted`)
);
--> statement-breakpoint
CREATE TABLE IF NOT EXISTS `quota_usages` (
	`id` bigint unsigned AUTO_INCREMENT NOT NULL,
	`project_id` varchar(64) NOT NULL,
	`resource` varchar(255) NOT NULL,
	`in_use` bigint NOT NULL DEFAULT 0,
	`created_at` datetime(3) NOT NULL,
	`updated_at` datetime(3),
	`deleted_at` datetime(3),
	`deleted` bigint unsigned NOT NULL DEFAULT 0,
	CONSTRAINT `quota_usages_id` PRIMARY KEY(`id`),
	CONSTRAINT `uniq_quota_usages0project_id0resource0deleted` UNIQUE(`project_id`,`resource`,`deleted`)
);
--> statement-breakpoint
CREATE TABLE IF NOT EXISTS `quotas` (
	`id` bigint unsigned AUTO_INCREMENT NOT NULL,
	`project_id` varchar(64) NOT NULL,
	`resource` varchar(255) NOT NULL,
	`hard_limit` int NOT NULL,
	`created_at` datetime(3) NOT NULL,
	`updated_at` datetime(3),
	`deleted_at` datetime(3),
	`deleted` bigint unsigned NOT NULL DEFAULT 0,
	CONSTRAINT `quotas_id` PRIMARY KEY(`id`),
	CONSTRAINT `uniq_quotas0project_id0resource0deleted` UNIQUE(`project_id`,`resource`,`deleted`)
);
--> statement-breakpoint
CREATE INDEX IF NOT EXISTS `aggregate_hosts_host_idx` ON `aggregate_hosts` (`host`,`deleted`);
--> statement-breakpoint
CREATE INDEX IF NOT EXISTS `aggregate_metadata_key_idx` ON `aggregate_metadata` (`key`,`deleted`);
