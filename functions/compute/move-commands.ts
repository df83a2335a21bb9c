import { agentRunsCommand, type ComputeCommandName } from '../../schema/objects/compute-command.ts';

export type MoveKind = 'migration' | 'resize' | 'live-migration' | 'evacuation';

// The host commands each kind of move sends to each side (workflows/migrate-server.ts), beyond spawn
// and terminate, which every agent runs. A revert's finish_revert_resize runs on the source.
const MOVE_COMMANDS: Record<MoveKind, Record<'source' | 'destination', ComputeCommandName[]>> = {
  migration: {
    source: ['migrate_disk_and_power_off', 'finish_revert_resize'],
    destination: ['prep_resize', 'finish_resize'],
  },
  resize: {
    source: ['migrate_disk_and_power_off', 'finish_revert_resize'],
    destination: ['prep_resize', 'finish_resize'],
  },
  'live-migration': {
    source: ['live_migration'],
    destination: ['pre_live_migration', 'post_live_migration_at_destination'],
  },
  // The source is down and the destination only spawns.
  evacuation: { source: [], destination: [] },
};

/** The commands a move of `kind` needs on `side` that the host's agent does not run (none: it can take part). */
export function missingMoveCommands(
  supported: readonly string[] | null,
  kind: MoveKind,
  side: 'source' | 'destination',
): ComputeCommandName[] {
  return MOVE_COMMANDS[kind][side].filter((name) => !agentRunsCommand(supported, name));
}
