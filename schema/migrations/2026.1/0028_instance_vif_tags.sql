-- The tags servers' interfaces were given at boot (compute 2.32/2.42) or attach (2.49), which
-- os-interface shows from 2.70: one row per tagged interface, deleted with it. Re-runnable.
CREATE TABLE IF NOT EXISTS `instance_vif_tags` (
	`id` bigint unsigned AUTO_INCREMENT NOT NULL,
	`instance_uuid` varchar(36) NOT NULL,
	`vif_id` varchar(36) NOT NULL,
	`tag` varchar(60) NOT NULL,
	`created_at` datetime(3) NOT NULL,
	CONSTRAINT `instance_vif_tags_id` PRIMARY KEY(`id`),
	CONSTRAINT `uniq_instance_vif_tags0instance_uuid0vif_id` UNIQUE(`instance_uuid`,`vif_id`)
);
