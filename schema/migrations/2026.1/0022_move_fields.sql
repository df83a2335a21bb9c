-- Compute 2.80 shows who started each move: the user and project are recorded on the migrations row
-- when the API starts it. Rows written before this have no record of it and stay NULL, as Nova's do.
-- Compute 2.84 shows a failed instance action event's fault message (`details`); NULL for an event that
-- succeeded and for the events recorded before this. Shadow tables keep the same columns, so that an
-- archived row keeps them. Every statement is re-runnable.
ALTER TABLE `migrations` ADD COLUMN IF NOT EXISTS `user_id` varchar(64);
--> statement-breakpoint
ALTER TABLE `migrations` ADD COLUMN IF NOT EXISTS `project_id` varchar(64);
--> statement-breakpoint
ALTER TABLE `shadow_migrations` ADD COLUMN IF NOT EXISTS `user_id` varchar(64);
--> statement-breakpoint
ALTER TABLE `shadow_migrations` ADD COLUMN IF NOT EXISTS `project_id` varchar(64);
--> statement-breakpoint
ALTER TABLE `instance_action_events` ADD COLUMN IF NOT EXISTS `details` text;
--> statement-breakpoint
ALTER TABLE `shadow_instance_action_events` ADD COLUMN IF NOT EXISTS `details` text;
