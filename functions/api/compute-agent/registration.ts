import { CreateQueueCommand, SetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import { and, eq, inArray, isNull, ne, or, sql } from 'drizzle-orm';
import { Hono } from 'hono';
import * as v from 'valibot';
import type { PrimaryDb } from '../../../schema/db.ts';
import { unsupportedObjectsReason } from '../../../schema/objects/registry.ts';
import { computeNodes, instances, migrations, services } from '../../../schema/tables/index.ts';
import { refreshHostPlacementFacts } from '../../scheduler/placement-facts.ts';
import { computeQueueName } from '../../shared/aws.ts';
import { BadRequest, Conflict } from '../../shared/errors.ts';
import type { AppEnv } from '../context.ts';
import { readJson } from '../middleware/validate.ts';
import { HostName } from './credentials.ts';

const COMPUTE_BINARY = 'nova-compute';

const Resources = {
  vcpus: v.pipe(v.number(), v.integer(), v.minValue(1)),
  memory_mb: v.pipe(v.number(), v.integer(), v.minValue(1)),
  local_gb: v.pipe(v.number(), v.integer(), v.minValue(0)),
};

const Register = v.object({
  host: HostName,
  availability_zone: v.pipe(v.string(), v.minLength(1), v.maxLength(255)),
  hypervisor_hostname: v.pipe(v.string(), v.minLength(1), v.maxLength(255)),
  hypervisor_type: v.pipe(v.string(), v.minLength(1), v.maxLength(255)),
  hypervisor_version: v.pipe(v.number(), v.integer()),
  ...Resources,
  supported_objects: v.record(
    v.string(),
    v.pipe(v.string(), v.regex(/^\d+\.\d+$/, 'object versions are major.minor')),
  ),
  /**
   * The commands the agent runs. Names this control plane does not know are kept (a newer agent's);
   * an agent that sends none is from before moves existed (schema/objects/compute-command.ts).
   */
  supported_commands: v.optional(
    v.pipe(v.array(v.pipe(v.string(), v.minLength(1), v.maxLength(64))), v.maxLength(100)),
  ),
});

const Report = v.object({
  ...Resources,
  metrics: v.pipe(
    v.array(
      v.object({
        name: v.pipe(v.string(), v.minLength(1), v.maxLength(255)),
        value: v.number(),
        timestamp: v.pipe(v.string(), v.isoTimestamp()),
        source: v.string(),
      }),
    ),
    v.maxLength(100),
  ),
  instances: v.array(v.string()),
});

// An evacuation that got this far may have started the instance elsewhere; one that failed or was
// cancelled left the guest here as the only copy.
const EVACUATED_STATUSES = ['migrating', 'post-migrating', 'done'];

/**
 * Of the instances a host reports, those evacuated away from it (while it was down) that no longer
 * live on it: their local guests are stale copies the agent destroys. Only an instance whose latest
 * move is that evacuation is listed: one evacuated and later moved back, or on its way back (a live
 * migration's incoming guest exists here before the instance names this host), is this host's again.
 */
async function evacuatedFrom(db: PrimaryDb, host: string, reported: string[]): Promise<string[]> {
  if (reported.length === 0) return [];
  const latestMove = db
    .select({ uuid: migrations.instance_uuid, id: sql<number>`max(${migrations.id})`.as('latest_id') })
    .from(migrations)
    .where(and(eq(migrations.deleted, 0), inArray(migrations.instance_uuid, reported)))
    .groupBy(migrations.instance_uuid)
    .as('latest_move');
  const rows = await db
    .select({ uuid: migrations.instance_uuid })
    .from(migrations)
    .innerJoin(latestMove, eq(latestMove.id, migrations.id))
    .leftJoin(instances, eq(instances.uuid, migrations.instance_uuid))
    .where(
      and(
        eq(migrations.migration_type, 'evacuation'),
        eq(migrations.source_compute, host),
        inArray(migrations.status, EVACUATED_STATUSES),
        or(
          isNull(instances.uuid),
          ne(instances.deleted, 0),
          isNull(instances.host),
          ne(instances.host, host),
        ),
      ),
    );
  return rows.map((row) => row.uuid);
}

export const registrationRoutes = new Hono<AppEnv>()
  .post('/register', async (c) => {
    const body = await readJson(c, Register);
    if (body.host !== c.var.host)
      throw new BadRequest(`host: the credential is for ${c.var.host}, not ${body.host}`);
    const unsupported = unsupportedObjectsReason(body.supported_objects);
    if (unsupported) throw new BadRequest(unsupported);
    // CreateQueue is idempotent for identical attributes, so re-registering is safe. The visibility
    // timeout is set apart: CreateQueue refuses an existing queue whose value differs, and a changed
    // COMMAND_VISIBILITY_TIMEOUT_SECONDS must reach queues created before the change.
    const queue = await c.var.sqs.send(
      new CreateQueueCommand({
        QueueName: computeQueueName(c.var.config, body.host),
        Attributes: { FifoQueue: 'true', ContentBasedDeduplication: 'false' },
      }),
    );
    if (!queue.QueueUrl) throw new Error(`SQS created the command queue of host ${body.host} without a URL`);
    await c.var.sqs.send(
      new SetQueueAttributesCommand({
        QueueUrl: queue.QueueUrl,
        Attributes: { VisibilityTimeout: String(c.var.config.COMMAND_VISIBILITY_TIMEOUT_SECONDS) },
      }),
    );
    const db = c.var.db.$primary;
    const now = new Date();
    await db
      .insert(services)
      .values({
        host: body.host,
        binary: COMPUTE_BINARY,
        topic: 'compute',
        availability_zone: body.availability_zone,
        queue_url: queue.QueueUrl,
        supported_objects: body.supported_objects,
        supported_commands: body.supported_commands ?? null,
        last_seen_at: now,
        created_at: now,
      })
      .onDuplicateKeyUpdate({
        set: {
          availability_zone: body.availability_zone,
          queue_url: queue.QueueUrl,
          supported_objects: body.supported_objects,
          supported_commands: body.supported_commands ?? null,
          last_seen_at: now,
          updated_at: now,
        },
      });
    const [service] = await db
      .select({ id: services.id })
      .from(services)
      .where(and(eq(services.host, body.host), eq(services.binary, COMPUTE_BINARY), eq(services.deleted, 0)));
    if (!service) throw new Conflict(`service for host ${body.host} vanished during registration`);
    const resources = {
      hypervisor_type: body.hypervisor_type,
      hypervisor_version: body.hypervisor_version,
      availability_zone: body.availability_zone,
      vcpus: body.vcpus,
      memory_mb: body.memory_mb,
      local_gb: body.local_gb,
    };
    await db
      .insert(computeNodes)
      .values({
        service_id: service.id,
        host: body.host,
        hypervisor_hostname: body.hypervisor_hostname,
        metrics: [],
        created_at: now,
        ...resources,
      })
      .onDuplicateKeyUpdate({ set: { ...resources, service_id: service.id, updated_at: now } });
    // The node took its service's zone; its aggregates and dedications may say more.
    await refreshHostPlacementFacts(db, [body.host]);
    return c.json({ host: body.host, report_interval_seconds: c.var.config.REPORT_INTERVAL_SECONDS });
  })
  .post('/report', async (c) => {
    const report = await readJson(c, Report);
    const db = c.var.db.$primary;
    const now = new Date();
    const seen = await db
      .update(services)
      .set({ last_seen_at: now, report_count: sql`${services.report_count} + 1` })
      .where(
        and(eq(services.host, c.var.host), eq(services.binary, COMPUTE_BINARY), eq(services.deleted, 0)),
      );
    if (seen.rowsAffected === 0) throw new Conflict(`Host ${c.var.host} is not registered: register first`);
    // Totals and metrics only: usage belongs to claims, never to host reports.
    await db
      .update(computeNodes)
      .set({
        vcpus: report.vcpus,
        memory_mb: report.memory_mb,
        local_gb: report.local_gb,
        metrics: report.metrics,
        updated_at: now,
      })
      .where(and(eq(computeNodes.host, c.var.host), eq(computeNodes.deleted, 0)));
    return c.json({ evacuated: await evacuatedFrom(db, c.var.host, report.instances) });
  });
