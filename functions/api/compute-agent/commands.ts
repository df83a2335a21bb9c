import {
  SendTaskFailureCommand,
  SendTaskHeartbeatCommand,
  SendTaskSuccessCommand,
  TaskDoesNotExist,
  TaskTimedOut,
} from '@aws-sdk/client-sfn';
import {
  ChangeMessageVisibilityCommand,
  DeleteMessageCommand,
  ReceiveMessageCommand,
} from '@aws-sdk/client-sqs';
import { and, desc, eq } from 'drizzle-orm';
import type { Context } from 'hono';
import { Hono } from 'hono';
import * as v from 'valibot';
import type { PrimaryDb } from '../../../schema/db.ts';
import {
  CommandHeartbeat,
  type CommandHeartbeatAnswer,
  CommandResult,
  ComputeCommandMessage,
  type DeliveredCommand,
} from '../../../schema/objects/compute-command.ts';
import { computeCommands, migrations, services } from '../../../schema/tables/index.ts';
import { BadRequest, Conflict, Forbidden, NotFound } from '../../shared/errors.ts';
import type { AppEnv } from '../context.ts';
import { parseOrBadRequest, readJson } from '../middleware/validate.ts';

const Receive = v.object({
  wait_seconds: v.optional(v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(20)), 0),
  max: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(10)), 10),
});

// A body that is not even JSON is as unanswerable as one of the wrong shape: both are dropped below.
const CommandBody = v.pipe(v.string(), v.parseJson(), ComputeCommandMessage);

type CommandRow = typeof computeCommands.$inferSelect;

async function commandOfCaller(c: { var: AppEnv['Variables'] }, commandId: string): Promise<CommandRow> {
  const [command] = await c.var.db.$primary
    .select()
    .from(computeCommands)
    .where(eq(computeCommands.command_id, commandId));
  if (!command) throw new NotFound(`Command ${commandId} was never delivered`);
  // The row's host is the queue the command was received from: the proof of whose command it is.
  if (command.host !== c.var.host)
    throw new Forbidden(`Command ${commandId} is not addressed to host ${c.var.host}`);
  return command;
}

function isTaskGone(error: unknown): boolean {
  return error instanceof TaskDoesNotExist || error instanceof TaskTimedOut;
}

async function queueUrlOf(db: PrimaryDb, host: string): Promise<string | null> {
  const [service] = await db
    .select({ queue_url: services.queue_url })
    .from(services)
    .where(and(eq(services.host, host), eq(services.binary, 'nova-compute'), eq(services.deleted, 0)));
  return service?.queue_url ?? null;
}

/** A heartbeat's body is optional: no body (older agents) is the same as `{}`. */
async function readHeartbeat(c: Context<AppEnv>): Promise<CommandHeartbeat> {
  const text = await c.req.text();
  if (text.trim() === '') return {};
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new BadRequest('Malformed request body: expected a JSON document');
  }
  return parseOrBadRequest(CommandHeartbeat, body);
}

/**
 * Keeps the command's queue message hidden for another visibility timeout, so a long command is not
 * redelivered while its host is alive. Failing to is not the heartbeat's failure: the workflow has
 * heard from the host, and a copy delivered meanwhile is ignored by the agent still running the
 * command (a receipt no longer in flight means exactly that happened), so it is only logged.
 */
async function extendVisibility(
  c: Context<AppEnv>,
  command: CommandRow,
  queueUrl: string | null,
): Promise<void> {
  if (!queueUrl) return;
  try {
    await c.var.sqs.send(
      new ChangeMessageVisibilityCommand({
        QueueUrl: queueUrl,
        ReceiptHandle: command.receipt_handle,
        VisibilityTimeout: c.var.config.COMMAND_VISIBILITY_TIMEOUT_SECONDS,
      }),
    );
  } catch (error) {
    console.error(
      JSON.stringify({
        level: 'warn',
        msg: 'could not extend the visibility of a running command',
        host: command.host,
        command_id: command.command_id,
        error: error instanceof Error ? `${error.name}: ${error.message}` : String(error),
      }),
    );
  }
}

/**
 * A live migration's heartbeat: the progress goes onto the instance's in-flight live-migration row
 * whose source is this host (the only row this host may touch), and the admin's request comes back.
 */
async function liveMigrationControl(
  db: PrimaryDb,
  command: CommandRow,
  progress: number | undefined,
): Promise<CommandHeartbeatAnswer['control']> {
  const inFlight = and(
    eq(migrations.instance_uuid, command.instance_uuid),
    eq(migrations.migration_type, 'live-migration'),
    eq(migrations.status, 'migrating'),
    eq(migrations.source_compute, command.host),
    eq(migrations.deleted, 0),
  );
  if (progress !== undefined) {
    await db.update(migrations).set({ progress, updated_at: new Date() }).where(inFlight);
  }
  const [row] = await db
    .select({ control: migrations.control })
    .from(migrations)
    .where(inFlight)
    .orderBy(desc(migrations.id))
    .limit(1);
  return row?.control ?? null;
}

