import { and, asc, eq, inArray } from 'drizzle-orm';
import * as v from 'valibot';
import {
  agentRunsCommand,
  CacheImagesOutput,
  IMAGE_CACHE_STATUSES,
} from '../../schema/objects/compute-command.ts';
import { aggregateHosts, services } from '../../schema/tables/index.ts';
import { isServiceUp } from '../compute/service-liveness.ts';
import type { ConductorContext } from './context.ts';
import type { PreparedCommand } from './host-commands.ts';
import { CaughtError, describeCaughtError } from './step-errors.ts';

// The steps of workflows/cache-images.ts. Nova tells operators how a pre-cache went through per-host
// notifications and a closing log line; we have no notification bus. Each host's outcome is logged
// the moment that host is done (so a long pre-cache shows its progress), the skipped hosts when the
// plan is made, and the totals at the end, which is also the execution's output (DescribeExecution).
// Nothing is stored: the API serves no view of a pre-cache (Nova's has none either), and what is
// cached lives on the hosts themselves.

const COMMAND = 'cache_images';
// One FIFO group for every cache_images command on a host: a second request waits for the first
// instead of downloading the same images beside it.
const MESSAGE_GROUP = 'image-cache';

const AggregateId = v.pipe(v.number(), v.integer(), v.minValue(1));
const ImageIds = v.pipe(v.array(v.pipe(v.string(), v.uuid())), v.minLength(1));

const HostOutcome = v.variant('status', [
  v.object({ host: v.string(), status: v.literal('skipped'), reason: v.string() }),
  v.object({
    host: v.string(),
    status: v.literal('done'),
    images: v.record(v.string(), v.picklist(IMAGE_CACHE_STATUSES)),
  }),
  v.object({ host: v.string(), status: v.literal('failed'), reason: v.string() }),
]);
export type HostOutcome = v.InferOutput<typeof HostOutcome>;

/**
 * A host-level command as the hostCommand task sends it: no instance, and in the place of the
 * instance uuid the FIFO group it is ordered in.
 */
export type PreparedHostCommand = Omit<PreparedCommand, 'instance'> & { instance: Record<string, never> };

export interface CacheImagesPlan {
  commands: PreparedHostCommand[];
  skipped: HostOutcome[];
}

function log(level: 'info' | 'warn', msg: string, fields: Record<string, unknown>): void {
  console.log(JSON.stringify({ level, msg, ...fields }));
}

function logOutcome(aggregateId: number, outcome: HostOutcome): void {
  const level = outcome.status === 'done' ? 'info' : 'warn';
  log(level, `image pre-cache on host ${outcome.host}: ${outcome.status}`, {
    aggregate_id: aggregateId,
    ...outcome,
  });
}

type HostService = Pick<
  typeof services.$inferSelect,
  'queue_url' | 'supported_commands' | 'forced_down' | 'last_seen_at'
>;

/** The queue a host's command goes to, or why the host gets none (Nova skips the hosts that are down). */
function addressOf(
  service: HostService | undefined,
  now: Date,
  downTimeSeconds: number,
): { queue_url: string } | { reason: string } {
  if (!service?.queue_url) return { reason: 'no compute agent is registered on it' };
  if (!isServiceUp(service, now, downTimeSeconds)) return { reason: 'its compute service is down' };
  if (!agentRunsCommand(service.supported_commands, COMMAND)) {
    return { reason: `its agent does not run ${COMMAND}: upgrade it` };
  }
  return { queue_url: service.queue_url };
}

const PlanInput = v.object({ aggregate_id: AggregateId, image_ids: ImageIds });

