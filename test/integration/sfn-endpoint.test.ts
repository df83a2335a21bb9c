import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  CreateStateMachineCommand,
  DeleteStateMachineCommand,
  DescribeExecutionCommand,
  type DescribeExecutionCommandOutput,
  DescribeStateMachineCommand,
  GetExecutionHistoryCommand,
  ListExecutionsCommand,
  ListStateMachinesCommand,
  SendTaskFailureCommand,
  SendTaskHeartbeatCommand,
  SendTaskSuccessCommand,
  SFNClient,
  StartExecutionCommand,
  StopExecutionCommand,
  UpdateStateMachineCommand,
} from '@aws-sdk/client-sfn';
import {
  CreateQueueCommand,
  DeleteMessageCommand,
  ReceiveMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { type FauxqsServer, startFauxqs } from 'fauxqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type SfnEndpoint, startSfnEndpoint } from '../../infra/local/sfn-endpoint.ts';
import { waitUntil } from '../helpers/wait.ts';

const REGION = 'us-east-1';
const ACCOUNT = '000000000000';
const ROLE = `arn:aws:iam::${ACCOUNT}:role/local-sfn`;
const credentials = { accessKeyId: 'local', secretAccessKey: 'local' };
const functionArn = (name: string) => `arn:aws:lambda:${REGION}:${ACCOUNT}:function:${name}`;
const SEND_AND_WAIT = 'arn:aws:states:::sqs:sendMessage.waitForTaskToken';

class NoValidHost extends Error {
  override name = 'NoValidHost';
}

// The "Lambda functions" the endpoint runs in-process; every call is logged for the assertions.
const lambdaCalls: { functionArn: string; payload: unknown }[] = [];
const failedOnce = new Set<string>();
const lambdas: Record<string, (payload: unknown) => Promise<unknown>> = {
  [functionArn('echo')]: async (payload) => ({ echoed: payload }),
  [functionArn('no-valid-host')]: async () => {
    throw new NoValidHost('no host has 4 free vCPUs');
  },
  // Fails the first call for each distinct payload, then succeeds: what a Retry should paper over.
  [functionArn('flaky')]: async (payload) => {
    const key = JSON.stringify(payload);
    if (!failedOnce.has(key)) {
      failedOnce.add(key);
      throw new NoValidHost('the claim raced another request');
    }
    return { placed: true };
  },
};

let fauxqs: FauxqsServer;
let endpoint: SfnEndpoint;
let sqs: SQSClient;
let sfn: SFNClient;

beforeAll(async () => {
  fauxqs = await startFauxqs({ port: 0, logger: false });
  sqs = new SQSClient({ endpoint: fauxqs.address, region: REGION, credentials });
  endpoint = await startSfnEndpoint({
    port: 0,
    region: REGION,
    accountId: ACCOUNT,
    sqs,
    async invokeLambda(arn, payload) {
      lambdaCalls.push({ functionArn: arn, payload });
      const lambda = lambdas[arn];
      if (lambda === undefined) throw new Error(`no such function ${arn}`);
      return lambda(payload);
    },
  });
  sfn = new SFNClient({ endpoint: endpoint.url, region: REGION, credentials });
});

afterAll(async () => {
  await endpoint?.stop();
  sfn?.destroy();
  sqs?.destroy();
  await fauxqs?.stop();
});

async function createMachine(definition: object): Promise<string> {
  const created = await sfn.send(
    new CreateStateMachineCommand({
      name: `m-${randomUUID()}`,
      definition: JSON.stringify(definition),
      roleArn: ROLE,
    }),
  );
  return created.stateMachineArn ?? '';
}

async function start(stateMachineArn: string, input: object, name?: string): Promise<string> {
  const started = await sfn.send(
    new StartExecutionCommand({ stateMachineArn, input: JSON.stringify(input), name }),
  );
  return started.executionArn ?? '';
}

async function describe_(executionArn: string): Promise<DescribeExecutionCommandOutput> {
  return sfn.send(new DescribeExecutionCommand({ executionArn }));
}

/** Polls until the execution has ended and returns its final description. */
async function finished(executionArn: string): Promise<DescribeExecutionCommandOutput> {
  return waitUntil(`execution ${executionArn} to end`, () => describe_(executionArn), {
    until: (described) => described.status !== 'RUNNING',
    timeoutMs: 30_000,
    intervalMs: 25,
  });
}

async function historyTypes(executionArn: string): Promise<string[]> {
  const history = await sfn.send(new GetExecutionHistoryCommand({ executionArn, maxResults: 1000 }));
  return (history.events ?? []).map((event) => event.type ?? '');
}

async function newHostQueue(): Promise<string> {
  const created = await sqs.send(
    new CreateQueueCommand({ QueueName: `host-${randomUUID()}.fifo`, Attributes: { FifoQueue: 'true' } }),
  );
  return created.QueueUrl ?? '';
}

interface HostCommand {
  command: string;
  instance: string;
  task_token: string;
}

/** What an agent does: take the next command off its host's queue. */
async function receiveCommand(queueUrl: string): Promise<HostCommand> {
  const message = await waitUntil(
    `a command on ${queueUrl}`,
    async () => {
      const received = await sqs.send(
        new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 1, WaitTimeSeconds: 1 }),
      );
      return received.Messages?.[0];
    },
    // Each receive is a one-second long poll of its own.
    { timeoutMs: 30_000, intervalMs: 0 },
  );
  await sqs.send(new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: message.ReceiptHandle }));
  return JSON.parse(message.Body ?? '') as HostCommand;
}

