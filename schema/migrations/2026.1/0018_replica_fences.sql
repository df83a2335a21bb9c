-- Read-your-writes without a token: a write that a replica did not apply within REPLICA_WAIT_MS fences
-- that replica here, and reads skip a fenced replica until it has applied the fence's position
-- (schema/consistency.ts). At most one row per replica. Re-runnable.
CREATE TABLE IF NOT EXISTS `replica_fences` (
	`replica` varchar(255) NOT NULL,
	`position` text NOT NULL,
	`fenced_at` datetime(3) NOT NULL,
	CONSTRAINT `replica_fences_replica` PRIMARY KEY(`replica`)
);
