import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as v from 'valibot';

// Where the operator tools (db:archive, network:mode) find the database: DATABASE_URL (a PlanetScale
// URL), or else the running local cloud's primary, from the stack file `npm start` writes.

const StackFile = v.object({ databaseUrl: v.pipe(v.string(), v.url()) });

export async function cliDatabaseUrl(): Promise<string> {
  const fromEnv = process.env.DATABASE_URL;
  if (fromEnv) return fromEnv;
  const dataDir = process.env.LOCAL_DATA_DIR ?? new URL('../.local/', import.meta.url).pathname;
  const stackFile = join(dataDir, 'stack.json');
  let text: string;
  try {
    text = await readFile(stackFile, 'utf8');
  } catch {
    throw new Error(
      `DATABASE_URL is not set and ${stackFile} does not exist: set DATABASE_URL to the database's PlanetScale URL, or start the local cloud with \`npm start\` first`,
    );
  }
  return v.parse(StackFile, JSON.parse(text)).databaseUrl;
}