/**
 * A host command as workflows/asl.ts builds it: the token travels in the message body. A Catch in
 * `taskFields` may lead to the Rescued state.
 */
function hostCommandMachine(queueUrl: string, taskFields: Record<string, unknown> = {}) {
  const rescued = 'Catch' in taskFields ? { Rescued: { Type: 'Pass', End: true } } : {};
  return {
    StartAt: 'Spawn',
    States: {
      Spawn: {
        Type: 'Task',
        Resource: SEND_AND_WAIT,
        Parameters: {
          QueueUrl: queueUrl,
          MessageBody: { command: 'spawn', 'instance.$': '$.instance', 'task_token.$': '$$.Task.Token' },
          'MessageGroupId.$': '$.instance',
          'MessageDeduplicationId.$': '$.command_id',
        },
        ResultPath: '$.spawned',
        End: true,
        ...taskFields,
      },
      ...rescued,
    },
  };
}

function hostInput() {
  return { instance: randomUUID(), command_id: randomUUID() };
}

async function sfnError(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    return error instanceof Error ? error.name : String(error);
  }
  return 'no error';
}

describe('state machines', () => {
  it('creates idempotently, describes, lists, updates and deletes', async () => {
    const name = `crud-${randomUUID()}`;
    const definition = JSON.stringify({
      StartAt: 'Done',
      States: { Done: { Type: 'Pass', Result: 1, End: true } },
    });
    const create = (text: string) =>
      sfn.send(new CreateStateMachineCommand({ name, definition: text, roleArn: ROLE }));

    const first = await create(definition);
    expect(first.stateMachineArn).toBe(`arn:aws:states:${REGION}:${ACCOUNT}:stateMachine:${name}`);
    expect((await create(definition)).stateMachineArn).toBe(first.stateMachineArn);
    const other = JSON.stringify({
      StartAt: 'Done',
      States: { Done: { Type: 'Pass', Result: 2, End: true } },
    });
    expect(await sfnError(create(other))).toBe('StateMachineAlreadyExists');

    const arn = first.stateMachineArn ?? '';
    const described = await sfn.send(new DescribeStateMachineCommand({ stateMachineArn: arn }));
    expect(described).toMatchObject({ name, definition, roleArn: ROLE, type: 'STANDARD', status: 'ACTIVE' });
    expect(described.creationDate).toBeInstanceOf(Date);
    const listed = await sfn.send(new ListStateMachinesCommand({}));
    expect(listed.stateMachines?.map((machine) => machine.name)).toContain(name);

    await sfn.send(new UpdateStateMachineCommand({ stateMachineArn: arn, definition: other }));
    expect((await finished(await start(arn, {}))).output).toBe('2');

    await sfn.send(new DeleteStateMachineCommand({ stateMachineArn: arn }));
    expect(await sfnError(sfn.send(new DescribeStateMachineCommand({ stateMachineArn: arn })))).toBe(
      'StateMachineDoesNotExist',
    );
    expect(await sfnError(start(arn, {}))).toBe('StateMachineDoesNotExist');
  });

  it('refuses invalid definitions, JSONata included', async () => {
    const create = (definition: string) =>
      sfnError(
        sfn.send(new CreateStateMachineCommand({ name: `bad-${randomUUID()}`, definition, roleArn: ROLE })),
      );
    expect(await create('{not json')).toBe('InvalidDefinition');
    expect(
      await create(JSON.stringify({ StartAt: 'Missing', States: { A: { Type: 'Pass', End: true } } })),
    ).toBe('InvalidDefinition');
    const jsonata = { QueryLanguage: 'JSONata', StartAt: 'A', States: { A: { Type: 'Pass', End: true } } };
    expect(await create(JSON.stringify(jsonata))).toBe('InvalidDefinition');
  });
});

