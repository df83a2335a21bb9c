import { randomUUID } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import * as v from 'valibot';

// The agent's local state (driver instances, answered commands) must survive a crash mid-write:
// a reader sees either the old file or the new one, never a torn one.

/** Reads a JSON state file; a missing file is a fresh host, a corrupt one is an error worth stopping for. */
export async function readJsonState<TSchema extends v.GenericSchema>(
  path: string,
  schema: TSchema,
  whenMissing: v.InferOutput<TSchema>,
): Promise<v.InferOutput<TSchema>> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if (error instanceof Error && 'code' in error && error.code === 'ENOENT') return whenMissing;
    throw error;
  }
  const parsed = v.safeParse(schema, JSON.parse(text));
  if (!parsed.success) {
    throw new Error(`State file ${path} is not valid: ${v.summarize(parsed.issues)}`);
  }
  return parsed.output;
}

export async function writeJsonStateAtomically(path: string, value: unknown): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const temporaryPath = `${path}.${randomUUID()}.tmp`;
  await writeFile(temporaryPath, `${JSON.stringify(value, null, 2)}\n`, 'utf8');
  await rename(temporaryPath, path);
}
