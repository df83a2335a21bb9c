-- The v2.1 API names services and hypervisors by uuid from 2.53 on, and migrations by uuid from 2.59
-- (clients-and-microversions.md §2). Once this has run the database makes each one (DEFAULT uuid()), so
-- every insert path has it without naming the column. Existing rows are given theirs by an UPDATE, not by
-- the ADD COLUMN: DDL replicates as a statement, so a replica would draw different uuids for the same
-- rows, while an UPDATE replicates as the rows it wrote. Shadow tables keep the same column (an archived
-- row keeps its uuid); only live tables are unique on it. Every statement is re-runnable; should a row
-- slip in without a uuid before the MODIFY (an older writer during the upgrade), the MODIFY fails and the
-- next run fills it first.
ALTER TABLE `services` ADD COLUMN IF NOT EXISTS `uuid` varchar(36);
--> statement-breakpoint
UPDATE `services` SET `uuid` = uuid() WHERE `uuid` IS NULL;
--> statement-breakpoint
ALTER TABLE `services` MODIFY COLUMN `uuid` varchar(36) NOT NULL DEFAULT (uuid());
--> statement-breakpoint
CREATE UNIQUE INDEX IF NOT EXISTS `uniq_services0uuid` ON `services` (`uuid`);
--> statement-breakpoint
ALTER TABLE `shadow_services` ADD COLUMN IF NOT EXISTS `uuid` varchar(36);
--> statement-breakpoint
UPDATE `shadow_services` SET `uuid` = uuid() WHERE `uuid` IS NULL;
--> statement-breakpoint
ALTER TABLE `shadow_services` MODIFY COLUMN `uuid` varchar(36) NOT NULL DEFAULT (uuid());
--> statement-breakpoint
ALTER TABLE `compute_nodes` ADD COLUMN IF NOT EXISTS `uuid` varchar(36);
--> statement-breakpoint
UPDATE `compute_nodes` SET `uuid` = uuid() WHERE `uuid` IS NULL;
--> statement-breakpoint
ALTER TABLE `compute_nodes` MODIFY COLUMN `uuid` varchar(36) NOT NULL DEFAULT (uuid());
--> statement-breakpoint
CREATE UNIQUE INDEX IF NOT EXISTS `uniq_compute_nodes0uuid` ON `compute_nodes` (`uuid`);
--> statement-breakpoint
ALTER TABLE `shadow_compute_nodes` ADD COLUMN IF NOT EXISTS `uuid` varchar(36);
--> statement-breakpoint
UPDATE `shadow_compute_nodes` SET `uuid` = uuid() WHERE `uuid` IS NULL;
--> statement-breakpoint
ALTER TABLE `shadow_compute_nodes` MODIFY COLUMN `uuid` varchar(36) NOT NULL DEFAULT (uuid());
--> statement-breakpoint
ALTER TABLE `migrations` ADD COLUMN IF NOT EXISTS `uuid` varchar(36);
--> statement-breakpoint
UPDATE `migrations` SET `uuid` = uuid() WHERE `uuid` IS NULL;
--> statement-breakpoint
ALTER TABLE `migrations` MODIFY COLUMN `uuid` varchar(36) NOT NULL DEFAULT (uuid());
--> statement-breakpoint
CREATE UNIQUE INDEX IF NOT EXISTS `uniq_migrations0uuid` ON `migrations` (`uuid`);
--> statement-breakpoint
ALTER TABLE `shadow_migrations` ADD COLUMN IF NOT EXISTS `uuid` varchar(36);
--> statement-breakpoint
UPDATE `shadow_migrations` SET `uuid` = uuid() WHERE `uuid` IS NULL;
--> statement-breakpoint
ALTER TABLE `shadow_migrations` MODIFY COLUMN `uuid` varchar(36) NOT NULL DEFAULT (uuid());
