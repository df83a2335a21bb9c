import * as v from 'valibot';

// The message a workflow puts on a host's SQS queue. The task token never reaches the agent: the
// API keeps it when it hands the command over, and the agent answers by command id, so an agent can
// only ever complete commands that were delivered from its own queue.
/** What an agent from before moves existed runs; such an agent registers without `supported_commands`. */
export const LEGACY_COMMAND_NAMES = [
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

export const COMPUTE_COMMAND_NAMES = [
  ...LEGACY_COMMAND_NAMES,
  // Cold migration and resize: destination, source, destination; a revert ends on the source.
  'prep_resize',
  'migrate_disk_and_power_off',
  'finish_resize',
  'finish_revert_resize',
  // Live migration: destination, source, destination.
  'pre_live_migration',
  'live_migration',
  'post_live_migration_at_destination',
  // Image pre-cache (compute 2.81): a host-level command.
  'cache_images',
  // Networking: plug_vifs replaces the guest's VIFs with the instance's network_info (the migration
  // between network APIs re-plugs every guest this way). Interface attach and detach have commands of
  // their own that add or remove one VIF, rather than a plug_vifs of the new whole list: two attaches
  // to one server run as two workflows, and a whole list built by the first could reach the host after
  // the second's and unplug its interface; adding or removing one VIF is right in either order.
  'plug_vifs',
  'attach_interface',
  'detach_interface',
] as const;
export type ComputeCommandName = (typeof COMPUTE_COMMAND_NAMES)[number];

/**
 * Commands addressed to a host rather than to one of its instances: their `instance` is `{}` and the
 * agent decodes none.
 */
export const HOST_COMMAND_NAMES = ['cache_images'] as const satisfies readonly ComputeCommandName[];
export type HostCommandName = (typeof HOST_COMMAND_NAMES)[number];
export type InstanceCommandName = Exclude<ComputeCommandName, HostCommandName>;

export function isHostCommandName(name: string): name is HostCommandName {
  return (HOST_COMMAND_NAMES as readonly string[]).includes(name);
}

/** Whether a host's agent runs `name`: as it reported at registration, or the legacy set if it reported none. */
export function agentRunsCommand(supported: readonly string[] | null, name: string): boolean {
  const runs: readonly string[] = supported ?? LEGACY_COMMAND_NAMES;
  return runs.includes(name);
}

/** Per-command arguments beyond the instance (e.g. `power_on`); each command validates its own. */
const CommandParams = v.optional(v.record(v.string(), v.unknown()), {});

export const ComputeCommandMessage = v.object({
  command_id: v.pipe(v.string(), v.minLength(1)),
  name: v.picklist(COMPUTE_COMMAND_NAMES),
  host: v.string(),
  /**
   * A versioned-object primitive (schema/objects/instance.ts), backported to what the host understands;
   * `{}` for a host-level command (HOST_COMMAND_NAMES).
   */
  instance: v.record(v.string(), v.unknown()),
  params: CommandParams,
  task_token: v.pipe(v.string(), v.minLength(1)),
});
export type ComputeCommandMessage = v.InferOutput<typeof ComputeCommandMessage>;

/** What the API hands an agent: the command without its token. */
export const DeliveredCommand = v.object({
  command_id: v.string(),
  name: v.picklist(COMPUTE_COMMAND_NAMES),
  instance: v.record(v.string(), v.unknown()),
  params: CommandParams,
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

/**
 * What became of each image a cache_images command named (Nova's compute manager answers the same):
 * downloaded now, already in the host's cache, or failed on that host.
 */
export const IMAGE_CACHE_STATUSES = ['cached', 'existing', 'error'] as const;
export type ImageCacheStatus = (typeof IMAGE_CACHE_STATUSES)[number];
export const CacheImagesOutput = v.object({
  images: v.record(v.string(), v.picklist(IMAGE_CACHE_STATUSES)),
});
export type CacheImagesOutput = v.InferOutput<typeof CacheImagesOutput>;

/** One VIF as a guest has it: what plug_vifs, attach_interface and detach_interface answer per VIF. */
export const GuestVif = v.object({
  id: v.string(),
  /** The MAC address. */
  address: v.string(),
  /** Its fixed addresses. */
  ips: v.array(v.string()),
});
export type GuestVif = v.InferOutput<typeof GuestVif>;

/** The answer of plug_vifs, attach_interface and detach_interface: the VIFs the guest has now. */
export const GuestVifsOutput = v.object({ vifs: v.array(GuestVif) });
export type GuestVifsOutput = v.InferOutput<typeof GuestVifsOutput>;

/** What an admin asked of an in-flight live migration (the migrations row's `control`). */
export const MIGRATION_CONTROLS = ['cancel', 'force_complete'] as const;

/** A heartbeat's body: how far a live migration's memory copy has come; empty for other commands. */
export const CommandHeartbeat = v.object({
  progress: v.optional(v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(100))),
});
export type CommandHeartbeat = v.InferOutput<typeof CommandHeartbeat>;

/** The API's answer to a heartbeat (200); a 204 means the same as `control: null`. */
export const CommandHeartbeatAnswer = v.object({
  control: v.nullable(v.picklist(MIGRATION_CONTROLS)),
});
export type CommandHeartbeatAnswer = v.InferOutput<typeof CommandHeartbeatAnswer>;
