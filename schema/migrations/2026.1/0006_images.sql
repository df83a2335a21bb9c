CREATE TABLE IF NOT EXISTS `images` (
	`id` bigint unsigned AUTO_INCREMENT NOT NULL,
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
	CONSTRAINT `images_id` PRIMARY KEY(`id`),
	CONSTRAINT `uniq_images0uuid` UNIQUE(`uuid`)
);
--> statement-breakpoint
-- The seed catalogue; INSERT IGNORE keeps the migration re-runnable and leaves operator edits alone.
-- 70a599e0-… is the image every existing test boots; the tilegx one needs a TILE-Gx bare-metal host.
INSERT IGNORE INTO `images`
  (`uuid`, `name`, `status`, `disk_format`, `container_format`, `min_disk`, `min_ram`, `visibility`, `properties`, `created_at`)
VALUES
  ('70a599e0-31e7-49b7-b260-868f441e862b', 'cirros-0.3.1-x86_64', 'active', 'qcow2', 'bare', 0, 0, 'public',
   '{"architecture": "x86_64"}', UTC_TIMESTAMP(3)),
  ('155d900f-4e14-4e4c-a73d-069cbf4541e6', 'ubuntu-12.04-server-x86_64', 'active', 'qcow2', 'bare', 20, 2048, 'public',
   '{"architecture": "x86_64", "hypervisor_type": "qemu"}', UTC_TIMESTAMP(3)),
  ('a2459075-d96c-40d5-893e-577ff92e721c', 'tilegx-baremetal', 'active', 'raw', 'bare', 0, 0, 'public',
   '{"architecture": "tilegx", "hypervisor_type": "baremetal"}', UTC_TIMESTAMP(3)),
  ('76fa36fc-c930-4bf3-8c8a-ea2a2420deb6', 'fedora-19-uploading', 'queued', 'qcow2', 'bare', 0, 0, 'public',
   '{"architecture": "x86_64"}', UTC_TIMESTAMP(3));
