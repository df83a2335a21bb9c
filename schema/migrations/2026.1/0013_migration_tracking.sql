-- Unified migrations (issue 6): each move keeps both flavors as they were (a revert restores the old one
-- even if the flavor was deleted since), an admin's request to an in-flight live migration (`cancel` or
-- `force_complete`, read by the source host's agent with its heartbeat), and why it failed. Every
-- statement is re-runnable.
ALTER TABLE `migrations` ADD COLUMN IF NOT EXISTS `old_flavor` json;
--> statement-breakpoint
ALTER TABLE `migrations` ADD COLUMN IF NOT EXISTS `new_flavor` json;
--> statement-breakpoint
ALTER TABLE `migrations` ADD COLUMN IF NOT EXISTS `control` varchar(16);
--> statement-breakpoint
ALTER TABLE `migrations` ADD COLUMN IF NOT EXISTS `error_message` varchar(1024);
--> statement-breakpoint
-- The evacuated-instance cleanup and os-migrations?host= look rows up by destination too.
CREATE INDEX IF NOT EXISTS `migrations_by_dest_and_status_idx` ON `migrations` (`dest_compute`, `status`, `deleted`);
--> statement-breakpoint
ALTER TABLE IF EXISTS `shadow_migrations` ADD COLUMN IF NOT EXISTS `old_flavor` json;
--> statement-breakpoint
ALTER TABLE IF EXISTS `shadow_migrations` ADD COLUMN IF NOT EXISTS `new_flavor` json;
--> statement-breakpoint
ALTER TABLE IF EXISTS `shadow_migrations` ADD COLUMN IF NOT EXISTS `control` varchar(16);
--> statement-breakpoint
ALTER TABLE IF EXISTS `shadow_migrations` ADD COLUMN IF NOT EXISTS `error_message` varchar(1024);
