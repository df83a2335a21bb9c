import { eq } from 'drizzle-orm';
import type { PrimaryDb } from '../../../schema/db.ts';
import { networkMigrations } from '../../../schema/tables/index.ts';
import { StateConflict } from '../../shared/errors.ts';
import { loadLegacySnapshot, loadNetworkingSnapshot } from './load.ts';
import { type NetworkMigrationPlan, planMigration } from './plan.ts';
import { loadNetworkMigration, plannedProgress } from './runs.ts';
import { holdNetworkMigration, transitionNetworkMigration } from './states.ts';

// The plan step of a run, and how a run records that it stopped on an error.

export type PlanOutcome = 'dry_run' | 'refused' | 'proceed';

/** The report a plan leaves: what would be created, and what blocks it. */
function planReport(plan: NetworkMigrationPlan) {
  const { conflicts, warnings, ...would } = plan;
  return { plan: would, conflicts, warnings };
}

/**
 * Plans the run and writes the report (all a dry run ever writes). A dry run ends here; a run with
 * conflicts is refused; any other goes on to freeze.
 */
export async function planRun(
  db: PrimaryDb,
  migrationUuid: string,
  downTimeSeconds: number,
): Promise<PlanOutcome> {
  const run = await loadNetworkMigration(db, migrationUuid);
  const legacy = await loadLegacySnapshot(db, downTimeSeconds);
  const networking = await loadNetworkingSnapshot(db, migrationUuid, legacy);
  const plan = planMigration(legacy, networking, run.physical_network);
  await db.transaction(async (tx) => {
    await holdNetworkMigration(tx, migrationUuid, ['planning']);
    await tx
      .update(networkMigrations)
      .set({
        report: planReport(plan),
        progress: plannedProgress(plan),
        step: 'plan',
        updated_at: new Date(),
      })
      .where(eq(networkMigrations.uuid, migrationUuid));
  });
  if (run.dry_run) {
    await transitionNetworkMigration(db, migrationUuid, 'dry_run_planned');
    return 'dry_run';
  }
  if (plan.conflicts.length > 0) {
    await transitionNetworkMigration(db, migrationUuid, 'refused', {
      error: `The plan found ${plan.conflicts.length} conflict(s); the report lists them. Nothing was changed.`,
    });
    return 'refused';
  }
  return 'proceed';
}

/** From here on the legacy API refuses writes. */
export async function freezeRun(db: PrimaryDb, migrationUuid: string): Promise<void> {
  await transitionNetworkMigration(db, migrationUuid, 'frozen', { step: 'freeze' });
}

/**
 * A step failed: a run still planning is refused (nothing was written), a migrating one is failed
 * (resumable, or to roll back; the freeze holds). A run cutting over or rolling back stays where it
 * is, to be resumed, with the error saying why it stopped. A rollback that began meanwhile wins.
 */
export async function recordFailure(db: PrimaryDb, migrationUuid: string, message: string): Promise<void> {
  const error = message.slice(0, 2048);
  const run = await loadNetworkMigration(db, migrationUuid);
  try {
    if (run.status === 'planning') await transitionNetworkMigration(db, migrationUuid, 'refused', { error });
    else if (run.status === 'migrating')
      await transitionNetworkMigration(db, migrationUuid, 'failed', { error });
    else if (run.status === 'cutting_over' || run.status === 'rolling_back') {
      await db
        .update(networkMigrations)
        .set({ error, updated_at: new Date() })
        .where(eq(networkMigrations.uuid, migrationUuid));
    }
  } catch (conflict) {
    if (!(conflict instanceof StateConflict)) throw conflict;
  }
}