/** cache-images.plan: a command for each host of the aggregate that can run it; the others, skipped. */
export async function plan(ctx: ConductorContext, input: unknown): Promise<CacheImagesPlan> {
  const { aggregate_id, image_ids } = v.parse(PlanInput, input);
  const members = await ctx.db
    .select({ host: aggregateHosts.host })
    .from(aggregateHosts)
    .where(and(eq(aggregateHosts.aggregate_id, aggregate_id), eq(aggregateHosts.deleted, 0)))
    .orderBy(asc(aggregateHosts.host));
  const hosts = members.map((member) => member.host);
  const rows =
    hosts.length === 0
      ? []
      : await ctx.db
          .select({
            host: services.host,
            queue_url: services.queue_url,
            supported_commands: services.supported_commands,
            forced_down: services.forced_down,
            last_seen_at: services.last_seen_at,
          })
          .from(services)
          .where(
            and(inArray(services.host, hosts), eq(services.binary, 'nova-compute'), eq(services.deleted, 0)),
          );
  const now = new Date();
  const commands: PreparedHostCommand[] = [];
  const skipped: HostOutcome[] = [];
  for (const host of hosts) {
    const service = rows.find((row) => row.host === host);
    const address = addressOf(service, now, ctx.config.SERVICE_DOWN_TIME_SECONDS);
    if ('reason' in address) {
      skipped.push({ host, status: 'skipped', reason: address.reason });
      continue;
    }
    commands.push({
      command_id: crypto.randomUUID(),
      name: COMMAND,
      host,
      instance_uuid: MESSAGE_GROUP,
      queue_url: address.queue_url,
      instance: {},
      params: { image_ids },
    });
  }
  log('info', `image pre-cache of ${image_ids.length} image(s) on ${hosts.length} host(s) requested`, {
    aggregate_id,
    image_ids,
    hosts,
  });
  for (const outcome of skipped) logOutcome(aggregate_id, outcome);
  return { commands, skipped };
}

const HostCachedInput = v.object({ aggregate_id: AggregateId, host: v.string(), result: CacheImagesOutput });

/** cache-images.host_cached: the host answered for each image. */
export async function hostCached(_ctx: ConductorContext, input: unknown): Promise<HostOutcome> {
  const { aggregate_id, host, result } = v.parse(HostCachedInput, input);
  const outcome: HostOutcome = { host, status: 'done', images: result.images };
  logOutcome(aggregate_id, outcome);
  return outcome;
}

const HostFailedInput = v.object({ aggregate_id: AggregateId, host: v.string(), error: CaughtError });

/** cache-images.host_failed: the host failed the command, or never answered it. */
export async function hostFailed(_ctx: ConductorContext, input: unknown): Promise<HostOutcome> {
  const { aggregate_id, host, error } = v.parse(HostFailedInput, input);
  const outcome: HostOutcome = { host, status: 'failed', reason: describeCaughtError(error) };
  logOutcome(aggregate_id, outcome);
  return outcome;
}

const ReportInput = v.object({
  aggregate_id: AggregateId,
  image_ids: ImageIds,
  skipped: v.array(HostOutcome),
  hosts: v.array(HostOutcome),
});

export interface CacheImagesReport {
  aggregate_id: number;
  image_ids: string[];
  hosts: HostOutcome[];
  /** Nova's closing figures: image outcomes over all hosts, and the hosts that got no command or failed it. */
  totals: Record<(typeof IMAGE_CACHE_STATUSES)[number] | 'skipped_hosts' | 'failed_hosts', number>;
}

/** cache-images.report: every host's outcome and the totals, logged and returned as the execution's output. */
export async function report(_ctx: ConductorContext, input: unknown): Promise<CacheImagesReport> {
  const { aggregate_id, image_ids, skipped, hosts } = v.parse(ReportInput, input);
  const outcomes = [...hosts, ...skipped].sort((a, b) => a.host.localeCompare(b.host));
  const totals: CacheImagesReport['totals'] = {
    cached: 0,
    existing: 0,
    error: 0,
    skipped_hosts: skipped.length,
    failed_hosts: 0,
  };
  for (const outcome of outcomes) {
    if (outcome.status === 'failed') totals.failed_hosts++;
    if (outcome.status !== 'done') continue;
    for (const status of Object.values(outcome.images)) totals[status]++;
  }
  const level = totals.error + totals.skipped_hosts + totals.failed_hosts > 0 ? 'warn' : 'info';
  log(level, 'image pre-cache finished', { aggregate_id, image_ids, ...totals });
  return { aggregate_id, image_ids, hosts: outcomes, totals };
}
