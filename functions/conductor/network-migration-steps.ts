import * as v from 'valibot';
import { makeCompatible, versionToSend } from '../../schema/objects/base.ts';
import { GuestVifsOutput } from '../../schema/objects/compute-command.ts';
import { InstanceObject } from '../../schema/objects/instance.ts';
import {
  createFloatingIpsBatch,
  createNetworks,
  createPortsBatch,
  createRouters,
} from '../network/migration/create.ts';
import { completeCutOver, rewriteCaches, startCutOver } from '../network/migration/cut-over.ts';
import { PLUG_COMMAND } from '../network/migration/load.ts';
import { freezeRun, type PlanOutcome, planRun, recordFailure } from '../network/migration/planning.ts';
import {
  forgetFailedPlugs,
  type InstanceToPlug,
  nextInstancesToPlug,
  recordPlugFailed,
  recordPlugged,
} from '../network/migration/plug.ts';
import { finishRollback, rollbackBatch } from '../network/migration/rollback.ts';
import { loadNetworkMigration } from '../network/migration/runs.ts';
import { verifyRun } from '../network/migration/verify.ts';
import { buildNeutronNetworkInfo } from '../network/neutron-network-info.ts';
import { StateConflict } from '../shared/errors.ts';
import type { ConductorContext } from './context.ts';
import {
  instanceData,
  loadHostService,
  loadLiveInstance,
  type PreparedCommand,
  prepareCommand,
} from './host-commands.ts';
import { CaughtError, describeCaughtError } from './step-errors.ts';

// The steps of workflows/network-migration.ts. Every step reads the run's row and the tables, never
// what an earlier execution of the workflow held in its state, so a new execution of the same run
// (a resume after a crash, a stop or a failure) carries on from what exists.

// Each step is a few round trips well inside the conductor's 30 s: a batch writes in one transaction.
const PORTS_PER_BATCH = 50;
const FLOATING_IPS_PER_BATCH = 50;
const INSTANCES_PER_PLUG_ROUND = 50;
const CACHES_PER_BATCH = 25;
const OBJECTS_PER_ROLLBACK_BATCH = 100;

const Run = v.object({ migration_uuid: v.pipe(v.string(), v.uuid()) });
const Target = v.object({
  migration_uuid: v.pipe(v.string(), v.uuid()),
  instance_uuid: v.pipe(v.string(), v.uuid()),
  host: v.pipe(v.string(), v.minLength(1)),
});

export type BeginNext = 'plan' | 'create' | 'cut_over' | 'rollback';

/** network-migration.begin: where this execution picks the run up, from its status. */
export async function begin(ctx: ConductorContext, input: unknown): Promise<{ next: BeginNext }> {
  const { migration_uuid } = v.parse(Run, input);
  const run = await loadNetworkMigration(ctx.db, migration_uuid);
  switch (run.status) {
    case 'planning':
      return { next: 'plan' };
    case 'migrating':
      // Instances a host failed to re-plug get another try; those it answered are done.
      await forgetFailedPlugs(ctx.db, migration_uuid);
      return { next: 'create' };
    case 'cutting_over':
      return { next: 'cut_over' };
    case 'rolling_back':
      return { next: 'rollback' };
    default:
      throw new StateConflict(
        `Network migration ${migration_uuid} is ${run.status}: there is nothing to run`,
      );
  }
}

/** network-migration.plan */
export async function plan(ctx: ConductorContext, input: unknown): Promise<{ outcome: PlanOutcome }> {
  const { migration_uuid } = v.parse(Run, input);
  return { outcome: await planRun(ctx.db, migration_uuid, ctx.config.SERVICE_DOWN_TIME_SECONDS) };
}

/** network-migration.freeze */
export async function freeze(ctx: ConductorContext, input: unknown): Promise<null> {
  await freezeRun(ctx.db, v.parse(Run, input).migration_uuid);
  return null;
}

function runOf(ctx: ConductorContext, input: unknown) {
  return loadNetworkMigration(ctx.db, v.parse(Run, input).migration_uuid);
}

/** network-migration.networks */
export async function networks(ctx: ConductorContext, input: unknown): Promise<{ created: number }> {
  const run = await runOf(ctx, input);
  return { created: await createNetworks(ctx.db, run, ctx.config.SERVICE_DOWN_TIME_SECONDS) };
}

/** network-migration.ports: one batch; the workflow loops while `more`. */
export async function ports(
  ctx: ConductorContext,
  input: unknown,
): Promise<{ created: number; more: boolean }> {
  return createPortsBatch(ctx.db, await runOf(ctx, input), PORTS_PER_BATCH);
}

/** network-migration.routers */
export async function routers(ctx: ConductorContext, input: unknown): Promise<{ created: number }> {
  const run = await runOf(ctx, input);
  return { created: await createRouters(ctx.db, run, ctx.config.SERVICE_DOWN_TIME_SECONDS) };
}

