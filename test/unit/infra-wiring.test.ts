import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseAgentConfig } from '../../agent/config.ts';
import { ApiEnv, ControlPlaneEnv, parseConfig } from '../../functions/shared/config.ts';
import {
  AGENT_ENV,
  AGENT_ENV_KEYS,
  API_AWS_ACTIONS,
  API_ENV,
  API_ENV_KEYS,
  COMPUTE_QUEUE_TASK_INTEGRATIONS,
  CONDUCTOR_ENV,
  CONDUCTOR_ENV_KEYS,
  DEPLOYED_WORKFLOWS,
  renderEnvironment,
} from '../../infra/manifest.ts';
import { WORKFLOW_NAMES, WORKFLOWS } from '../../workflows/index.ts';

// The manifest is what infra/*.ts deploys from; these tests hold it to the code that runs, so a
// workflow, config variable or AWS call added there cannot be forgotten in production.

const CONDUCTOR_ARN = 'arn:aws:lambda:us-east-1:123456789012:function:nova-wiring-test-conductor';
const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

interface TaskUse {
  state: string;
  resource: string;
  functionName: unknown;
}

type LooseStates = Record<string, Record<string, unknown>>;

/** Every Task state of a definition, including those inside Parallel branches and Map processors. */
function taskStates(states: LooseStates): TaskUse[] {
  return Object.entries(states).flatMap(([name, state]): TaskUse[] => {
    if (state.Type === 'Task') {
      const parameters = (state.Parameters ?? {}) as Record<string, unknown>;
      return [{ state: name, resource: String(state.Resource), functionName: parameters.FunctionName }];
    }
    const branches = (state.Branches ?? []) as { States: LooseStates }[];
    const processor = (state.ItemProcessor ?? state.Iterator) as { States: LooseStates } | undefined;
    return [...branches, ...(processor ? [processor] : [])].flatMap((branch) => taskStates(branch.States));
  });
}

function renderedTasks(workflow: (typeof WORKFLOW_NAMES)[number]): TaskUse[] {
  const definition = JSON.parse(JSON.stringify(WORKFLOWS[workflow]({ conductorFunctionArn: CONDUCTOR_ARN })));
  return taskStates(definition.States);
}

/** `FooCommand`s a source tree imports from the SQS and Step Functions clients, as IAM actions. */
function awsActionsCalledIn(directories: string[]): string[] {
  const servicePrefix: Record<string, string> = { sqs: 'sqs', sfn: 'states' };
  const actions = new Set<string>();
  for (const directory of directories) {
    const absolute = join(REPO_ROOT, directory);
    const files = readdirSync(absolute, { recursive: true, encoding: 'utf8' }).filter((file) =>
      file.endsWith('.ts'),
    );
    for (const file of files) {
      const source = readFileSync(join(absolute, file), 'utf8');
      for (const match of source.matchAll(
        /import\s*(?:type\s*)?\{([^}]*)\}\s*from\s*'@aws-sdk\/client-(sqs|sfn)'/g,
      )) {
        const [, names = '', service = ''] = match;
        for (const name of names.split(',').map((part) => part.trim().replace(/^type\s+/, ''))) {
          if (name.endsWith('Command'))
            actions.add(`${servicePrefix[service]}:${name.slice(0, -'Command'.length)}`);
        }
      }
    }
  }
  return [...actions].sort();
}

describe('workflows deployed by infra', () => {
  it('deploys every workflow the API can start, and nothing else', () => {
    expect([...DEPLOYED_WORKFLOWS].sort()).toEqual([...WORKFLOW_NAMES].sort());
  });

  it.each(WORKFLOW_NAMES)('%s invokes no Lambda function but the conductor', (workflow) => {
    const tasks = renderedTasks(workflow);
    expect(tasks.some((task) => task.resource === CONDUCTOR_ARN)).toBe(true);
    const otherLambdas = tasks.filter(
      (task) =>
        (task.resource.startsWith('arn:aws:lambda:') && task.resource !== CONDUCTOR_ARN) ||
        (task.resource.startsWith('arn:aws:states:::lambda:invoke') && task.functionName !== CONDUCTOR_ARN),
    );
    expect(otherLambdas).toEqual([]);
  });

  it.each(WORKFLOW_NAMES)('%s uses only task integrations the state machine role is granted', (workflow) => {
    const granted = new Set<string>([CONDUCTOR_ARN, ...Object.keys(COMPUTE_QUEUE_TASK_INTEGRATIONS)]);
    const ungranted = renderedTasks(workflow).filter((task) => !granted.has(task.resource));
    expect(ungranted).toEqual([]);
  });
});

