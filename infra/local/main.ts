import { rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { type LocalStack, startLocalStack } from './stack.ts';

// `npm start`: the local cloud on 127.0.0.1:8774 (LOCAL_API_PORT), state kept in .local
// (LOCAL_DATA_DIR) across restarts unless `npm start -- --fresh`.
const DEFAULT_DATA_DIR = join(new URL('../../', import.meta.url).pathname, '.local');

function cloudsYaml(stack: LocalStack): string {
  return [
    'clouds:',
    '  local:',
    '    auth:',
    `      auth_url: ${stack.apiUrl}/identity/v3`,
    `      username: ${stack.admin.username}`,
    `      password: ${stack.admin.password}`,
    `      project_name: ${stack.admin.project}`,
    '      user_domain_name: Default',
    '      project_domain_name: Default',
    '    region_name: RegionOne',
    '    identity_api_version: 3',
    '',
  ].join('\n');
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { fresh: { type: 'boolean', default: false } } });
  const started = performance.now();
  const apiPort = Number(process.env.LOCAL_API_PORT ?? 8774);
  const dataDir = resolve(process.env.LOCAL_DATA_DIR ?? DEFAULT_DATA_DIR);
  const stack = await startLocalStack({
    dataDir,
    fresh: values.fresh,
    apiPort,
    adminPassword: process.env.ADMIN_PASSWORD,
    log: (line) => console.log(line),
  });
  const cloudsPath = join(dataDir, 'clouds.yaml');
  await writeFile(cloudsPath, cloudsYaml(stack), { mode: 0o600 });
  // Where the database tools (npm run db:migrate, db:status, db:archive) find this running cloud.
  const stackFile = join(dataDir, 'stack.json');
  await writeFile(
    stackFile,
    `${JSON.stringify(
      {
        apiUrl: stack.apiUrl,
        databaseUrl: stack.database.primaryUrl,
        databaseReplicaUrl: stack.database.replicaUrl,
        primary: { host: '127.0.0.1', port: stack.database.primaryPort, database: 'nova', user: 'root' },
        replica: { host: '127.0.0.1', port: stack.database.replicaPort, database: 'nova', user: 'root' },
      },
      null,
      2,
    )}\n`,
    { mode: 0o600 },
  );
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  console.log(
    [
      '',
      `Local cloud ready in ${seconds} s.`,
      `  Compute:           ${stack.apiUrl}/v2.1 (microversions; what the openstack CLI uses), ${stack.apiUrl}/v3 (Havana's v3)`,
      `  Identity:          ${stack.apiUrl}/identity/v3  (user ${stack.admin.username}, password ${stack.admin.password}, project ${stack.admin.project})`,
      `  Images:            ${stack.apiUrl}/image`,
      `  clouds.yaml:       ${cloudsPath}  (cloud "local")`,
      `  Database bridges:  primary ${new URL(stack.database.primaryUrl).host}, replica ${new URL(stack.database.replicaUrl).host}`,
      `  SQS: ${stack.sqsEndpoint}   Step Functions: ${stack.sfnEndpoint}`,
      '',
      'Try (python3-openstackclient):',
      `  export OS_CLIENT_CONFIG_FILE=${cloudsPath} OS_CLOUD=local`,
      '  openstack server create --image cirros-0.3.1-x86_64 --flavor m1.tiny --wait vm1',
      '',
      'or with curl:',
      `  TOKEN=$(curl -si -X POST ${stack.apiUrl}/identity/v3/auth/tokens -H 'content-type: application/json' \\`,
      `    -d '{"auth":{"identity":{"methods":["password"],"password":{"user":{"name":"${stack.admin.username}","password":"${stack.admin.password}"}}}}}' \\`,
      "    | awk 'tolower($1)==\"x-subject-token:\" {print $2}' | tr -d '\\r')",
      `  curl -s ${stack.apiUrl}/v3/flavors -H "X-Auth-Token: $TOKEN"`,
      '',
      'Ctrl-C stops everything.',
    ].join('\n'),
  );

  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`\n${signal}: stopping the local cloud...`);
    await stack.stop();
    await rm(stackFile, { force: true });
    console.log('stopped.');
    process.exit(0);
  };
  // Miniflare installs handlers that exit at once on these signals, which would orphan the agents
  // and cut the databases off mid-write; the stack stops everything in order instead.
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.removeAllListeners(signal);
    process.on(signal, () => void shutdown(signal));
  }
}

main().catch((error: Error) => {
  console.error(`npm start failed: ${error.message}`);
  process.exit(1);
});
