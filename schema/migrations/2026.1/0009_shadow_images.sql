CREATE TABLE IF NOT EXISTS `shadow_images` (
	`id` bigint unsigned NOT NULL,
	`uuid` varchar(36) NOT NULL,
	`name` varchar(255) NOT NULL,
	`status` varchar(30) NOT NULL,
	`disk_format` varchar(30) NOT NULL,
	`container_format` varchar(30) NOT NULL,
	`min_disk` int NOT NULL DEFAULT 0,
	`min_ram` int NOT NULL DEFAULT 0,
	`visibility` varchar(20) NOT NULL,
	`owner` varchar(64),
	`properties` json NOT NULL,
	`created_at` datetime(3) NOT NULL,
	`updated_at` datetime(3),
	`deleted_at` datetime(3),
	`deleted` bigint unsigned NOT NULL DEFAULT 0,
	CONSTRAINT `shadow_images_id` PRIMARY KEY(`id`)
);
--> statement-breakpoint
CREATE INDEX IF NOT EXISTS `shadow_images_deleted_at_idx` ON `shadow_images` (`deleted_at`);
