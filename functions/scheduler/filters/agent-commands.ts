import { and, sql } from 'drizzle-orm';
import { agentRunsCommand, LEGACY_COMMAND_NAMES } from '../../../schema/objects/compute-command.ts';
import { services } from '../../../schema/tables/index.ts';
import type { HostFilter } from './filter.ts';

// During a rolling upgrade some agents predate the commands a move sends; such a host cannot be a
// move's destination however much room it has. A boot needs nothing beyond what every agent runs.
const LEGACY_COMMANDS_JSON = JSON.stringify(LEGACY_COMMAND_NAMES);

export const agentCommandsFilter: HostFilter = {
  name: 'AgentCommandsFilter',
  description: "The host's agent runs every command the request needs (a move's destination commands).",
  hints: [],
  sql: (spec) => {
    const required = spec.required_commands ?? [];
    if (required.length === 0) return undefined;
    return and(
      ...required.map(
        (name) =>
          sql`JSON_CONTAINS(COALESCE(${services.supported_commands}, ${LEGACY_COMMANDS_JSON}), JSON_QUOTE(${name}))`,
      ),
    );
  },
  passes: (host, spec) => {
    const missing = (spec.required_commands ?? []).filter(
      (name) => !agentRunsCommand(host.supported_commands, name),
    );
    return missing.length > 0 ? `its agent does not run ${missing.join(', ')}` : null;
  },
};
