import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { stackInfo } from './api.ts';

// Runs Debian's unmodified `openstack` CLI against the test cloud: a clouds.yaml of the test's own, and
// an environment without proxies or OS_* variables, so only that file decides where the CLI goes. The
// stack's global setup installs the CLI when it is missing (test/helpers/global-setup.ts).
const run = promisify(execFile);

export interface CloudCredentials {
  authUrl: string;
  username: string;
  password: string;
  projectName: string;
  regionName?: string;
}

export interface OpenstackCloud {
  cloudsPath: string;
  cloud: string;
}

/** Writes `dir/clouds.yaml` with one cloud, password authentication in the Default domain. */
export async function writeCloudsYaml(dir: string, credentials: CloudCredentials): Promise<OpenstackCloud> {
  const cloud = 'test';
  const cloudsPath = join(dir, 'clouds.yaml');
  // JSON is YAML, and quoting every value this way survives any character in a password.
  const document = {
    clouds: {
      [cloud]: {
        auth: {
          auth_url: credentials.authUrl,
          username: credentials.username,
          password: credentials.password,
          project_name: credentials.projectName,
          user_domain_name: 'Default',
          project_domain_name: 'Default',
        },
        region_name: credentials.regionName ?? 'RegionOne',
        identity_api_version: 3,
      },
    },
  };
  await writeFile(cloudsPath, JSON.stringify(document, null, 2), { mode: 0o600 });
  return { cloudsPath, cloud };
}

/** The stack admin's cloud: a clouds.yaml in `dir` (writeCloudsYaml) for the admin in its own project. */
export function adminCloud(dir: string): Promise<OpenstackCloud> {
  const { apiUrl, admin } = stackInfo();
  return writeCloudsYaml(dir, {
    authUrl: `${apiUrl}/identity/v3`,
    username: admin.username,
    password: admin.password,
    projectName: admin.project,
  });
}

function cliEnvironment(cloud: OpenstackCloud): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (/proxy$/i.test(key) || key.startsWith('OS_')) continue;
    env[key] = value;
  }
  return { ...env, OS_CLIENT_CONFIG_FILE: cloud.cloudsPath, OS_CLOUD: cloud.cloud };
}

/** Runs `openstack <args>`; a non-zero exit rejects with the CLI's stderr in the message. */
export async function openstack(cloud: OpenstackCloud, args: string[]): Promise<string> {
  try {
    const { stdout } = await run('openstack', args, { env: cliEnvironment(cloud), timeout: 60_000 });
    return stdout;
  } catch (error) {
    const { stderr } = error as { stderr?: string };
    throw new Error(`openstack ${args.join(' ')} failed: ${stderr ?? String(error)}`);
  }
}

/** Runs `openstack <args> -f json` and parses what it prints. */
export async function openstackJson<T>(cloud: OpenstackCloud, args: string[]): Promise<T> {
  return JSON.parse(await openstack(cloud, [...args, '-f', 'json'])) as T;
}
