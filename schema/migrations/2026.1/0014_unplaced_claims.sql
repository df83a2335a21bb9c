-- A claim row can exist before the scheduler has chosen its node: scheduleAndClaim writes it while the
-- candidate query runs (one round trip fewer on the decision's critical path) and the counting UPDATE
-- places it on the chosen node (functions/scheduler/claims.ts). Such a row is `pending` and counts for
-- nothing. Re-runnable: MODIFY states the whole column.
ALTER TABLE `resource_claims` MODIFY COLUMN `compute_node_id` bigint unsigned NULL;
