import { agentRunsCommand, type ComputeCommandName } from '../../schema/objects/compute-command.ts';

type Side = 'source' | 'destination';

// The host commands each type of move (the migrations row's migration_type) sends to each side
// (workflows/migrate-server.ts), beyond spawn and terminate, which every agent runs. A revert's
// finish_revert_resize runs on the source.
const COLD: Record<Side, ComputeCommandName[]> = {
  source: ['migrate_disk_and_power_off', 'finish_revert_resize'],
  destination: ['prep_resize', 'finish_resize'],
};
const MOVE_COMMANDS: Readonly<Record<string, Record<Side, ComputeCommandName[]>>> = {
  migration: COLD,
  resize: COLD,
  'live-migration': {
    source: ['live_migration'],
    destination: ['pre_live_migration', 'post_live_migration_at_destination'],
  },
  // The source is down and the destination only spawns.
  evacuation: { source: [], destination: [] },
};

/** The commands a move of `migrationType` sends to the host on `side`, beyond spawn and terminate. */
export function moveCommands(migrationType: string, side: Side): readonly ComputeCommandName[] {
  const commands = MOVE_COMMANDS[migrationType];
  if (!commands) throw new Error(`unknown migration type ${migrationType}`);
  return commands[side];
}

/** The commands a move needs on `side` that the host's agent does not run (none: it can take part). */
export function missingMoveCommands(
  supported: readonly string[] | null,
  migrationType: string,
  side: Side,
): ComputeCommandName[] {
  return moveCommands(migrationType, side).filter((name) => !agentRunsCommand(supported, name));
}