/** network-migration.floating_ips: one batch; the workflow loops while `more`. */
export async function floatingIps(
  ctx: ConductorContext,
  input: unknown,
): Promise<{ created: number; more: boolean }> {
  return createFloatingIpsBatch(ctx.db, await runOf(ctx, input), FLOATING_IPS_PER_BATCH);
}

/** network-migration.next_plugs: the next round of instances to re-plug (a Map runs over them). */
export async function nextPlugs(
  ctx: ConductorContext,
  input: unknown,
): Promise<{ instances: InstanceToPlug[]; count: number }> {
  const { migration_uuid } = v.parse(Run, input);
  const instances = await nextInstancesToPlug(ctx.db, migration_uuid, INSTANCES_PER_PLUG_ROUND);
  return { instances, count: instances.length };
}

/**
 * network-migration.prepare_plug: the plug_vifs command, carrying the network info built from the
 * instance's new ports (not its cache, which shows the legacy network until the cut-over).
 */
export async function preparePlug(ctx: ConductorContext, input: unknown): Promise<PreparedCommand> {
  const { instance_uuid, host } = v.parse(Target, input);
  const instance = await loadLiveInstance(ctx.db, instance_uuid);
  if (instance.host !== host) {
    throw new StateConflict(`Instance ${instance_uuid} is on ${instance.host ?? 'no host'}, not on ${host}`);
  }
  const service = await loadHostService(ctx.db, host);
  const command = await prepareCommand(ctx.db, PLUG_COMMAND, instance, host, service);
  const networkInfo = await buildNeutronNetworkInfo(ctx.db, instance_uuid);
  const version = versionToSend(InstanceObject, service.supported_objects[InstanceObject.name]);
  return {
    ...command,
    instance: makeCompatible(InstanceObject, instanceData(instance, networkInfo), version),
  };
}

const PluggedInput = v.object({ ...Target.entries, result: GuestVifsOutput });

/** network-migration.plugged: the agent's answer, kept for verify. */
export async function plugged(ctx: ConductorContext, input: unknown): Promise<null> {
  const { migration_uuid, instance_uuid, host, result } = v.parse(PluggedInput, input);
  await recordPlugged(ctx.db, migration_uuid, { instance_uuid, host }, result.vifs);
  return null;
}

const PlugFailedInput = v.object({ ...Target.entries, error: CaughtError });

/** network-migration.plug_failed: the host failed or never answered; verify counts it. */
export async function plugFailed(ctx: ConductorContext, input: unknown): Promise<null> {
  const { migration_uuid, instance_uuid, host, error } = v.parse(PlugFailedInput, input);
  await recordPlugFailed(ctx.db, migration_uuid, { instance_uuid, host }, describeCaughtError(error));
  return null;
}

/** network-migration.verify */
export async function verify(ctx: ConductorContext, input: unknown): Promise<{ verified: boolean }> {
  const { migration_uuid } = v.parse(Run, input);
  return { verified: await verifyRun(ctx.db, migration_uuid, ctx.config.SERVICE_DOWN_TIME_SECONDS) };
}

const Caches = v.object({ after: v.string(), rewritten: v.pipe(v.number(), v.integer(), v.minValue(0)) });

/** network-migration.cut_over: records the networking service as the deployment's; caches follow. */
export async function cutOver(ctx: ConductorContext, input: unknown): Promise<v.InferOutput<typeof Caches>> {
  await startCutOver(ctx.db, v.parse(Run, input).migration_uuid);
  return { after: '', rewritten: 0 };
}

const RewriteInput = v.object({ ...Run.entries, caches: Caches });

/** network-migration.rewrite_caches: one batch of server caches rebuilt from the networking service. */
export async function rewriteCachesStep(
  ctx: ConductorContext,
  input: unknown,
): Promise<{ after: string; rewritten: number; more: boolean }> {
  const { migration_uuid, caches } = v.parse(RewriteInput, input);
  return rewriteCaches(ctx.db, migration_uuid, caches.after, caches.rewritten, CACHES_PER_BATCH);
}

/** network-migration.complete */
export async function complete(ctx: ConductorContext, input: unknown): Promise<null> {
  await completeCutOver(ctx.db, v.parse(Run, input).migration_uuid);
  return null;
}

/** network-migration.rollback: one batch of deletions; the workflow loops while `more`. */
export async function rollback(
  ctx: ConductorContext,
  input: unknown,
): Promise<{ deleted: number; more: boolean }> {
  return rollbackBatch(ctx.db, v.parse(Run, input).migration_uuid, OBJECTS_PER_ROLLBACK_BATCH);
}

/** network-migration.rolled_back */
export async function rolledBack(ctx: ConductorContext, input: unknown): Promise<null> {
  await finishRollback(ctx.db, v.parse(Run, input).migration_uuid);
  return null;
}

const FailInput = v.object({ ...Run.entries, error: CaughtError });

/** network-migration.fail: a step failed; the run records why and where it stopped. */
export async function fail(ctx: ConductorContext, input: unknown): Promise<null> {
  const { migration_uuid, error } = v.parse(FailInput, input);
  await recordFailure(ctx.db, migration_uuid, describeCaughtError(error));
  return null;
}
