-- nova-network: one live virtual interface per (instance, network). Allocation is idempotent per
-- instance (a retried boot step returns the VIFs it made), and this key makes it so under concurrency
-- too: a second insert for the same instance and network fails and the allocator reads the first.
CREATE UNIQUE INDEX IF NOT EXISTS `uniq_virtual_interfaces0instance_uuid0network_id0deleted` ON `virtual_interfaces` (`instance_uuid`,`network_id`,`deleted`);
