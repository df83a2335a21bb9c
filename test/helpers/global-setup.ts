import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { ensureDebianPackage } from '../../infra/local/debian-packages.ts';
import { type LocalStack, startLocalStack } from '../../infra/local/stack.ts';

export interface StackInfo {
  apiUrl: string;
  admin: LocalStack['admin'];
  database: LocalStack['database'];
  sqsEndpoint: string;
  sfnEndpoint: string;
  env: Record<string, string>;
  dataDir: string;
}

declare module 'vitest' {
  export interface ProvidedContext {
    stack: StackInfo;
  }
}

const DATA_DIR = join(new URL('../../', import.meta.url).pathname, '.local', `test-${process.pid}`);

let stack: LocalStack | undefined;

// Its own data dir and free ports: a running `npm start` is never touched.
export async function setup(project: TestProject): Promise<void> {
  // The client tests drive Debian's own `openstack` CLI against this cloud, as operators do. Installed
  // before the stack starts, which may itself run apt-get for MariaDB (apt takes one install at a time).
  await ensureDebianPackage(
    'python3-openstackclient',
    ['openstack'],
    (reason) =>
      new Error(
        `The openstack CLI was not found and ${reason}: install python3-openstackclient (Debian/Ubuntu: \`sudo apt-get install -y python3-openstackclient\`) and run again.`,
      ),
  );
  stack = await startLocalStack({
    dataDir: DATA_DIR,
    fresh: true,
    apiPort: 0,
    reportIntervalSeconds: 2,
    serviceDownTimeSeconds: 20,
    // Short enough that a crashed agent's command is redelivered to its restarted agent within a test.
    config: {
      COMMAND_VISIBILITY_TIMEOUT_SECONDS: '5',
      // A resize nobody confirms is confirmed after 20 s: every test that decides a resize itself does
      // so within a second or two of VERIFY_RESIZE, even among the fault matrix's 33 concurrent moves,
      // and the one that waits for the window waits no longer than it must.
      RESIZE_CONFIRM_WINDOW_SECONDS: '20',
    },
    // Moves notice a stuck or silent host within seconds (test agents heartbeat every second); the
    // heartbeat bound outlasts the 5 s visibility, so a crashed agent's command reaches it again once restarted.
    moveTiming: { commandTimeoutSeconds: 40, sourceTimeoutSeconds: 50, heartbeatSeconds: 30 },
    log: (line) => {
      if (process.env.STACK_LOG) console.log(line);
    },
  });
  project.provide('stack', {
    apiUrl: stack.apiUrl,
    admin: stack.admin,
    database: stack.database,
    sqsEndpoint: stack.sqsEndpoint,
    sfnEndpoint: stack.sfnEndpoint,
    env: stack.env,
    dataDir: DATA_DIR,
  });
}

export async function teardown(): Promise<void> {
  await stack?.stop();
  await rm(DATA_DIR, { recursive: true, force: true });
}
