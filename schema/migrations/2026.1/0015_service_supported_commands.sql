-- Rolling upgrades with moves (issue 6): each compute service records the commands its agent runs, so
-- a control plane never sends a move's command to an agent that predates it. NULL: an agent that did
-- not report them (older than this release), which runs only the boot, delete and power commands.
-- Re-runnable.
ALTER TABLE `services` ADD COLUMN IF NOT EXISTS `supported_commands` json;
--> statement-breakpoint
ALTER TABLE IF EXISTS `shadow_services` ADD COLUMN IF NOT EXISTS `supported_commands` json;