describe('environment handed to each component', () => {
  it('gives the API every variable it reads, and none it does not', () => {
    expect([...API_ENV_KEYS].sort()).toEqual(Object.keys(ApiEnv.entries).sort());
  });

  it('gives the conductor every variable it reads, and none it does not', () => {
    expect([...CONDUCTOR_ENV_KEYS].sort()).toEqual(Object.keys(ControlPlaneEnv.entries).sort());
  });

  const databaseSecrets = {
    DatabaseUrl: 'https://user:password@aws.connect.psdb.cloud',
    DatabaseReplicaUrls: 'https://user:password@aws-replica.connect.psdb.cloud',
  };
  const deployed = {
    STATE_MACHINE_ARNS: JSON.stringify(
      Object.fromEntries(
        DEPLOYED_WORKFLOWS.map((name) => [
          name,
          `arn:aws:states:us-east-1:123456789012:stateMachine:${name}`,
        ]),
      ),
    ),
    COMPUTE_QUEUE_PREFIX: 'nova-ci-',
  };

  it('renders an API environment the API accepts, with credentials bound as secrets', () => {
    const { plain, sensitive } = renderEnvironment(API_ENV, {
      secrets: { ...databaseSecrets, TokenSecret: 'a-token-signing-key-of-32-characters!' },
      deployment: {
        ...deployed,
        AWS_REGION: 'us-east-1',
        AWS_ACCESS_KEY_ID: 'AKIAWIRINGTEST',
        AWS_SECRET_ACCESS_KEY: 'wiring-test-secret-access-key',
      },
    });
    const config = parseConfig(ApiEnv, { ...plain, ...sensitive });
    expect(config.STATE_MACHINE_ARNS).toEqual(JSON.parse(deployed.STATE_MACHINE_ARNS));
    expect(config.DATABASE_REPLICA_URLS).toEqual([databaseSecrets.DatabaseReplicaUrls]);
    expect(Object.keys(sensitive).sort()).toEqual(
      ['AWS_SECRET_ACCESS_KEY', 'DATABASE_REPLICA_URLS', 'DATABASE_URL', 'TOKEN_SECRET'].sort(),
    );
    // Production talks to the regional AWS endpoints; an endpoint override would point at a stand-in.
    expect(plain).not.toHaveProperty('SQS_ENDPOINT');
    expect(plain).not.toHaveProperty('SFN_ENDPOINT');
  });

  it('renders a conductor environment Lambda accepts and the conductor can parse', () => {
    const { plain, sensitive } = renderEnvironment(CONDUCTOR_ENV, {
      secrets: databaseSecrets,
      deployment: deployed,
    });
    const rendered = { ...plain, ...sensitive };
    // Lambda refuses to create a function that sets its reserved variables.
    const lambdaReserved = /^(AWS_|_HANDLER$|_X_AMZN_TRACE_ID$|LAMBDA_TASK_ROOT$|LAMBDA_RUNTIME_DIR$|TZ$)/;
    expect(Object.keys(rendered).filter((key) => lambdaReserved.test(key))).toEqual([]);
    const lambdaProvides = {
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'ASIAROLE',
      AWS_SECRET_ACCESS_KEY: 'role',
      AWS_SESSION_TOKEN: 'role-session',
    };
    const config = parseConfig(ControlPlaneEnv, { ...rendered, ...lambdaProvides });
    expect(config.AWS_SESSION_TOKEN).toBe('role-session');
    expect(config.COMPUTE_QUEUE_PREFIX).toBe('nova-ci-');
    expect(config.SERVICE_DOWN_TIME_SECONDS).toBe(Number(API_ENV.SERVICE_DOWN_TIME_SECONDS.value));
  });

  it('gives compute agents no AWS credential', () => {
    const awsCredential = /^(AWS_|AMAZON_)|ACCESS_KEY|SECRET_KEY|SESSION_TOKEN/;
    expect(AGENT_ENV_KEYS.filter((key) => awsCredential.test(key))).toEqual([]);
  });

  it('documents an agent environment the agent accepts', () => {
    const examples = Object.fromEntries(AGENT_ENV_KEYS.map((key) => [key, AGENT_ENV[key].example]));
    const config = parseAgentConfig(examples);
    expect(config.apiUrl).toBe(AGENT_ENV.AGENT_API_URL.example);
    expect(config.host).toBe(AGENT_ENV.AGENT_HOST.example);
  });
});

describe('AWS calls made by the code', () => {
  it('are all allowed by the API worker IAM policy', () => {
    const granted = new Set<string>(Object.values(API_AWS_ACTIONS).flat());
    const called = awsActionsCalledIn(['functions/api', 'functions/shared']);
    expect(called.filter((action) => !granted.has(action))).toEqual([]);
  });

  it('include none from the conductor, whose role grants no AWS action (infra/workflows.ts)', () => {
    const called = awsActionsCalledIn(['functions/conductor', 'functions/scheduler', 'functions/compute']);
    expect(called).toEqual([]);
  });
});
