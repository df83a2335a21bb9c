import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { build } from 'esbuild';
import { Miniflare } from 'miniflare';

const WORKER_ENTRY = new URL('../../functions/api/worker.ts', import.meta.url).pathname;

// The same compatibility settings as production (infra/api.ts): the PlanetScale driver needs a
// date of 2024-11-11 or later for fetch's `cache` option.
export const WORKER_COMPATIBILITY_DATE = '2025-09-01';
export const WORKER_COMPATIBILITY_FLAGS = ['nodejs_compat'];

/** Bundles the API worker as Workers does: browser/workerd conditions, one ESM file. */
export async function bundleApiWorker(outfile: string): Promise<void> {
  await mkdir(dirname(outfile), { recursive: true });
  await build({
    entryPoints: [WORKER_ENTRY],
    outfile,
    bundle: true,
    format: 'esm',
    platform: 'browser',
    conditions: ['workerd', 'worker', 'browser'],
    target: 'es2022',
    minify: true,
    sourcemap: 'inline',
    logLevel: 'warning',
  });
}

export interface ApiWorker {
  url: string;
  stop(): Promise<void>;
}

/** Runs the bundled worker in workerd (Miniflare) on 127.0.0.1:`port` with `bindings` as its env. */
export async function startApiWorker(options: {
  scriptPath: string;
  port: number;
  bindings: Record<string, string>;
}): Promise<ApiWorker> {
  const miniflare = new Miniflare({
    modules: true,
    scriptPath: options.scriptPath,
    // Module names are paths below this root: the default (the working directory) makes a bundle in a
    // data dir outside the checkout (LOCAL_DATA_DIR=/tmp/...) a `../` path, which workerd refuses.
    modulesRoot: dirname(options.scriptPath),
    compatibilityDate: WORKER_COMPATIBILITY_DATE,
    compatibilityFlags: WORKER_COMPATIBILITY_FLAGS,
    bindings: options.bindings,
    host: '127.0.0.1',
    port: options.port,
  });
  try {
    const url = await miniflare.ready;
    return { url: url.origin, stop: () => miniflare.dispose() };
  } catch (error) {
    // A failed start would otherwise leave workerd running and the process hanging.
    await miniflare.dispose().catch(() => undefined);
    throw error;
  }
}