describe('Lambda tasks', () => {
  it('runs function ARNs and lambda:invoke with the effective input', async () => {
    const arn = await createMachine({
      StartAt: 'Direct',
      States: {
        Direct: {
          Type: 'Task',
          Resource: functionArn('echo'),
          Parameters: { step: 'boot.schedule', 'server.$': '$.server' },
          ResultPath: '$.direct',
          Next: 'ViaIntegration',
        },
        ViaIntegration: {
          Type: 'Task',
          Resource: 'arn:aws:states:::lambda:invoke',
          Parameters: { FunctionName: functionArn('echo'), Payload: { 'server.$': '$.server' } },
          ResultSelector: { 'echoed.$': '$.Payload.echoed', 'status.$': '$.StatusCode' },
          ResultPath: '$.integration',
          End: true,
        },
      },
    });
    const server = randomUUID();
    const execution = await finished(await start(arn, { server }));

    expect(execution.status).toBe('SUCCEEDED');
    expect(JSON.parse(execution.output ?? '')).toEqual({
      server,
      direct: { echoed: { step: 'boot.schedule', server } },
      integration: { echoed: { server }, status: 200 },
    });
    expect(lambdaCalls.filter((call) => JSON.stringify(call.payload).includes(server))).toEqual([
      { functionArn: functionArn('echo'), payload: { step: 'boot.schedule', server } },
      { functionArn: functionArn('echo'), payload: { server } },
    ]);
    expect(await historyTypes(execution.executionArn ?? '')).toEqual([
      'ExecutionStarted',
      'TaskStateEntered',
      'TaskScheduled',
      'TaskStarted',
      'TaskSucceeded',
      'TaskStateExited',
      'TaskStateEntered',
      'TaskScheduled',
      'TaskStarted',
      'TaskSucceeded',
      'TaskStateExited',
      'ExecutionSucceeded',
    ]);
  });

  it('retries a named error thrown by the function', async () => {
    const arn = await createMachine({
      StartAt: 'Claim',
      States: {
        Claim: {
          Type: 'Task',
          Resource: functionArn('flaky'),
          Retry: [{ ErrorEquals: ['NoValidHost'], IntervalSeconds: 1, MaxAttempts: 2 }],
          End: true,
        },
      },
    });
    const execution = await finished(await start(arn, { attempt: randomUUID() }));

    expect(execution.status).toBe('SUCCEEDED');
    expect(JSON.parse(execution.output ?? '')).toEqual({ placed: true });
    const history = await sfn.send(new GetExecutionHistoryCommand({ executionArn: execution.executionArn }));
    const failure = history.events?.find((event) => event.type === 'TaskFailed');
    expect(failure?.taskFailedEventDetails?.error).toBe('NoValidHost');
    expect(history.events?.filter((event) => event.type === 'TaskScheduled')).toHaveLength(2);
  });

  it('lets Catch see the error name and the Lambda-style cause', async () => {
    const arn = await createMachine({
      StartAt: 'Schedule',
      States: {
        Schedule: {
          Type: 'Task',
          Resource: functionArn('no-valid-host'),
          Catch: [{ ErrorEquals: ['NoValidHost'], ResultPath: '$.error', Next: 'NoHost' }],
          End: true,
        },
        NoHost: { Type: 'Pass', End: true },
      },
    });
    const execution = await finished(await start(arn, { server: 's1' }));

    expect(execution.status).toBe('SUCCEEDED');
    const output = JSON.parse(execution.output ?? '');
    expect(output.error.Error).toBe('NoValidHost');
    expect(JSON.parse(output.error.Cause)).toEqual({
      errorMessage: 'no host has 4 free vCPUs',
      errorType: 'NoValidHost',
    });
  });

  it('fails the execution with the error when nothing catches it', async () => {
    const arn = await createMachine({
      StartAt: 'Schedule',
      States: { Schedule: { Type: 'Task', Resource: functionArn('no-valid-host'), End: true } },
    });
    const execution = await finished(await start(arn, {}));

    expect(execution.status).toBe('FAILED');
    expect(execution.error).toBe('NoValidHost');
    expect(JSON.parse(execution.cause ?? '')).toMatchObject({ errorType: 'NoValidHost' });
    expect((await historyTypes(execution.executionArn ?? '')).at(-1)).toBe('ExecutionFailed');
  });

  it('runs tasks nested in Map and Parallel states', async () => {
    const echoTask = (next: object) => ({ Type: 'Task', Resource: functionArn('echo'), ...next });
    const arn = await createMachine({
      StartAt: 'Fan',
      States: {
        Fan: {
          Type: 'Parallel',
          Branches: [
            {
              StartAt: 'EachHost',
              States: {
                EachHost: {
                  Type: 'Map',
                  ItemsPath: '$.hosts',
                  ItemProcessor: { StartAt: 'EchoHost', States: { EchoHost: echoTask({ End: true }) } },
                  End: true,
                },
              },
            },
            { StartAt: 'EchoAll', States: { EchoAll: echoTask({ End: true }) } },
          ],
          End: true,
        },
      },
    });
    const execution = await finished(await start(arn, { hosts: ['h1', 'h2'] }));

    expect(execution.status).toBe('SUCCEEDED');
    expect(JSON.parse(execution.output ?? '')).toEqual([
      [{ echoed: 'h1' }, { echoed: 'h2' }],
      { echoed: { hosts: ['h1', 'h2'] } },
    ]);
  });

  it('fails a task whose resource the endpoint cannot run, naming the resource', async () => {
    const arn = await createMachine({
      StartAt: 'Put',
      States: {
        Put: {
          Type: 'Task',
          Resource: 'arn:aws:states:::dynamodb:putItem',
          Parameters: { TableName: 't', Item: {} },
          Catch: [{ ErrorEquals: ['States.ALL'], Next: 'Caught' }],
          End: true,
        },
        Caught: { Type: 'Pass', End: true },
      },
    });
    const execution = await finished(await start(arn, {}));

    expect(execution.status).toBe('FAILED');
    expect(execution.error).toBe('States.Runtime');
    expect(execution.cause).toContain('arn:aws:states:::dynamodb:putItem');
  });
});

