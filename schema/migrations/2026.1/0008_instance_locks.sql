-- Server locks (the `lock`/`unlock` actions): who locked the server, `admin` or `owner`, NULL when
-- unlocked. Every statement is re-runnable.
ALTER TABLE `instances` ADD COLUMN IF NOT EXISTS `locked_by` varchar(255);
--> statement-breakpoint
-- Archived instances keep the same columns as live ones (schema/tables/shadow.ts), when that table exists yet.
ALTER TABLE IF EXISTS `shadow_instances` ADD COLUMN IF NOT EXISTS `locked_by` varchar(255);
