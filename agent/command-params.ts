import * as v from 'valibot';

// The arguments each command needs beyond the instance, checked before the driver acts: a workflow
// that sends the wrong ones gets a failed answer naming the field, never a half-done move.

/** finish_resize and finish_revert_resize: start the guest, or leave it off (it was stopped before the move). */
export const PowerOnParams = v.object({ power_on: v.boolean() });

export const PreLiveMigrationParams = v.object({ block_migration: v.boolean() });

export const LiveMigrationParams = v.object({
  dest_host: v.pipe(v.string(), v.minLength(1)),
  block_migration: v.boolean(),
});

/** cache_images: the images to put into the host's cache (the API checked they exist). */
export const CacheImagesParams = v.object({
  image_ids: v.pipe(v.array(v.pipe(v.string(), v.minLength(1))), v.minLength(1)),
});

/** attach_interface and detach_interface: the VIF (port) to add from the instance's network info, or remove. */
export const InterfaceParams = v.object({ port_id: v.pipe(v.string(), v.minLength(1)) });

export class InvalidCommandParams extends Error {
  override readonly name = 'InvalidCommandParams';
}

export function commandParams<TSchema extends v.GenericSchema>(
  schema: TSchema,
  command: { name: string; params: Record<string, unknown> },
): v.InferOutput<TSchema> {
  const parsed = v.safeParse(schema, command.params);
  if (!parsed.success) {
    throw new InvalidCommandParams(`${command.name}: ${v.summarize(parsed.issues)}`);
  }
  return parsed.output;
}
