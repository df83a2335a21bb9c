-- What compute microversions 2.19 to 2.104 let a client say about a server (clients-and-microversions.md
-- §2): its description (2.19), tags (2.26), trusted image certificates (2.63), the reason it is locked
-- (2.73), its guest hostname (2.90), which is stored from now on rather than made from the name at
-- every read, and the host and node its create asked for (2.74). Lengths are Nova's: 255 characters, a tag 60. The shadow tables keep the same columns
-- (schema/tables/shadow.ts), and tags get a shadow of their own, archived with their server. Every
-- statement is re-runnable.
ALTER TABLE `instances` ADD COLUMN IF NOT EXISTS `description` varchar(255);
--> statement-breakpoint
ALTER TABLE `instances` ADD COLUMN IF NOT EXISTS `hostname` varchar(255);
--> statement-breakpoint
ALTER TABLE `instances` ADD COLUMN IF NOT EXISTS `locked_reason` varchar(255);
--> statement-breakpoint
ALTER TABLE `instances` ADD COLUMN IF NOT EXISTS `trusted_image_certificates` json;
--> statement-breakpoint
ALTER TABLE `instances` ADD COLUMN IF NOT EXISTS `requested_host` varchar(255);
--> statement-breakpoint
ALTER TABLE `instances` ADD COLUMN IF NOT EXISTS `requested_node` varchar(255);
--> statement-breakpoint
ALTER TABLE IF EXISTS `shadow_instances` ADD COLUMN IF NOT EXISTS `description` varchar(255);
--> statement-breakpoint
ALTER TABLE IF EXISTS `shadow_instances` ADD COLUMN IF NOT EXISTS `hostname` varchar(255);
--> statement-breakpoint
ALTER TABLE IF EXISTS `shadow_instances` ADD COLUMN IF NOT EXISTS `locked_reason` varchar(255);
--> statement-breakpoint
ALTER TABLE IF EXISTS `shadow_instances` ADD COLUMN IF NOT EXISTS `trusted_image_certificates` json;
--> statement-breakpoint
ALTER TABLE IF EXISTS `shadow_instances` ADD COLUMN IF NOT EXISTS `requested_host` varchar(255);
--> statement-breakpoint
ALTER TABLE IF EXISTS `shadow_instances` ADD COLUMN IF NOT EXISTS `requested_node` varchar(255);
--> statement-breakpoint
-- A live tag is unique per server; removed ones (deleted = id) may repeat. The unique key also serves
-- the tag filters of the server list, which look tags up by server.
CREATE TABLE IF NOT EXISTS `instance_tags` (
	`id` bigint unsigned AUTO_INCREMENT NOT NULL,
	`instance_uuid` varchar(36) NOT NULL,
	`tag` varchar(60) NOT NULL,
	`created_at` datetime(3) NOT NULL,
	`updated_at` datetime(3),
	`deleted_at` datetime(3),
	`deleted` bigint unsigned NOT NULL DEFAULT 0,
	CONSTRAINT `instance_tags_id` PRIMARY KEY(`id`),
	CONSTRAINT `uniq_instance_tags0instance_uuid0tag0deleted` UNIQUE(`instance_uuid`,`tag`,`deleted`)
);
--> statement-breakpoint
CREATE TABLE IF NOT EXISTS `shadow_instance_tags` (
	`id` bigint unsigned NOT NULL,
	`instance_uuid` varchar(36) NOT NULL,
	`tag` varchar(60) NOT NULL,
	`created_at` datetime(3) NOT NULL,
	`updated_at` datetime(3),
	`deleted_at` datetime(3),
	`deleted` bigint unsigned NOT NULL DEFAULT 0,
	CONSTRAINT `shadow_instance_tags_id` PRIMARY KEY(`id`)
);
--> statement-breakpoint
CREATE INDEX IF NOT EXISTS `shadow_instance_tags_deleted_at_idx` ON `shadow_instance_tags` (`deleted_at`);
--> statement-breakpoint
CREATE INDEX IF NOT EXISTS `shadow_instance_tags_instance_uuid_idx` ON `shadow_instance_tags` (`instance_uuid`);
--> statement-breakpoint
-- Servers created before the hostname was stored get the one the view used to make from their name
-- (Nova's sanitize_hostname: the first 63 characters, spaces, underscores and dots as hyphens, nothing
-- but letters, digits and hyphens kept, lower case, no hyphen at either end; `Server-<uuid>` when
-- nothing is left). A server created since has its hostname, so a second run changes nothing it set.
UPDATE `instances` SET `hostname` = COALESCE(
    NULLIF(TRIM(BOTH '-' FROM LOWER(REGEXP_REPLACE(REGEXP_REPLACE(LEFT(`display_name`, 63), '[ _.]', '-'),
      '[^A-Za-z0-9_-]+', ''))), ''),
    CONCAT('Server-', `uuid`))
  WHERE `hostname` IS NULL;
