import { eq } from 'drizzle-orm';
import { createApp } from '../../functions/api/app.ts';
import { connectDatabase } from '../../schema/db.ts';
import { instances, projects } from '../../schema/tables/index.ts';
import { newInstanceRow } from '../helpers/instance-rows.ts';
import type { BenchClient } from './client.ts';
import { type Figure, percentile, round } from './stats.ts';

interface DataLayerContext {
  client: BenchClient;
  token: string;
  env: Record<string, string>;
  primaryUrl: string;
  replicaUrl: string;
  adminProject: string;
}

async function timed(samples: number[], work: () => Promise<unknown>): Promise<void> {
  const started = performance.now();
  await work();
  samples.push(performance.now() - started);
}

/** Queries and latency of a 1000-server detail page, and replica vs primary point reads. */
export async function dataLayerBench(ctx: DataLayerContext, pageSize = 1000): Promise<Figure[]> {
  const primary = connectDatabase(ctx.primaryUrl);
  const replica = connectDatabase(ctx.replicaUrl);
  const [project] = await primary.select().from(projects).where(eq(projects.name, ctx.adminProject));
  if (!project) throw new Error('admin project missing');
  const now = Date.now();
  // The same rows as before the shared fixture, user and reservation included: the page measured must not change.
  const rows = Array.from({ length: pageSize }, (_, i) =>
    newInstanceRow({
      project_id: project.id,
      user_id: 'bench',
      display_name: `bench-detail-${i}`,
      reservation_id: 'r-bench',
      created_at: new Date(now + i),
    }),
  );
  for (let i = 0; i < rows.length; i += 250) await primary.insert(instances).values(rows.slice(i, i + 250));

  // Round trips are counted on the in-process app (the same code the worker runs): one fetch per query.
  const databaseHosts = [ctx.primaryUrl, ctx.replicaUrl].map((url) => new URL(url).host);
  const originalFetch = globalThis.fetch;
  let queries = 0;
  globalThis.fetch = (input, init) => {
    if (databaseHosts.includes(new URL(input instanceof Request ? input.url : String(input)).host)) queries++;
    return originalFetch(input, init);
  };
  try {
    const response = await createApp().request(
      `/v3/servers/detail?limit=${pageSize}`,
      { headers: { 'x-auth-token': ctx.token } },
      ctx.env,
    );
    await response.arrayBuffer();
  } finally {
    globalThis.fetch = originalFetch;
  }

  const detail: number[] = [];
  for (let i = 0; i < 20; i++)
    await timed(detail, () => ctx.client.request('GET', `/v3/servers/detail?limit=${pageSize}`));

  const uuids = rows.map((row) => row.uuid);
  const replicaReads: number[] = [];
  const primaryReads: number[] = [];
  for (let i = 0; i < 200; i++) {
    const uuid = uuids[i % uuids.length] ?? '';
    await timed(replicaReads, () => replica.select().from(instances).where(eq(instances.uuid, uuid)));
    await timed(primaryReads, () => primary.select().from(instances).where(eq(instances.uuid, uuid)));
  }
  return [
    {
      name: `GET /v3/servers/detail (page of ${pageSize}): queries`,
      value: queries,
      unit: 'q',
      detail: 'database round trips of one request, counted on the in-process app',
    },
    {
      name: `GET /v3/servers/detail (page of ${pageSize}) p50`,
      value: round(percentile(detail, 50)),
      unit: 'ms',
      detail: '20 sequential requests through the workerd API',
    },
    {
      name: 'point read by uuid, replica p50',
      value: round(percentile(replicaReads, 50), 2),
      unit: 'ms',
      detail: '200 reads through the replica bridge (PlanetScale driver + Drizzle)',
    },
    {
      name: 'point read by uuid, primary p50',
      value: round(percentile(primaryReads, 50), 2),
      unit: 'ms',
      detail: '200 reads through the primary bridge, interleaved with the replica reads',
    },
  ];
}
