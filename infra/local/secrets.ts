import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as v from 'valibot';
import { randomSecret } from '../../functions/shared/encoding.ts';

// Secrets of a local cloud live in its data dir, so tokens, the admin password and host credentials
// stay valid across restarts of `npm start` (until `--fresh`).
const LocalSecrets = v.object({
  tokenSecret: v.string(),
  adminPassword: v.string(),
  databasePassword: v.string(),
  hostCredentials: v.record(v.string(), v.string()),
});
export type LocalSecrets = v.InferOutput<typeof LocalSecrets>;

export async function loadOrCreateSecrets(dataDir: string, adminPassword?: string): Promise<LocalSecrets> {
  const file = join(dataDir, 'secrets.json');
  let secrets: LocalSecrets;
  try {
    secrets = v.parse(LocalSecrets, JSON.parse(await readFile(file, 'utf8')));
  } catch {
    secrets = {
      tokenSecret: randomSecret(48),
      adminPassword: randomSecret(12),
      databasePassword: randomSecret(24),
      hostCredentials: {},
    };
  }
  if (adminPassword) secrets.adminPassword = adminPassword;
  await saveSecrets(dataDir, secrets);
  return secrets;
}

export async function saveSecrets(dataDir: string, secrets: LocalSecrets): Promise<void> {
  await writeFile(join(dataDir, 'secrets.json'), `${JSON.stringify(secrets, null, 2)}\n`, { mode: 0o600 });
}
