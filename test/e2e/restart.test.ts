import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort } from '../../infra/local/free-port.ts';
import { IMAGE, stackInfo } from '../helpers/api.ts';
import { eventually } from '../helpers/wait.ts';

// `npm start` itself, twice on one data dir: what it printed is what a user would use.
const MAIN = new URL('../../infra/local/main.ts', import.meta.url).pathname;

interface Started {
  child: ChildProcess;
  output: string[];
}

async function startCloud(dataDir: string, port: number, fresh: boolean): Promise<Started> {
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN, ...(fresh ? ['--fresh'] : [])], {
    env: {
      ...process.env,
      LOCAL_DATA_DIR: dataDir,
      LOCAL_API_PORT: String(port),
      ADMIN_PASSWORD: 'restart-test-password',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output: string[] = [];
  const ready = new Promise<void>((resolve, reject) => {
    child.stdout?.on('data', (chunk: Buffer) => {
      output.push(chunk.toString());
      if (output.join('').includes('Local cloud ready')) resolve();
    });
    child.stderr?.on('data', (chunk: Buffer) => output.push(chunk.toString()));
    child.once('exit', (code) => reject(new Error(`npm start exited ${code}: ${output.join('')}`)));
  });
  await ready;
  return { child, output };
}

async function stopCloud({ child }: Started): Promise<number | null> {
  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  const [code] = await exited;
  return code as number | null;
}

interface ServerBody {
  server?: { id: string; name: string; status: string };
}

/** Processes whose command line or environment names `dir`: the databases and agents of that cloud. */
async function processesUsing(dir: string): Promise<number[]> {
  const pids: number[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    const texts = await Promise.all(
      ['cmdline', 'environ'].map((file) => readFile(`/proc/${entry}/${file}`, 'utf8').catch(() => '')),
    );
    if (texts.some((text) => text.includes(dir))) pids.push(Number(entry));
  }
  return pids;
}

async function api(port: number, method: string, path: string, token?: string, body?: unknown) {
  const response = await fetch(`http://127.0.0.1:${port}${path}`, {
    method,
    headers: { 'content-type': 'application/json', ...(token ? { 'x-auth-token': token } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return {
    status: response.status,
    headers: response.headers,
    body: (await response.json().catch(() => ({}))) as ServerBody,
  };
}

async function token(port: number) {
  const response = await api(port, 'POST', '/identity/v3/auth/tokens', undefined, {
    auth: {
      identity: {
        methods: ['password'],
        password: { user: { name: 'admin', password: 'restart-test-password' } },
      },
    },
  });
  return response.headers.get('x-subject-token') ?? '';
}

describe('npm start', () => {
  const dataDir = join(stackInfo().dataDir, 'restart-cloud');
  afterAll(async () => {
    await rm(dataDir, { recursive: true, force: true });
  });

  it('keeps servers across a restart, and stops every process it started on SIGTERM', async () => {
    const port = await freePort();
    const first = await startCloud(dataDir, port, true);
    expect(first.output.join('')).toContain(`http://127.0.0.1:${port}/v3`);
    const adminToken = await token(port);
    const created = await api(port, 'POST', '/v3/servers', adminToken, {
      server: { name: 'survivor', image_ref: IMAGE, flavor_ref: '1', availability_zone: 'az-1' },
    });
    expect(created.status).toBe(202);
    const id = created.body.server?.id ?? '';
    await eventually(
      async () =>
        expect((await api(port, 'GET', `/v3/servers/${id}`, adminToken)).body.server?.status).toBe('ACTIVE'),
      { timeoutMs: 20_000, intervalMs: 100 },
    );
    expect((await processesUsing(dataDir)).length).toBeGreaterThanOrEqual(5);
    expect(await stopCloud(first)).toBe(0);
    await expect(fetch(`http://127.0.0.1:${port}/`)).rejects.toThrow();
    expect(await processesUsing(dataDir)).toEqual([]);

    const second = await startCloud(dataDir, port, false);
    try {
      // The token from before the restart still verifies: the signing secret is kept.
      const server = await api(port, 'GET', `/v3/servers/${id}`, adminToken);
      expect(server.status).toBe(200);
      expect(server.body.server).toMatchObject({ id, name: 'survivor', status: 'ACTIVE' });
    } finally {
      expect(await stopCloud(second)).toBe(0);
    }
    expect(await processesUsing(dataDir)).toEqual([]);
  }, 120_000);
});
