import { recordNetworkApiMode } from '../../functions/network/mode.ts';
import { createDatabase } from '../../schema/db.ts';
import type { BenchClient } from './client.ts';
import { type Figure, round } from './stats.ts';

// The nova-network → networking service migration's rate: a legacy deployment of `servers` servers
// on one FlatDHCP network, booted through the API, migrated by POST /v3/os-network-migrations and
// followed until the run completes. The cloud is the bench's own and ends in the networking service.
const BOOTS_AT_ONCE = 10;

interface Run {
  status: string;
  created_at: string;
  finished_at: string | null;
  error?: unknown;
}

async function bootLegacyServers(client: BenchClient, servers: number): Promise<void> {
  for (let booted = 0; booted < servers; booted += BOOTS_AT_ONCE) {
    const batch = Math.min(BOOTS_AT_ONCE, servers - booted);
    const ids = await Promise.all(
      Array.from({ length: batch }, (_, i) =>
        client.createServer(`bench-legacy-${booted + i}`, i % 2 ? 'az-1' : 'az-2'),
      ),
    );
    await Promise.all(
      ids.map((id) =>
        client.waitActive(id, 20).catch(async (error: Error) => {
          const shown = await client.request<{ server: { fault?: unknown } }>('GET', `/v3/servers/${id}`);
          throw new Error(`${error.message}: ${JSON.stringify(shown.body.server.fault)}`);
        }),
      ),
    );
  }
}

export async function networkMigrationBench(
  client: BenchClient,
  primaryUrl: string,
  servers: number,
): Promise<Figure[]> {
  const db = createDatabase({ primary: primaryUrl, replicas: [] }).$primary;
  await recordNetworkApiMode(db, 'nova-network', 'bench');
  const network = await client.request('POST', '/v3/os-networks', {
    network: { label: 'bench-legacy', cidr: '10.210.0.0/22' },
  });
  if (network.status !== 200) throw new Error(`legacy network create: ${network.status}`);
  await bootLegacyServers(client, servers);
  const started = performance.now();
  const created = await client.request<{ network_migration: { id: string } }>(
    'POST',
    '/v3/os-network-migrations',
    {
      network_migration: {},
    },
  );
  if (created.status !== 202)
    throw new Error(`migration start: ${created.status} ${JSON.stringify(created.body)}`);
  const path = `/v3/os-network-migrations/${created.body.network_migration.id}`;
  let run: Run;
  for (;;) {
    run = (await client.request<{ network_migration: Run }>('GET', path)).body.network_migration;
    if (!['planning', 'migrating', 'cutting_over'].includes(run.status)) break;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  const seconds = (performance.now() - started) / 1000;
  if (run.status !== 'completed')
    throw new Error(`migration ended ${run.status}: ${JSON.stringify(run.error)}`);
  const detail = `${servers} servers (one VIF and fixed IP each) on one FlatDHCP network over the 3 default hosts (which take 150 servers at most); plan, create, re-plug on every host, verify, cut-over; polled every 50 ms`;
  return [
    { name: `network migration: ${servers} servers, total`, value: round(seconds, 2), unit: 's', detail },
    {
      name: 'network migration: rate',
      value: round(servers / seconds, 1),
      unit: '/s',
      detail: `servers per second; ${detail}`,
    },
  ];
}
