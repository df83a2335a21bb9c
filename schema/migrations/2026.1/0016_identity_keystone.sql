-- Keystone v3 identity: the user and role attributes Keystone clients set, an index for a project's
-- role assignments, and revocation events, which let a signed token stop at once (a revoked token, a
-- disabled or deleted user, a changed password, a deleted project, a removed role). Re-runnable.
ALTER TABLE `users` ADD COLUMN IF NOT EXISTS `email` varchar(255);
--> statement-breakpoint
ALTER TABLE `users` ADD COLUMN IF NOT EXISTS `description` varchar(255);
--> statement-breakpoint
ALTER TABLE `roles` ADD COLUMN IF NOT EXISTS `description` varchar(255);
--> statement-breakpoint
CREATE INDEX IF NOT EXISTS `role_assignments_project_idx` ON `role_assignments` (`project_id`);
--> statement-breakpoint
CREATE TABLE IF NOT EXISTS `revocation_events` (
	`id` bigint unsigned AUTO_INCREMENT NOT NULL,
	`audit_id` varchar(22),
	`user_id` varchar(64),
	`project_id` varchar(64),
	`issued_before` datetime(3) NOT NULL,
	`revoked_at` datetime(3) NOT NULL,
	`expires_at` datetime(3) NOT NULL,
	CONSTRAINT `revocation_events_id` PRIMARY KEY(`id`)
);
--> statement-breakpoint
CREATE INDEX IF NOT EXISTS `revocation_events_audit_idx` ON `revocation_events` (`audit_id`);
--> statement-breakpoint
CREATE INDEX IF NOT EXISTS `revocation_events_user_idx` ON `revocation_events` (`user_id`, `issued_before`);
--> statement-breakpoint
CREATE INDEX IF NOT EXISTS `revocation_events_project_idx` ON `revocation_events` (`project_id`, `issued_before`);
--> statement-breakpoint
CREATE INDEX IF NOT EXISTS `revocation_events_expires_idx` ON `revocation_events` (`expires_at`);
