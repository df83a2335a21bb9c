-- Havana's default flavors; INSERT IGNORE keeps the migration re-runnable and leaves operator edits alone.
INSERT IGNORE INTO `flavors` (`flavorid`, `name`, `memory_mb`, `vcpus`, `root_gb`, `created_at`) VALUES
  ('1', 'm1.tiny', 512, 1, 1, UTC_TIMESTAMP(3)),
  ('2', 'm1.small', 2048, 1, 20, UTC_TIMESTAMP(3)),
  ('3', 'm1.medium', 4096, 2, 40, UTC_TIMESTAMP(3)),
  ('4', 'm1.large', 8192, 4, 80, UTC_TIMESTAMP(3)),
  ('5', 'm1.xlarge', 16384, 8, 160, UTC_TIMESTAMP(3));
