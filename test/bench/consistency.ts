import { createConnection } from 'mysql2/promise';
import { createApp } from '../../functions/api/app.ts';
import { ApiEnv, parseConfig } from '../../functions/shared/config.ts';
import { type Figure, latencyFigure } from './stats.ts';

interface ConsistencyContext {
  token: string;
  env: Record<string, string>;
  primaryUrl: string;
  replicaUrl: string;
  replicaPort: number;
}

/**
 * What read-your-writes without a token costs (functions/api/middleware/consistency.ts): a key pair
 * import and a key pair read, through the app in this process (the code the worker runs) with the
 * stack's REPLICA_WAIT_MS and with 0 (off, the behaviour before), interleaved so both see the same
 * load; their database round trips; and a read while the replica is stopped and fenced.
 */
export async function consistencyBench(ctx: ConsistencyContext, pairs = 200): Promise<Figure[]> {
  const app = createApp();
  const waitMs = parseConfig(ApiEnv, ctx.env).REPLICA_WAIT_MS;
  const modes = { on: ctx.env, off: { ...ctx.env, REPLICA_WAIT_MS: '0' } };
  const databaseHosts = new Map([
    [new URL(ctx.primaryUrl).host, 'primary'],
    [new URL(ctx.replicaUrl).host, 'replica'],
  ]);
  const originalFetch = globalThis.fetch;
  const trips = { primary: 0, replica: 0 };
  globalThis.fetch = (input, init) => {
    const target = databaseHosts.get(new URL(input instanceof Request ? input.url : String(input)).host);
    if (target === 'primary' || target === 'replica') trips[target]++;
    return originalFetch(input, init);
  };

  const send = async (env: Record<string, string>, method: string, path: string, body?: unknown) => {
    const response = await app.request(
      path,
      {
        method,
        headers: { 'x-auth-token': ctx.token, 'content-type': 'application/json' },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      },
      env,
    );
    const text = await response.text();
    return {
      status: response.status,
      body: (text ? JSON.parse(text) : {}) as { keypair?: { public_key: string } },
    };
  };
  const timed = async (samples: number[], work: () => Promise<{ status: number }>, expected: number) => {
    const started = performance.now();
    const { status } = await work();
    samples.push(performance.now() - started);
    if (status !== expected) throw new Error(`consistency bench: expected ${expected}, got ${status}`);
  };
  /** Round trips of one request, as `primary+replica`. */
  const counted = async (work: () => Promise<unknown>) => {
    trips.primary = 0;
    trips.replica = 0;
    await work();
    return `${trips.primary}+${trips.replica}`;
  };

  const samples = {
    writeOn: [] as number[],
    writeOff: [] as number[],
    readOn: [] as number[],
    readOff: [] as number[],
    stoppedWrite: [] as number[],
    fencedRead: [] as number[],
  };
  const roundTrips: Record<string, string> = {};
  const replica = await createConnection({ host: '127.0.0.1', port: ctx.replicaPort, user: 'root' });
  try {
    const template = await send(modes.on, 'POST', '/v3/keypairs', {
      keypair: { name: 'bench-ryw-template' },
    });
    const publicKey = template.body.keypair?.public_key ?? '';
    const importKey = (mode: keyof typeof modes, name: string) => () =>
      send(modes[mode], 'POST', '/v3/keypairs', { keypair: { name, public_key: publicKey } });
    const readKey = (mode: keyof typeof modes, name: string) => () =>
      send(modes[mode], 'GET', `/v3/keypairs/${name}`);

    for (let i = 0; i < pairs; i++) {
      await timed(samples.writeOn, importKey('on', `bench-ryw-on-${i}`), 201);
      await timed(samples.writeOff, importKey('off', `bench-ryw-off-${i}`), 201);
      await timed(samples.readOn, readKey('on', `bench-ryw-on-${i}`), 200);
      await timed(samples.readOff, readKey('off', `bench-ryw-on-${i}`), 200);
    }
    roundTrips.writeOn = await counted(importKey('on', 'bench-ryw-count-on'));
    roundTrips.writeOff = await counted(importKey('off', 'bench-ryw-count-off'));
    roundTrips.readOn = await counted(readKey('on', 'bench-ryw-count-on'));
    roundTrips.readOff = await counted(readKey('off', 'bench-ryw-count-on'));

    await replica.query('STOP SLAVE SQL_THREAD');
    try {
      await timed(samples.stoppedWrite, importKey('on', 'bench-ryw-stopped'), 201);
      roundTrips.fencedRead = await counted(readKey('on', 'bench-ryw-stopped'));
      for (let i = 0; i < 50; i++) await timed(samples.fencedRead, readKey('on', 'bench-ryw-stopped'), 200);
    } finally {
      await replica.query('START SLAVE SQL_THREAD');
    }
  } finally {
    globalThis.fetch = originalFetch;
    await replica.end();
  }
  const detail = `${pairs} import+read pairs per setting, interleaved, through the app in this process`;
  return [
    latencyFigure(`key pair import (a write), REPLICA_WAIT_MS=${waitMs} p50`, samples.writeOn, 50, detail),
    latencyFigure('key pair import, REPLICA_WAIT_MS=0 (no wait) p50', samples.writeOff, 50, detail),
    latencyFigure(`key pair read by name, REPLICA_WAIT_MS=${waitMs} p50`, samples.readOn, 50, detail),
    latencyFigure(
      'key pair read by name, REPLICA_WAIT_MS=0 (no fence lookup) p50',
      samples.readOff,
      50,
      detail,
    ),
    {
      name: 'database round trips (primary+replica): import with / without wait',
      value: tripTotal(roundTrips.writeOn) - tripTotal(roundTrips.writeOff),
      unit: 'q',
      detail: `added by the wait: ${roundTrips.writeOn} against ${roundTrips.writeOff}`,
    },
    {
      name: 'database round trips (primary+replica): read with / without fence lookup',
      value: tripTotal(roundTrips.readOn) - tripTotal(roundTrips.readOff),
      unit: 'q',
      detail: `added by the fence lookup: ${roundTrips.readOn} against ${roundTrips.readOff}`,
    },
    latencyFigure(
      'key pair import while the replica is stopped',
      samples.stoppedWrite,
      50,
      `one import: waits REPLICA_WAIT_MS=${waitMs}, then fences the replica`,
    ),
    latencyFigure(
      'key pair read while the replica is fenced p50',
      samples.fencedRead,
      50,
      `50 reads: fence lookup, fence check on the replica, then the primary (${roundTrips.fencedRead} round trips)`,
    ),
  ];
}

function tripTotal(trips = '0+0'): number {
  return trips.split('+').reduce((sum, part) => sum + Number(part), 0);
}
