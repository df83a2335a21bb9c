import {
  SendTaskFailureCommand,
  SendTaskHeartbeatCommand,
  SendTaskSuccessCommand,
  TaskDoesNotExist,
  TaskTimedOut,
} from '@aws-sdk/client-sfn';
import { DeleteMessageCommand, ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { and, eq } from 'drizzle-orm';
import { Hono } from 'hono';
import * as v from 'valibot';
import {
  CommandResult,
  ComputeCommandMessage,
  type DeliveredCommand,
} from '../../../schema/objects/compute-command.ts';
import { computeCommands, services } from '../../../schema/tables/index.ts';
import { Conflict, Forbidden, NotFound } from '../../shared/errors.ts';
import type { AppEnv } from '../context.ts';
import { readJson } from '../middleware/validate.ts';

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

export const commandRoutes = new Hono<AppEnv>()
  .post('/receive', async (c) => {
    const request = await readJson(c, Receive);
    const db = c.var.db.$primary;
    const [service] = await db
      .select({ queue_url: services.queue_url })
      .from(services)
      .where(
        and(eq(services.host, c.var.host), eq(services.binary, 'nova-compute'), eq(services.deleted, 0)),
      );
    if (!service?.queue_url) throw new Conflict(`Host ${c.var.host} is not registered: register first`);
    const received = await c.var.sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: service.queue_url,
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
          new DeleteMessageCommand({ QueueUrl: service.queue_url, ReceiptHandle: message.ReceiptHandle }),
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
      delivered.push({ command_id: command.command_id, name: command.name, instance: command.instance });
    }
    return c.json({ commands: delivered });
  })
  .post('/:commandId/heartbeat', async (c) => {
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
    return c.body(null, 204);
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
    const [service] = await db
      .select({ queue_url: services.queue_url })
      .from(services)
      .where(
        and(eq(services.host, c.var.host), eq(services.binary, 'nova-compute'), eq(services.deleted, 0)),
      );
    if (service?.queue_url) {
      await c.var.sqs.send(
        new DeleteMessageCommand({ QueueUrl: service.queue_url, ReceiptHandle: command.receipt_handle }),
      );
    }
    return c.body(null, 204);
  });
