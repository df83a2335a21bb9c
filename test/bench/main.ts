import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { startDatabasePair } from '../../infra/local/mariadb.ts';
import { type LocalStack, startLocalStack } from '../../infra/local/stack.ts';
import { archiveBench } from './archive.ts';
import { bootLatency, listDetailLatency } from './boot.ts';
import { BenchClient } from './client.ts';
import { consistencyBench } from './consistency.ts';
import { dataLayerBench } from './data-layer.ts';
import { migrationBench } from './migrations.ts';
import { networkMigrationBench } from './network-migration.ts';
import { networkingBench } from './networking.ts';
import { schedulerBench, schedulerDecisionBench } from './scheduler.ts';
import { type Figure, round } from './stats.ts';

// `npm run bench`: starts its own fresh local cloud (its own ports and data dir), measures, prints the
// figures and writes them to bench-results.json. `npm run bench -- --scheduler`: only the scheduler's
// decision figures, on a database pair of their own without the rest of the cloud (under a minute
// instead of about two); `npm run bench -- --consistency`: only the read-your-writes figures, on a
// cloud of their own (test/bench/consistency.ts); `npm run bench -- --network`: only the networking
// service's figures (test/bench/networking.ts), on a cloud of their own. Numbers depend on the
// machine: compare runs on the same kind of machine only.
const ROOT = new URL('../../', import.meta.url).pathname;

async function allFigures(): Promise<Figure[]> {
  const figures: Figure[] = [];
  const startedAt = performance.now();
  const stack = await startLocalStack({ dataDir: join(ROOT, '.local', 'bench'), fresh: true, apiPort: 0 });
  figures.push({
    name: 'local cloud start (fresh data dir)',
    value: round((performance.now() - startedAt) / 1000, 2),
    unit: 's',
    detail:
      'MariaDB primary+replica, bridges, fauxqs, Step Functions endpoint, workerd API, 3 agents registered',
  });
  try {
    const client = new BenchClient(stack.apiUrl);
    await client.login(stack.admin.username, stack.admin.password);
    // First, while the default fleet is empty: its concurrent boots need the room the later figures fill.
    figures.push(
      ...(await schedulerBench({
        primaryUrl: stack.database.primaryUrl,
        apiUrl: stack.apiUrl,
        admin: stack.admin,
      })),
    );
    figures.push(...(await bootLatency(client, 50)));
    figures.push(...(await migrationBench(client, 20)));
    figures.push(...(await networkingBench(client)));
    figures.push(...(await listDetailLatency(client, 100, 50)));
    figures.push(
      ...(await dataLayerBench({
        client,
        token: client.authToken,
        env: stack.env,
        primaryUrl: stack.database.primaryUrl,
        replicaUrl: stack.database.replicaUrl,
        adminProject: stack.admin.project,
      })),
    );
    figures.push(...(await consistencyFigures(stack, client.authToken)));
    figures.push(...(await archiveBench({ primaryUrl: stack.database.primaryUrl })));
    // Last: it turns the cloud into a nova-network deployment and migrates it.
    figures.push(...(await networkMigrationBench(client, stack.database.primaryUrl, 100)));
  } finally {
    await stack.stop();
  }
  return figures;
}

function consistencyFigures(stack: LocalStack, token: string): Promise<Figure[]> {
  return consistencyBench({
    token,
    env: stack.env,
    primaryUrl: stack.database.primaryUrl,
    replicaUrl: stack.database.replicaUrl,
    replicaPort: stack.database.replicaPort,
  });
}

/** `--consistency`: only the read-your-writes figures, on a fresh cloud of their own (about 30 s). */
async function onlyConsistencyFigures(): Promise<Figure[]> {
  const stack = await startLocalStack({
    dataDir: join(ROOT, '.local', 'bench-consistency'),
    fresh: true,
    apiPort: 0,
  });
  try {
    const client = new BenchClient(stack.apiUrl);
    await client.login(stack.admin.username, stack.admin.password);
    return await consistencyFigures(stack, client.authToken);
  } finally {
    await stack.stop();
  }
}

/** `--network`: only the networking service's figures, on a fresh cloud of their own. */
async function onlyNetworkingFigures(): Promise<Figure[]> {
  const stack = await startLocalStack({
    dataDir: join(ROOT, '.local', 'bench-network'),
    fresh: true,
    apiPort: 0,
  });
  try {
    const client = new BenchClient(stack.apiUrl);
    await client.login(stack.admin.username, stack.admin.password);
    return [
      ...(await networkingBench(client)),
      ...(await networkMigrationBench(client, stack.database.primaryUrl, 100)),
    ];
  } finally {
    await stack.stop();
  }
}

async function schedulerFigures(): Promise<Figure[]> {
  // A primary with a live replica, as the cloud's: every claim is replicated while it is measured.
  const pair = await startDatabasePair({ dir: join(ROOT, '.local', 'bench-scheduler'), database: 'nova' });
  try {
    return await schedulerDecisionBench(pair.primary.port);
  } finally {
    await pair.stop();
  }
}

async function main(): Promise<void> {
  const figures = process.argv.includes('--scheduler')
    ? await schedulerFigures()
    : process.argv.includes('--consistency')
      ? await onlyConsistencyFigures()
      : process.argv.includes('--network')
        ? await onlyNetworkingFigures()
        : await allFigures();
  const width = Math.max(...figures.map((figure) => figure.name.length));
  console.log(`\nBenchmarks (${new Date().toISOString()}, node ${process.version})`);
  for (const figure of figures) {
    console.log(
      `  ${figure.name.padEnd(width)}  ${String(figure.value).padStart(8)} ${figure.unit.padEnd(3)}  ${figure.detail}`,
    );
  }
  const output = join(ROOT, 'bench-results.json');
  await writeFile(output, `${JSON.stringify({ measured_at: new Date().toISOString(), figures }, null, 2)}\n`);
  console.log(`\nwritten to ${output}`);
}

main().catch((error: Error) => {
  console.error(`bench failed: ${error.stack ?? error.message}`);
  process.exit(1);
});
