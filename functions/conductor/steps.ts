import * as v from 'valibot';
import { selectStep } from '../scheduler/select-step.ts';
import * as archive from './archive-steps.ts';
import * as boot from './boot-steps.ts';
import * as cacheImages from './cache-images-steps.ts';
import type { ConductorContext } from './context.ts';
import * as remove from './delete-steps.ts';
import * as serverInterface from './interface-steps.ts';
import * as migrationRollback from './migration-rollback.ts';
import * as migration from './migration-steps.ts';
import * as networkMigration from './network-migration-steps.ts';
import * as serverAction from './server-action-steps.ts';
import { withCauseInMessage } from './step-errors.ts';

/** Every step a workflow can run, by the `step` name the ASL passes (workflows/*.ts). */
export const CONDUCTOR_STEPS = {
  'archive.plan': archive.plan,
  'archive.run': archive.run,
  'archive.purge': archive.purge,
  'boot.schedule': boot.schedule,
  'boot.allocate_networks': boot.allocateNetworks,
  'boot.finish': boot.finish,
  'boot.fail': boot.fail,
  'cache-images.plan': cacheImages.plan,
  'cache-images.host_cached': cacheImages.hostCached,
  'cache-images.host_failed': cacheImages.hostFailed,
  'cache-images.report': cacheImages.report,
  'delete.prepare': remove.prepare,
  'delete.finish': remove.finish,
  'delete.fail': remove.fail,
  'interface.prepare': serverInterface.prepare,
  'interface.finish': serverInterface.finish,
  'interface.fail': serverInterface.fail,
  'migration.schedule': migration.schedule,
  'migration.start_source': migration.startSource,
  'migration.finish_destination': migration.finishDestination,
  'migration.settle': migration.settle,
  'migration.auto_confirm': migration.autoConfirm,
  'migration.confirm': migration.confirm,
  'migration.revert': migration.revert,
  'migration.revert_on_source': migration.revertOnSource,
  'migration.complete': migration.complete,
  'migration.rollback': migrationRollback.rollback,
  'migration.end_rollback': migrationRollback.endRollback,
  'network-migration.begin': networkMigration.begin,
  'network-migration.plan': networkMigration.plan,
  'network-migration.freeze': networkMigration.freeze,
  'network-migration.networks': networkMigration.networks,
  'network-migration.ports': networkMigration.ports,
  'network-migration.routers': networkMigration.routers,
  'network-migration.floating_ips': networkMigration.floatingIps,
  'network-migration.next_plugs': networkMigration.nextPlugs,
  'network-migration.prepare_plug': networkMigration.preparePlug,
  'network-migration.plugged': networkMigration.plugged,
  'network-migration.plug_failed': networkMigration.plugFailed,
  'network-migration.verify': networkMigration.verify,
  'network-migration.cut_over': networkMigration.cutOver,
  'network-migration.rewrite_caches': networkMigration.rewriteCachesStep,
  'network-migration.complete': networkMigration.complete,
  'network-migration.rollback': networkMigration.rollback,
  'network-migration.rolled_back': networkMigration.rolledBack,
  'network-migration.fail': networkMigration.fail,
  'scheduler.select': selectStep,
  'server-action.prepare': serverAction.prepare,
  'server-action.finish': serverAction.finish,
  'server-action.fail': serverAction.fail,
} satisfies Record<string, (ctx: ConductorContext, input: unknown) => Promise<unknown>>;

const StepEvent = v.looseObject({
  step: v.picklist(Object.keys(CONDUCTOR_STEPS) as Array<keyof typeof CONDUCTOR_STEPS>),
});

export async function runStep(ctx: ConductorContext, event: unknown): Promise<unknown> {
  const { step } = v.parse(StepEvent, event);
  try {
    return (await CONDUCTOR_STEPS[step](ctx, event)) ?? null;
  } catch (error) {
    throw withCauseInMessage(error);
  }
}
