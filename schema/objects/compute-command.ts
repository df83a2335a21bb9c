import * as v from 'valibot';

// The message a workflow puts on a host's SQS queue. The task token never reaches the agent: the
// API keeps it when it hands the command over, and the agent answers by command id, so an agent can
// only ever complete commands that were delivered from its own queue.
export const COMPUTE_COMMAND_NAMES = [
  'spawn',
  'terminate',
  'reboot',
  'power_on',
  'power_off',
  'pause',
  'unpause',
  'suspend',
  'resume',
  'rebuild',
] as const;
export type ComputeCommandName = (typeof COMPUTE_COMMAND_NAMES)[number];

export const ComputeCommandMessage = v.object({
  command_id: v.pipe(v.string(), v.minLength(1)),
  name: v.picklist(COMPUTE_COMMAND_NAMES),
  host: v.string(),
  /** A versioned-object primitive (schema/objects/instance.ts), backported to what the host understands. */
  instance: v.record(v.string(), v.unknown()),
  task_token: v.pipe(v.string(), v.minLength(1)),
});
export type ComputeCommandMessage = v.InferOutput<typeof ComputeCommandMessage>;

/** What the API hands an agent: the command without its token. */
export const DeliveredCommand = v.object({
  command_id: v.string(),
  name: v.picklist(COMPUTE_COMMAND_NAMES),
  instance: v.record(v.string(), v.unknown()),
});
export type DeliveredCommand = v.InferOutput<typeof DeliveredCommand>;

export const CommandResult = v.union([
  v.object({ status: v.literal('succeeded'), output: v.optional(v.record(v.string(), v.unknown()), {}) }),
  v.object({
    status: v.literal('failed'),
    error: v.object({ type: v.pipe(v.string(), v.minLength(1)), message: v.string() }),
  }),
]);
export type CommandResult = v.InferOutput<typeof CommandResult>;
