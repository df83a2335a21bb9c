-- Indexes for the server list filters admins may use across projects.
CREATE INDEX IF NOT EXISTS `instances_reservation_id_idx` ON `instances` (`reservation_id`);
--> statement-breakpoint
CREATE INDEX IF NOT EXISTS `instances_vm_state_deleted_idx` ON `instances` (`vm_state`, `deleted`);
--> statement-breakpoint
CREATE INDEX IF NOT EXISTS `instances_image_ref_deleted_idx` ON `instances` (`image_ref`, `deleted`);
--> statement-breakpoint
CREATE INDEX IF NOT EXISTS `instances_user_id_deleted_idx` ON `instances` (`user_id`, `deleted`);
