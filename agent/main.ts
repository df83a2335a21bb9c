import { ComputeAgent } from './agent.ts';
import type { AgentConfig } from './config.ts';
import { AgentConfigError, parseAgentConfig } from './config.ts';
import { createVirtDriver } from './drivers/index.ts';

// CLI entry: `tsx agent/main.ts` with the AGENT_* variables set (see config.ts).

function loadConfig(): AgentConfig {
  try {
    return parseAgentConfig(process.env);
  } catch (error) {
    if (error instanceof AgentConfigError) {
      console.error(error.message);
      process.exit(2);
    }
    throw error;
  }
}

const config = loadConfig();
const agent = new ComputeAgent(config, createVirtDriver(config), {
  log: (line) => console.log(`[${config.host}] ${line}`),
});

let stopping: Promise<void> | undefined;
function stopOnSignal(signal: NodeJS.Signals): void {
  if (stopping) return;
  console.log(`[${config.host}] ${signal} received; stopping`);
  stopping = agent.stop().then(
    () => {
      process.exitCode = 0;
    },
    (error: unknown) => {
      console.error(`[${config.host}] stop failed: ${String(error)}`);
      process.exitCode = 1;
    },
  );
}
process.on('SIGINT', stopOnSignal);
process.on('SIGTERM', stopOnSignal);

try {
  await agent.start();
} catch (error) {
  console.error(
    `[${config.host}] could not start: ${error instanceof Error ? error.message : String(error)}`,
  );
  process.exit(1);
}
