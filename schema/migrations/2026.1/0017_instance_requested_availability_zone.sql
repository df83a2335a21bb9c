-- Moves keep a server in a zone only when its create request named one (Nova's
-- request_spec.availability_zone): `requested_availability_zone` keeps what the request named, NULL when
-- it named none, while `availability_zone` is the zone the server is in now (its host's), which every
-- move updates. Every statement is re-runnable.
ALTER TABLE `instances` ADD COLUMN IF NOT EXISTS `requested_availability_zone` varchar(255);
--> statement-breakpoint
ALTER TABLE IF EXISTS `shadow_instances` ADD COLUMN IF NOT EXISTS `requested_availability_zone` varchar(255);
--> statement-breakpoint
-- A server placed before this release had its `availability_zone` overwritten with its host's zone when
-- it named none, so whether its request named one is lost: it keeps the zone it is in, as it did before
-- (never freeing a server whose owner asked for a zone). Last, so that the migration is recorded as soon
-- as it has run: a server placed afterwards without a zone must not be pinned by a second run.
UPDATE `instances` SET `requested_availability_zone` = `availability_zone`
  WHERE `requested_availability_zone` IS NULL AND `availability_zone` IS NOT NULL
    AND `host` IS NOT NULL AND `deleted` = 0;