describe('callback tasks (sqs:sendMessage.waitForTaskToken)', () => {
  it('sends the command with a fresh token and succeeds with the SendTaskSuccess output', async () => {
    const queueUrl = await newHostQueue();
    const arn = await createMachine(hostCommandMachine(queueUrl));
    const input = hostInput();
    const executionArn = await start(arn, input);

    const command = await receiveCommand(queueUrl);
    expect(command).toMatchObject({ command: 'spawn', instance: input.instance });
    expect(command.task_token.length).toBeGreaterThan(40);
    await sfn.send(
      new SendTaskSuccessCommand({ taskToken: command.task_token, output: '{"power_state":1}' }),
    );

    const execution = await finished(executionArn);
    expect(execution.status).toBe('SUCCEEDED');
    expect(JSON.parse(execution.output ?? '')).toEqual({ ...input, spawned: { power_state: 1 } });
    expect(await historyTypes(executionArn)).toEqual([
      'ExecutionStarted',
      'TaskStateEntered',
      'TaskScheduled',
      'TaskStarted',
      'TaskSubmitted',
      'TaskSucceeded',
      'TaskStateExited',
      'ExecutionSucceeded',
    ]);
    expect(
      await sfnError(sfn.send(new SendTaskSuccessCommand({ taskToken: command.task_token, output: '{}' }))),
    ).toBe('TaskTimedOut');
  });

  it('fails the state with the error and cause of SendTaskFailure', async () => {
    const queueUrl = await newHostQueue();
    const uncaught = await createMachine(hostCommandMachine(queueUrl));
    const caught = await createMachine(
      hostCommandMachine(queueUrl, {
        Catch: [{ ErrorEquals: ['HostDown'], ResultPath: '$.error', Next: 'Rescued' }],
      }),
    );

    const failing = await start(uncaught, hostInput());
    const failingCommand = await receiveCommand(queueUrl);
    await sfn.send(
      new SendTaskFailureCommand({
        taskToken: failingCommand.task_token,
        error: 'HostDown',
        cause: 'disk full',
      }),
    );
    expect(await finished(failing)).toMatchObject({
      status: 'FAILED',
      error: 'HostDown',
      cause: 'disk full',
    });
    expect(await historyTypes(failing)).toContain('TaskFailed');

    const rescued = await start(caught, hostInput());
    const rescuedCommand = await receiveCommand(queueUrl);
    await sfn.send(
      new SendTaskFailureCommand({
        taskToken: rescuedCommand.task_token,
        error: 'HostDown',
        cause: 'disk full',
      }),
    );
    const execution = await finished(rescued);
    expect(execution.status).toBe('SUCCEEDED');
    expect(JSON.parse(execution.output ?? '').error).toEqual({ Error: 'HostDown', Cause: 'disk full' });
  });

  it('fails with States.HeartbeatTimeout when the worker goes silent', async () => {
    const queueUrl = await newHostQueue();
    const arn = await createMachine(
      hostCommandMachine(queueUrl, { HeartbeatSeconds: 1, TimeoutSeconds: 30 }),
    );
    const executionArn = await start(arn, hostInput());
    const command = await receiveCommand(queueUrl);

    const execution = await finished(executionArn);
    expect(execution.status).toBe('FAILED');
    expect(execution.error).toBe('States.HeartbeatTimeout');
    expect(await historyTypes(executionArn)).toContain('TaskTimedOut');
    const late = sfn.send(new SendTaskSuccessCommand({ taskToken: command.task_token, output: '{}' }));
    expect(await sfnError(late)).toBe('TaskTimedOut');
  });

  it('keeps a task alive while heartbeats arrive', async () => {
    const queueUrl = await newHostQueue();
    const arn = await createMachine(
      hostCommandMachine(queueUrl, { HeartbeatSeconds: 1, TimeoutSeconds: 30 }),
    );
    const executionArn = await start(arn, hostInput());
    const command = await receiveCommand(queueUrl);

    for (let beat = 0; beat < 5; beat += 1) {
      await sleep(300);
      await sfn.send(new SendTaskHeartbeatCommand({ taskToken: command.task_token }));
    }
    expect((await describe_(executionArn)).status).toBe('RUNNING');
    await sfn.send(new SendTaskSuccessCommand({ taskToken: command.task_token, output: '"done"' }));
    const execution = await finished(executionArn);
    expect(execution.status).toBe('SUCCEEDED');
    expect(JSON.parse(execution.output ?? '').spawned).toBe('done');
  });

  it('fails with States.Timeout after TimeoutSeconds, which States.TaskFailed does not catch', async () => {
    const queueUrl = await newHostQueue();
    const arn = await createMachine(
      hostCommandMachine(queueUrl, {
        TimeoutSeconds: 1,
        Catch: [{ ErrorEquals: ['States.TaskFailed'], Next: 'Rescued' }],
      }),
    );
    const executionArn = await start(arn, hostInput());
    const command = await receiveCommand(queueUrl);

    const execution = await finished(executionArn);
    expect(execution.status).toBe('FAILED');
    expect(execution.error).toBe('States.Timeout');
    expect(await historyTypes(executionArn)).toContain('TaskTimedOut');
    const late = sfn.send(new SendTaskSuccessCommand({ taskToken: command.task_token, output: '{}' }));
    expect(await sfnError(late)).toBe('TaskTimedOut');
  });

  it('gives concurrent executions their own tokens and routes each answer to its execution', async () => {
    const queueUrl = await newHostQueue();
    const arn = await createMachine(hostCommandMachine(queueUrl));
    const first = hostInput();
    const second = hostInput();
    const firstArn = await start(arn, first);
    const secondArn = await start(arn, second);

    const commands = [await receiveCommand(queueUrl), await receiveCommand(queueUrl)];
    const tokenOf = (instance: string) =>
      commands.find((command) => command.instance === instance)?.task_token ?? '';
    expect(tokenOf(first.instance)).not.toBe('');
    expect(tokenOf(first.instance)).not.toBe(tokenOf(second.instance));

    await sfn.send(new SendTaskSuccessCommand({ taskToken: tokenOf(second.instance), output: '"second"' }));
    await sfn.send(new SendTaskSuccessCommand({ taskToken: tokenOf(first.instance), output: '"first"' }));
    expect(JSON.parse((await finished(firstArn)).output ?? '').spawned).toBe('first');
    expect(JSON.parse((await finished(secondArn)).output ?? '').spawned).toBe('second');
  });

  it('aborts on StopExecution and retires the outstanding token', async () => {
    const queueUrl = await newHostQueue();
    const arn = await createMachine(hostCommandMachine(queueUrl));
    const executionArn = await start(arn, hostInput());
    const command = await receiveCommand(queueUrl);

    const stopped = await sfn.send(
      new StopExecutionCommand({ executionArn, error: 'Cancelled', cause: 'by operator' }),
    );
    expect(stopped.stopDate).toBeInstanceOf(Date);
    expect(await describe_(executionArn)).toMatchObject({
      status: 'ABORTED',
      error: 'Cancelled',
      cause: 'by operator',
    });
    expect((await historyTypes(executionArn)).at(-1)).toBe('ExecutionAborted');
    const late = sfn.send(new SendTaskSuccessCommand({ taskToken: command.task_token, output: '{}' }));
    expect(await sfnError(late)).toBe('TaskTimedOut');
  });

  it('answers TaskDoesNotExist for a token it never issued', async () => {
    const taskToken = 'not-a-token-this-endpoint-issued';
    expect(await sfnError(sfn.send(new SendTaskSuccessCommand({ taskToken, output: '{}' })))).toBe(
      'TaskDoesNotExist',
    );
    expect(await sfnError(sfn.send(new SendTaskFailureCommand({ taskToken, error: 'X' })))).toBe(
      'TaskDoesNotExist',
    );
    expect(await sfnError(sfn.send(new SendTaskHeartbeatCommand({ taskToken })))).toBe('TaskDoesNotExist');
  });
});

