import type { BenchClient } from './client.ts';
import { type Figure, percentile, round } from './stats.ts';

const ZONES = ['az-1', 'az-2'];

/** POST /v3/servers → ACTIVE, one boot at a time, so each sample is the latency of one request. */
export async function bootLatency(client: BenchClient, boots: number): Promise<Figure[]> {
  const samples: number[] = [];
  for (let i = 0; i < boots; i++) {
    const started = performance.now();
    const id = await client.createServer(`bench-boot-${i}`, ZONES[i % ZONES.length] ?? 'az-1');
    await client.waitActive(id);
    samples.push(performance.now() - started);
  }
  const detail = `${boots} sequential boots, fake driver with zero latency, status polled every 5 ms`;
  return [
    {
      name: 'boot: POST /v3/servers → ACTIVE p50',
      value: round(percentile(samples, 50)),
      unit: 'ms',
      detail,
    },
    {
      name: 'boot: POST /v3/servers → ACTIVE p95',
      value: round(percentile(samples, 95)),
      unit: 'ms',
      detail,
    },
  ];
}

/** GET /v3/servers/detail with `servers` servers in the project. */
export async function listDetailLatency(
  client: BenchClient,
  servers: number,
  requests: number,
): Promise<Figure[]> {
  const existing = await client.request<{ servers: unknown[] }>('GET', '/v3/servers');
  for (let created = existing.body.servers.length; created < servers; created += 10) {
    const batch = Math.min(10, servers - created);
    const ids = await Promise.all(
      Array.from({ length: batch }, (_, i) =>
        client.createServer(`bench-list-${created + i}`, ZONES[i % 2] ?? 'az-1'),
      ),
    );
    await Promise.all(ids.map((id) => client.waitActive(id, 20)));
  }
  const samples: number[] = [];
  for (let i = 0; i < requests; i++) {
    const started = performance.now();
    const response = await client.request<{ servers: unknown[] }>('GET', '/v3/servers/detail');
    samples.push(performance.now() - started);
    if (response.body.servers.length < servers) throw new Error('detail listing returned too few servers');
  }
  const detail = `${requests} sequential requests, ${servers} ACTIVE servers, replica reads through the bridge`;
  return [
    {
      name: `GET /v3/servers/detail (${servers} servers) p50`,
      value: round(percentile(samples, 50)),
      unit: 'ms',
      detail,
    },
    {
      name: `GET /v3/servers/detail (${servers} servers) p95`,
      value: round(percentile(samples, 95)),
      unit: 'ms',
      detail,
    },
  ];
}
