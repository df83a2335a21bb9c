-- The scheduler's placement facts on compute_nodes (functions/scheduler/placement-facts.ts keeps them):
-- the aggregates' allocation ratios, dedication and tenant isolation, the aggregate's availability zone,
-- and free RAM as an indexed column, so the candidate query reads hosts in the RAM weigher's order and
-- stops at its LIMIT instead of joining derived tables over every host; and pending claims. Every
-- statement is re-runnable.
ALTER TABLE `compute_nodes` ADD COLUMN IF NOT EXISTS `aggregate_cpu_allocation_ratio` double;
--> statement-breakpoint
ALTER TABLE `compute_nodes` ADD COLUMN IF NOT EXISTS `aggregate_ram_allocation_ratio` double;
--> statement-breakpoint
ALTER TABLE `compute_nodes` ADD COLUMN IF NOT EXISTS `aggregate_disk_allocation_ratio` double;
--> statement-breakpoint
ALTER TABLE `compute_nodes` ADD COLUMN IF NOT EXISTS `dedicated_to` varchar(64);
--> statement-breakpoint
ALTER TABLE `compute_nodes` ADD COLUMN IF NOT EXISTS `filter_tenant_ids` text;
--> statement-breakpoint
ALTER TABLE `compute_nodes` ADD COLUMN IF NOT EXISTS `free_ram_mb` double
	GENERATED ALWAYS AS (`memory_mb` * COALESCE(`aggregate_ram_allocation_ratio`, `ram_allocation_ratio`) - `memory_mb_used`) STORED;
--> statement-breakpoint
CREATE INDEX IF NOT EXISTS `compute_nodes_free_ram_idx` ON `compute_nodes` (`deleted`, `free_ram_mb`);
--> statement-breakpoint
CREATE INDEX IF NOT EXISTS `compute_nodes_az_free_ram_idx` ON `compute_nodes` (`availability_zone`, `deleted`, `free_ram_mb`);
--> statement-breakpoint
-- The new index leads with the same columns.
DROP INDEX IF EXISTS `compute_nodes_az_idx` ON `compute_nodes`;
--> statement-breakpoint
-- The facts of existing hosts, computed as refreshHostPlacementFacts does.
UPDATE `compute_nodes` SET
	`aggregate_cpu_allocation_ratio` = (
		SELECT MIN(m.`value` + 0) FROM `aggregate_hosts` h JOIN `aggregate_metadata` m
			ON m.`aggregate_id` = h.`aggregate_id` AND m.`deleted` = 0
		WHERE h.`host` = `compute_nodes`.`host` AND h.`deleted` = 0 AND m.`key` = 'cpu_allocation_ratio'),
	`aggregate_ram_allocation_ratio` = (
		SELECT MIN(m.`value` + 0) FROM `aggregate_hosts` h JOIN `aggregate_metadata` m
			ON m.`aggregate_id` = h.`aggregate_id` AND m.`deleted` = 0
		WHERE h.`host` = `compute_nodes`.`host` AND h.`deleted` = 0 AND m.`key` = 'ram_allocation_ratio'),
	`aggregate_disk_allocation_ratio` = (
		SELECT MIN(m.`value` + 0) FROM `aggregate_hosts` h JOIN `aggregate_metadata` m
			ON m.`aggregate_id` = h.`aggregate_id` AND m.`deleted` = 0
		WHERE h.`host` = `compute_nodes`.`host` AND h.`deleted` = 0 AND m.`key` = 'disk_allocation_ratio'),
	`filter_tenant_ids` = (
		SELECT GROUP_CONCAT(REPLACE(m.`value`, ' ', '') ORDER BY m.`aggregate_id` SEPARATOR ',')
		FROM `aggregate_hosts` h JOIN `aggregate_metadata` m
			ON m.`aggregate_id` = h.`aggregate_id` AND m.`deleted` = 0
		WHERE h.`host` = `compute_nodes`.`host` AND h.`deleted` = 0 AND m.`key` = 'filter_tenant_id'),
	`dedicated_to` = (
		SELECT MIN(d.`project_id`) FROM `dedicated_hosts` d
		WHERE d.`deleted` = 0 AND (d.`host` = `compute_nodes`.`host` OR d.`aggregate_id` IN (
			SELECT h.`aggregate_id` FROM `aggregate_hosts` h WHERE h.`host` = `compute_nodes`.`host` AND h.`deleted` = 0))),
	`availability_zone` = COALESCE(
		(SELECT MIN(m.`value`) FROM `aggregate_hosts` h JOIN `aggregate_metadata` m
			ON m.`aggregate_id` = h.`aggregate_id` AND m.`deleted` = 0
		WHERE h.`host` = `compute_nodes`.`host` AND h.`deleted` = 0 AND m.`key` = 'availability_zone'),
		(SELECT s.`availability_zone` FROM `services` s WHERE s.`id` = `compute_nodes`.`service_id`))
WHERE `deleted` = 0;
--> statement-breakpoint
-- A claim row is written pending, then counted in its node's usage by one UPDATE joining both rows
-- (functions/scheduler/claims.ts): a claim needs no transaction.
ALTER TABLE `resource_claims` ADD COLUMN IF NOT EXISTS `pending` boolean NOT NULL DEFAULT FALSE;
--> statement-breakpoint
-- Archived nodes keep the same columns as live ones (schema/tables/shadow.ts); there free RAM is a
-- plain column, copied as it was.
ALTER TABLE IF EXISTS `shadow_compute_nodes` ADD COLUMN IF NOT EXISTS `aggregate_cpu_allocation_ratio` double;
--> statement-breakpoint
ALTER TABLE IF EXISTS `shadow_compute_nodes` ADD COLUMN IF NOT EXISTS `aggregate_ram_allocation_ratio` double;
--> statement-breakpoint
ALTER TABLE IF EXISTS `shadow_compute_nodes` ADD COLUMN IF NOT EXISTS `aggregate_disk_allocation_ratio` double;
--> statement-breakpoint
ALTER TABLE IF EXISTS `shadow_compute_nodes` ADD COLUMN IF NOT EXISTS `dedicated_to` varchar(64);
--> statement-breakpoint
ALTER TABLE IF EXISTS `shadow_compute_nodes` ADD COLUMN IF NOT EXISTS `filter_tenant_ids` text;
--> statement-breakpoint
ALTER TABLE IF EXISTS `shadow_compute_nodes` ADD COLUMN IF NOT EXISTS `free_ram_mb` double;