export const commandRoutes = new Hono<AppEnv>()
  .post('/receive', async (c) => {
    const request = await readJson(c, Receive);
    const db = c.var.db.$primary;
    const queueUrl = await queueUrlOf(db, c.var.host);
    if (!queueUrl) throw new Conflict(`Host ${c.var.host} is not registered: register first`);
    const received = await c.var.sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        MaxNumberOfMessages: request.max,
        WaitTimeSeconds: request.wait_seconds,
      }),
    );
    const delivered: DeliveredCommand[] = [];
    for (const message of received.Messages ?? []) {
      const parsed = v.safeParse(CommandBody, message.Body);
      if (!parsed.success || parsed.output.host !== c.var.host) {
        // Not a command for this host: it can never be answered, so it must not block the queue.
        console.error(
          JSON.stringify({ level: 'error', msg: 'dropping malformed command', host: c.var.host }),
        );
        await c.var.sqs.send(
          new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: message.ReceiptHandle }),
        );
        continue;
      }
      const command = parsed.output;
      const now = new Date();
      const instanceUuid = String(
        (command.instance['nova_object.data'] as Record<string, unknown> | undefined)?.uuid ?? '',
      );
      await db
        .insert(computeCommands)
        .values({
          command_id: command.command_id,
          host: c.var.host,
          name: command.name,
          instance_uuid: instanceUuid,
          task_token: command.task_token,
          receipt_handle: message.ReceiptHandle ?? '',
          status: 'delivered',
          delivered_at: now,
          created_at: now,
        })
        .onDuplicateKeyUpdate({ set: { receipt_handle: message.ReceiptHandle ?? '', updated_at: now } });
      delivered.push({
        command_id: command.command_id,
        name: command.name,
        instance: command.instance,
        params: command.params,
      });
    }
    return c.json({ commands: delivered });
  })
  .post('/:commandId/heartbeat', async (c) => {
    const beat = await readHeartbeat(c);
    const command = await commandOfCaller(c, c.req.param('commandId'));
    if (command.status !== 'delivered')
      throw new Conflict(`Command ${command.command_id} is already ${command.status}`);
    try {
      await c.var.sfn.send(new SendTaskHeartbeatCommand({ taskToken: command.task_token }));
    } catch (error) {
      if (isTaskGone(error))
        throw new Conflict(`The workflow no longer waits for command ${command.command_id}`);
      throw error;
    }
    const db = c.var.db.$primary;
    await extendVisibility(c, command, await queueUrlOf(db, c.var.host));
    if (command.name !== 'live_migration') return c.body(null, 204);
    const answer: CommandHeartbeatAnswer = {
      control: await liveMigrationControl(db, command, beat.progress),
    };
    return c.json(answer);
  })
  .post('/:commandId/result', async (c) => {
    const result = await readJson(c, CommandResult);
    const command = await commandOfCaller(c, c.req.param('commandId'));
    const db = c.var.db.$primary;
    if (command.status !== 'delivered') {
      // A retried answer is fine; a contradicting one is not.
      if (command.status === result.status) return c.body(null, 204);
      throw new Conflict(`Command ${command.command_id} was already answered ${command.status}`);
    }
    // Win the answer first (conditional write), then tell the workflow.
    const won = await db
      .update(computeCommands)
      .set({ status: result.status, completed_at: new Date(), updated_at: new Date() })
      .where(
        and(eq(computeCommands.command_id, command.command_id), eq(computeCommands.status, 'delivered')),
      );
    if (won.rowsAffected !== 1) return c.body(null, 204);
    try {
      if (result.status === 'succeeded') {
        await c.var.sfn.send(
          new SendTaskSuccessCommand({
            taskToken: command.task_token,
            output: JSON.stringify(result.output),
          }),
        );
      } else {
        await c.var.sfn.send(
          new SendTaskFailureCommand({
            taskToken: command.task_token,
            error: result.error.type.slice(0, 256),
            cause: result.error.message.slice(0, 32_768),
          }),
        );
      }
    } catch (error) {
      if (!isTaskGone(error)) {
        // Undo the claim on the answer so the agent's retry can deliver it.
        await db
          .update(computeCommands)
          .set({ status: 'delivered', completed_at: null, updated_at: new Date() })
          .where(eq(computeCommands.command_id, command.command_id));
        throw error;
      }
    }
    const queueUrl = await queueUrlOf(db, c.var.host);
    if (queueUrl) {
      await c.var.sqs.send(
        new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: command.receipt_handle }),
      );
    }
    return c.body(null, 204);
  });