describe('executions', () => {
  it('lists executions by status', async () => {
    const arn = await createMachine({
      StartAt: 'Decide',
      States: {
        Decide: {
          Type: 'Choice',
          Choices: [{ Variable: '$.ok', BooleanEquals: true, Next: 'Done' }],
          Default: 'Broken',
        },
        Done: { Type: 'Succeed' },
        Broken: { Type: 'Fail', Error: 'Broken', Cause: 'asked to fail' },
      },
    });
    const succeeded = await start(arn, { ok: true });
    const failed = await start(arn, { ok: false });
    await finished(succeeded);
    await finished(failed);

    const list = async (statusFilter?: 'SUCCEEDED' | 'FAILED') =>
      (await sfn.send(new ListExecutionsCommand({ stateMachineArn: arn, statusFilter }))).executions?.map(
        (execution) => execution.executionArn,
      );
    expect(await list()).toEqual([failed, succeeded]);
    expect(await list('SUCCEEDED')).toEqual([succeeded]);
    expect(await list('FAILED')).toEqual([failed]);
    expect(await describe_(failed)).toMatchObject({ error: 'Broken', cause: 'asked to fail' });
  });

  it('treats a repeated name as idempotent only for the same input', async () => {
    const queueUrl = await newHostQueue();
    const arn = await createMachine(hostCommandMachine(queueUrl));
    const input = hostInput();
    const name = `boot-${input.instance}`;
    const executionArn = await start(arn, input, name);
    expect(executionArn).toBe(
      `arn:aws:states:${REGION}:${ACCOUNT}:execution:${arn.split(':').at(-1)}:${name}`,
    );

    expect(await start(arn, input, name)).toBe(executionArn);
    expect(await sfnError(start(arn, hostInput(), name))).toBe('ExecutionAlreadyExists');
    await sfn.send(new StopExecutionCommand({ executionArn }));
  });

  it('reports unknown and malformed ARNs and bad requests', async () => {
    const unknownExecution = `arn:aws:states:${REGION}:${ACCOUNT}:execution:nope:nope`;
    expect(await sfnError(describe_(unknownExecution))).toBe('ExecutionDoesNotExist');
    expect(await sfnError(describe_('not-an-arn'))).toBe('InvalidArn');
    const unknownMachine = `arn:aws:states:${REGION}:${ACCOUNT}:stateMachine:nope`;
    expect(
      await sfnError(sfn.send(new DescribeStateMachineCommand({ stateMachineArn: unknownMachine }))),
    ).toBe('StateMachineDoesNotExist');
    expect(await sfnError(sfn.send(new ListExecutionsCommand({ stateMachineArn: unknownMachine })))).toBe(
      'StateMachineDoesNotExist',
    );
    const arn = await createMachine({ StartAt: 'A', States: { A: { Type: 'Pass', End: true } } });
    expect(
      await sfnError(sfn.send(new StartExecutionCommand({ stateMachineArn: arn, input: '{oops' }))),
    ).toBe('InvalidExecutionInput');

    const reply = await fetch(endpoint.url, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-amz-json-1.0',
        'x-amz-target': 'AWSStepFunctions.StartExecution',
      },
      body: JSON.stringify({ input: '{}' }),
    });
    expect(reply.status).toBe(400);
    const body = (await reply.json()) as { __type: string; message: string };
    expect(body.__type).toBe('ValidationException');
    expect(body.message).toContain('stateMachineArn');
  });
});

describe('stop()', () => {
  it('aborts running executions and closes the server', async () => {
    const local = await startSfnEndpoint({
      region: REGION,
      accountId: ACCOUNT,
      sqs,
      invokeLambda: async () => ({}),
    });
    const client = new SFNClient({ endpoint: local.url, region: REGION, credentials });
    const queueUrl = await newHostQueue();
    const created = await client.send(
      new CreateStateMachineCommand({
        name: 'waits',
        definition: JSON.stringify(hostCommandMachine(queueUrl, { HeartbeatSeconds: 60 })),
        roleArn: ROLE,
      }),
    );
    await client.send(
      new StartExecutionCommand({
        stateMachineArn: created.stateMachineArn,
        input: JSON.stringify(hostInput()),
      }),
    );
    await receiveCommand(queueUrl);

    await local.stop();
    client.destroy();
    await expect(fetch(local.url, { method: 'POST' })).rejects.toThrow();
  });
});
