-- The purge finds an archived instance's actions, faults and migrations through its uuid.
CREATE INDEX IF NOT EXISTS `shadow_instances_uuid_idx` ON `shadow_instances` (`uuid`);
