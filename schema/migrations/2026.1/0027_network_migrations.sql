-- The nova-network → networking service migration (workflows/network-migration.ts): one row per run
-- (status, progress, report; `unfinished` is 1 until the run ends and unique, so only one run is ever
-- unfinished), the map from each legacy object to what the run created for it (unique per legacy object,
-- so a resumed run never creates one twice), and what each host's agent reported after re-plugging a
-- guest. Every statement is re-runnable.
CREATE TABLE IF NOT EXISTS `network_migrations` (
	`id` bigint unsigned AUTO_INCREMENT NOT NULL,
	`uuid` varchar(36) NOT NULL,
	`status` varchar(16) NOT NULL,
	`dry_run` boolean NOT NULL,
	`physical_network` varchar(64) NOT NULL,
	`step` varchar(32),
	`execution_arn` varchar(2048),
	`user_id` varchar(64) NOT NULL,
	`project_id` varchar(64) NOT NULL,
	`unfinished` tinyint,
	`progress` json NOT NULL,
	`report` json NOT NULL,
	`error` varchar(2048),
	`finished_at` datetime(3),
	`created_at` datetime(3) NOT NULL,
	`updated_at` datetime(3),
	CONSTRAINT `network_migrations_id` PRIMARY KEY(`id`),
	CONSTRAINT `uniq_network_migrations0uuid` UNIQUE(`uuid`),
	CONSTRAINT `uniq_network_migrations0unfinished` UNIQUE(`unfinished`)
);
--> statement-breakpoint
CREATE TABLE IF NOT EXISTS `network_migration_map` (
	`id` bigint unsigned AUTO_INCREMENT NOT NULL,
	`migration_uuid` varchar(36) NOT NULL,
	`kind` varchar(16) NOT NULL,
	`legacy_id` varchar(300) NOT NULL,
	`new_uuid` varchar(36) NOT NULL,
	`created_at` datetime(3) NOT NULL,
	CONSTRAINT `network_migration_map_id` PRIMARY KEY(`id`),
	CONSTRAINT `uniq_network_migration_map0kind0legacy_id` UNIQUE(`kind`,`legacy_id`)
);
--> statement-breakpoint
CREATE TABLE IF NOT EXISTS `network_migration_plugs` (
	`id` bigint unsigned AUTO_INCREMENT NOT NULL,
	`migration_uuid` varchar(36) NOT NULL,
	`instance_uuid` varchar(36) NOT NULL,
	`host` varchar(255) NOT NULL,
	`status` varchar(16) NOT NULL,
	`vifs` json NOT NULL,
	`error` varchar(1024),
	`created_at` datetime(3) NOT NULL,
	`updated_at` datetime(3),
	CONSTRAINT `network_migration_plugs_id` PRIMARY KEY(`id`),
	CONSTRAINT `uniq_network_migration_plugs0migration_uuid0instance_uuid` UNIQUE(`migration_uuid`,`instance_uuid`)
);
--> statement-breakpoint
CREATE INDEX IF NOT EXISTS `network_migrations_status_idx` ON `network_migrations` (`status`);
--> statement-breakpoint
CREATE INDEX IF NOT EXISTS `network_migration_map_migration_idx` ON `network_migration_map` (`migration_uuid`,`kind`);
--> statement-breakpoint
CREATE INDEX IF NOT EXISTS `network_migration_map_new_uuid_idx` ON `network_migration_map` (`new_uuid`);
