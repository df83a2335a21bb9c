import { waitUntil } from '../helpers/wait.ts';
import type { BenchClient } from './client.ts';
import { type Figure, percentile, round } from './stats.ts';

// Control-plane time of each kind of move with the fake driver at zero latency: what the workflow,
// the conductor steps, the queues and the agents' round trips cost, not a hypervisor's work.
const ZONE = 'az-1';
const HOSTS = ['compute-1', 'compute-2'];
const POLL_MS = 5;

interface ServerState {
  status: string;
  'os-extended-server-attributes:host'?: string;
}

async function serverState(client: BenchClient, id: string): Promise<ServerState> {
  const { body } = await client.request<{ server: ServerState }>('GET', `/v3/servers/${id}`);
  return body.server;
}

async function waitStatus(client: BenchClient, id: string, status: string): Promise<ServerState> {
  return waitUntil(
    `server ${id} to reach ${status}`,
    async () => {
      const state = await serverState(client, id);
      if (state.status === 'ERROR') throw new Error(`server ${id} went to ERROR`);
      return state;
    },
    { until: (state) => state.status === status, timeoutMs: 60_000, intervalMs: POLL_MS },
  );
}

async function waitMigration(client: BenchClient, id: string, status: string): Promise<void> {
  await waitUntil(
    `the migration of ${id} to reach ${status}`,
    async () => {
      const { body } = await client.request<{
        migrations: { status: string; error_message: string | null }[];
      }>('GET', `/v3/servers/${id}/migrations`);
      const latest = body.migrations[0];
      if (latest?.status === 'error') throw new Error(`migration of ${id} failed: ${latest.error_message}`);
      return latest?.status;
    },
    { until: (latest) => latest === status, timeoutMs: 60_000, intervalMs: POLL_MS },
  );
}

async function act(client: BenchClient, id: string, body: unknown): Promise<void> {
  const response = await client.request('POST', `/v3/servers/${id}/action`, body);
  if (response.status >= 300) throw new Error(`${JSON.stringify(body)}: ${response.status}`);
}

async function timed(samples: number[], work: () => Promise<void>): Promise<void> {
  const started = performance.now();
  await work();
  samples.push(performance.now() - started);
}

function figures(kind: string, samples: number[], detail: string): Figure[] {
  return [50, 95].map((p) => ({
    name: `migration: ${kind} p${p}`,
    value: round(percentile(samples, p)),
    unit: 'ms',
    detail,
  }));
}

async function forceDown(client: BenchClient, host: string, forced: boolean): Promise<void> {
  await client.request('PUT', '/v3/os-services/force-down', {
    service: { host, binary: 'nova-compute', forced_down: forced },
  });
}

/** Each kind `rounds` times on one server, back and forth between the two hosts of az-1. */
export async function migrationBench(client: BenchClient, rounds: number): Promise<Figure[]> {
  const id = await client.createServer('bench-migrate', ZONE);
  await client.waitActive(id);
  const cold: number[] = [];
  const confirm: number[] = [];
  const revert: number[] = [];
  const live: number[] = [];
  const evacuate: number[] = [];
  for (let i = 0; i < rounds; i++) {
    await timed(cold, async () => {
      await act(client, id, { migrate: null });
      await waitStatus(client, id, 'VERIFY_RESIZE');
    });
    await timed(confirm, async () => {
      await act(client, id, { confirm_resize: null });
      await waitMigration(client, id, 'confirmed');
    });
    // Reverted every round, so the server is back on m1.tiny for the next resize.
    await act(client, id, { resize: { flavor_ref: '2' } });
    await waitStatus(client, id, 'VERIFY_RESIZE');
    await timed(revert, async () => {
      await act(client, id, { revert_resize: null });
      await waitMigration(client, id, 'reverted');
    });
    const source = (await serverState(client, id))['os-extended-server-attributes:host'] ?? '';
    const dest = HOSTS.find((host) => host !== source) ?? '';
    await timed(live, async () => {
      await act(client, id, {
        migrate_live: { host: dest, block_migration: false, disk_over_commit: false },
      });
      await waitMigration(client, id, 'done');
    });
    await forceDown(client, dest, true);
    try {
      await timed(evacuate, async () => {
        await act(client, id, { evacuate: { on_shared_storage: false } });
        await waitMigration(client, id, 'done');
      });
    } finally {
      await forceDown(client, dest, false);
    }
  }
  // Gone before the next figures count the project's servers.
  await client.request('DELETE', `/v3/servers/${id}`);
  while ((await client.request('GET', `/v3/servers/${id}`)).status !== 404) {
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
  const detail = `${rounds} moves of one server between compute-1 and compute-2, fake driver with zero latency, polled every ${POLL_MS} ms`;
  return [
    ...figures('cold migrate → VERIFY_RESIZE', cold, detail),
    ...figures('confirm_resize → confirmed', confirm, detail),
    ...figures('revert_resize → reverted', revert, detail),
    ...figures('live migrate → done', live, detail),
    ...figures('evacuate (source forced down) → done', evacuate, detail),
  ];
}
