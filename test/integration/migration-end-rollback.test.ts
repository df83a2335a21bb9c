import { randomUUID } from 'node:crypto';
import { and, eq, sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { createConductorContext } from '../../functions/conductor/context.ts';
import { runStep } from '../../functions/conductor/steps.ts';
import { instances, migrations, quotaUsages } from '../../schema/tables/index.ts';
import { primaryDb, stackInfo } from '../helpers/api.ts';
import { M1_TINY, newInstanceRow } from '../helpers/instance-rows.ts';

// A rolled-back move ends (migration.end_rollback) only after its destination's cleanup, and the
// server may be deleted meanwhile: the migration must still end, and a resize's reserved growth go back.
const M1_SMALL = { ...M1_TINY, flavorid: '2', name: 'm1.small', memory_mb: 2048, root_gb: 20 };

async function deletedServerMidRollback(migrationType: 'resize' | 'live-migration') {
  const project = `end-rollback-${randomUUID().slice(0, 8)}`;
  const row = newInstanceRow({ project_id: project, vm_state: 'deleted', deleted_at: new Date() });
  await primaryDb().insert(instances).values(row);
  await primaryDb()
    .update(instances)
    .set({ deleted: sql`${instances.id}` })
    .where(eq(instances.uuid, row.uuid));
  const [migration] = await primaryDb()
    .insert(migrations)
    .values({
      instance_uuid: row.uuid,
      migration_type: migrationType,
      status: 'migrating',
      source_compute: 'end-rollback-src',
      dest_compute: 'end-rollback-dst',
      old_flavorid: M1_TINY.flavorid,
      new_flavorid: M1_SMALL.flavorid,
      old_flavor: M1_TINY,
      new_flavor: migrationType === 'resize' ? M1_SMALL : M1_TINY,
      created_at: new Date(),
    })
    .$returningId();
  // What the resize reserved beyond the old flavor, after the deletion gave back the old flavor's share.
  await primaryDb()
    .insert(quotaUsages)
    .values({
      project_id: project,
      resource: 'ram',
      in_use: M1_SMALL.memory_mb - M1_TINY.memory_mb,
      created_at: new Date(),
    });
  return { project, migrationId: migration?.id ?? 0 };
}

async function endRollback(migrationId: number, errorName: string) {
  await runStep(createConductorContext(stackInfo().env), {
    step: 'migration.end_rollback',
    migration_id: migrationId,
    error: { Error: errorName, Cause: 'the test stopped it' },
    plan: {},
  });
  const [ended] = await primaryDb().select().from(migrations).where(eq(migrations.id, migrationId));
  return ended;
}

describe('migration.end_rollback of a server deleted during the cleanup', () => {
  it('ends a cancelled live migration as cancelled', async () => {
    const { migrationId } = await deletedServerMidRollback('live-migration');
    expect(await endRollback(migrationId, 'MigrationCancelled')).toMatchObject({ status: 'cancelled' });
  });

  it('ends a failed resize in error and gives back the growth it reserved', async () => {
    const { project, migrationId } = await deletedServerMidRollback('resize');
    expect(await endRollback(migrationId, 'States.Timeout')).toMatchObject({ status: 'error' });
    const [ram] = await primaryDb()
      .select({ in_use: quotaUsages.in_use })
      .from(quotaUsages)
      .where(and(eq(quotaUsages.project_id, project), eq(quotaUsages.resource, 'ram')));
    expect(ram?.in_use).toBe(0);
  });
});
