-- Flavors carry an operator's description from compute microversion 2.55 on (clients-and-microversions.md
-- §2). Nova allows 65535 characters; MEDIUMTEXT rather than Nova's TEXT, because TEXT holds 65535 bytes
-- and a utf8mb4 character takes up to four. NULL is a flavor without one, as every existing flavor is.
-- The shadow table keeps the same column so that an archived flavor keeps its description. Every
-- statement is re-runnable.
ALTER TABLE `flavors` ADD COLUMN IF NOT EXISTS `description` mediumtext;
--> statement-breakpoint
ALTER TABLE `shadow_flavors` ADD COLUMN IF NOT EXISTS `description` mediumtext;
