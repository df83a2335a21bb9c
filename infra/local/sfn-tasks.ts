// Local handlers for every Task state: what AWS would do for the state's Resource, done in-process
// (Lambda), against the local SQS (sqs:sendMessage) or with a task token (…waitForTaskToken).
import { setImmediate as nextMacrotask } from 'node:timers/promises';
import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import * as v from 'valibot';
import type { TaskTokenRegistry } from './sfn-callbacks.ts';
import type { TaskStateSpec } from './sfn-definitions.ts';
import type { ExecutionHistory } from './sfn-history.ts';
import {
  containsInStrings,
  isJsonObject,
  type Json,
  replaceInStrings,
  type TaskHandlers,
  toJson,
} from './sfn-json.ts';

export interface TaskServices {
  region: string;
  invokeLambda(functionArn: string, payload: unknown): Promise<unknown>;
  sqs: SQSClient;
  tokens: TaskTokenRegistry;
}

/** What a task needs from the execution it runs in. */
export interface TaskExecutionContext {
  /** Aborted once the execution is over, however it ended; every open task then lets go. */
  signal: AbortSignal;
  /** The value `$$.Task.Token` resolves to in this execution; each callback task swaps it for its own token. */
  tokenSentinel: string;
  history: ExecutionHistory;
}

/**
 * Behaves like the interpreter's own States.Runtime: neither Retry nor Catch may act on it (the
 * interpreter reads `isRetryable`/`isCatchable` off the error), because the definition itself is at fault.
 */
class StatesRuntimeError extends Error {
  readonly isRetryable = false;
  readonly isCatchable = false;
  constructor(message: string) {
    super(message);
    this.name = 'States.Runtime';
  }
}

/** A Lambda function error as Step Functions reports it: Error = errorType, Cause = the JSON AWS produces. */
class LambdaFunctionError extends Error {
  constructor(errorType: string, errorMessage: string) {
    super(JSON.stringify({ errorMessage, errorType }));
    this.name = errorType;
  }
}

/** An SQS API error as the sqs integration reports it: `SQS.<ErrorCode>`. */
class SqsIntegrationError extends Error {
  constructor(code: string, message: string) {
    super(message);
    this.name = `SQS.${code}`;
  }
}

export function buildTaskHandlers(
  taskStates: readonly TaskStateSpec[],
  services: TaskServices,
  execution: TaskExecutionContext,
): TaskHandlers {
  return Object.fromEntries(
    taskStates.map((spec) => [
      spec.name,
      (input: Json) => {
        const attempt = runTaskAttempt(spec, input, services, execution);
        // Once the execution has ended (stopped, timed out) the interpreter no longer awaits the attempt;
        // its rejection must not surface as an unhandled one that takes the whole process down.
        attempt.catch(() => undefined);
        return attempt;
      },
    ]),
  );
}

type ResourceKind =
  | 'lambdaFunction'
  | 'lambdaInvoke'
  | 'sqsSendMessage'
  | 'sqsSendMessageAndWait'
  | 'unsupported';

interface ResolvedResource {
  kind: ResourceKind;
  /** resourceType/resource as the task events in the history name them. */
  resourceType: string;
  resource: string;
}

const LAMBDA_FUNCTION_ARN = /^arn:aws[\w-]*:lambda:[\w-]+:\d{12}:function:[^:]+(:[^:]+)?$/;
const SERVICE_INTEGRATION_ARN = /^arn:aws[\w-]*:states:::([\w-]+):(.+)$/;
const INTEGRATIONS: Record<string, ResourceKind> = {
  'lambda:invoke': 'lambdaInvoke',
  'sqs:sendMessage': 'sqsSendMessage',
  'sqs:sendMessage.waitForTaskToken': 'sqsSendMessageAndWait',
};

function resolveResource(resource: string): ResolvedResource {
  if (LAMBDA_FUNCTION_ARN.test(resource)) return { kind: 'lambdaFunction', resourceType: 'lambda', resource };
  const integration = SERVICE_INTEGRATION_ARN.exec(resource);
  if (integration === null) return { kind: 'unsupported', resourceType: 'unknown', resource };
  const [, service = '', action = ''] = integration;
  return {
    kind: INTEGRATIONS[`${service}:${action}`] ?? 'unsupported',
    resourceType: service,
    resource: action,
  };
}

async function runTaskAttempt(
  spec: TaskStateSpec,
  input: Json,
  services: TaskServices,
  execution: TaskExecutionContext,
): Promise<Json> {
  if (execution.signal.aborted) throw executionClosed();
  const resolved = resolveResource(spec.resource);
  const { resourceType, resource } = resolved;
  const { history } = execution;
  // The interpreter enforces TimeoutSeconds itself (with the States.Timeout error that States.TaskFailed
  // must not match), so the deadline here only closes the task: it records TaskTimedOut and retires the
  // token. Armed before the first await, it fires just ahead of the interpreter's timer of equal length.
  const timeoutSeconds = spec.timeoutSeconds ?? secondsAt(spec.timeoutSecondsPath, input);
  const deadline = new AbortController();
  const deadlineTimer =
    timeoutSeconds === undefined
      ? undefined
      : setTimeout(() => {
          history.record('TaskTimedOut', {
            taskTimedOutEventDetails: { resourceType, resource, error: 'States.Timeout', cause: '' },
          });
          deadline.abort();
        }, timeoutSeconds * 1000);
  const taskIsOver = () => execution.signal.aborted || deadline.signal.aborted;
  try {
    // The interpreter logs StateEntered right before calling this handler but delivers it to the history
    // reader a few microtasks later; one macrotask keeps StateEntered ahead of TaskScheduled.
    await nextMacrotask();
    if (execution.signal.aborted) throw executionClosed();
    history.record('TaskScheduled', {
      taskScheduledEventDetails: {
        resourceType,
        resource,
        region: services.region,
        parameters: JSON.stringify(input),
        timeoutInSeconds: spec.timeoutSeconds,
        heartbeatInSeconds: spec.heartbeatSeconds,
      },
    });
    history.record('TaskStarted', { taskStartedEventDetails: { resourceType, resource } });
    const output = await untilExecutionEnds(
      perform(resolved, spec, input, services, execution, deadline.signal),
      execution.signal,
    );
    if (!taskIsOver()) {
      history.record('TaskSucceeded', {
        taskSucceededEventDetails: { resourceType, resource, output: JSON.stringify(output) },
      });
    }
    return output;
  } catch (error) {
    if (!taskIsOver() && error instanceof Error) {
      const type = error.name === 'States.HeartbeatTimeout' ? 'TaskTimedOut' : 'TaskFailed';
      const key = type === 'TaskTimedOut' ? 'taskTimedOutEventDetails' : 'taskFailedEventDetails';
      history.record(type, { [key]: { resourceType, resource, error: error.name, cause: error.message } });
    }
    throw error;
  } finally {
    clearTimeout(deadlineTimer);
  }
}

function perform(
  resolved: ResolvedResource,
  spec: TaskStateSpec,
  input: Json,
  services: TaskServices,
  execution: TaskExecutionContext,
  deadline: AbortSignal,
): Promise<Json> {
  switch (resolved.kind) {
    case 'lambdaFunction':
      return invokeAsLambda(services, spec.resource, input);
    case 'lambdaInvoke':
      return invokeThroughIntegration(services, input);
    case 'sqsSendMessage':
      return sendSqsMessage(services.sqs, input);
    case 'sqsSendMessageAndWait':
      return sendAndWaitForTaskToken(spec, input, services, execution, deadline);
    case 'unsupported':
      throw new StatesRuntimeError(
        `Task state ${spec.name}: resource ${spec.resource} is not supported by the local Step Functions endpoint`,
      );
  }
}

async function invokeAsLambda(services: TaskServices, functionArn: string, payload: Json): Promise<Json> {
  let result: unknown;
  try {
    result = await services.invokeLambda(functionArn, payload);
  } catch (error) {
    throw error instanceof Error
      ? new LambdaFunctionError(error.name, error.message)
      : new LambdaFunctionError('Error', String(error));
  }
  return toJson(result);
}

const LambdaInvokeParameters = v.object({ FunctionName: v.pipe(v.string(), v.minLength(1)) });

/** arn:aws:states:::lambda:invoke answers with Lambda's Invoke response, the function's result in Payload. */
async function invokeThroughIntegration(services: TaskServices, parameters: Json): Promise<Json> {
  const parsed = v.safeParse(LambdaInvokeParameters, parameters);
  if (!parsed.success || !isJsonObject(parameters)) {
    throw new StatesRuntimeError('lambda:invoke needs Parameters with a FunctionName');
  }
  const payload = await invokeAsLambda(services, parsed.output.FunctionName, parameters.Payload ?? {});
  return { ExecutedVersion: '$LATEST', Payload: payload, StatusCode: 200 };
}

const SendMessageParameters = v.object({
  QueueUrl: v.pipe(v.string(), v.minLength(1)),
  MessageBody: v.nonOptional(v.unknown()),
  MessageGroupId: v.optional(v.string()),
  MessageDeduplicationId: v.optional(v.string()),
  DelaySeconds: v.optional(v.pipe(v.number(), v.integer())),
  MessageAttributes: v.optional(
    v.record(
      v.string(),
      v.object({
        DataType: v.string(),
        StringValue: v.optional(v.string()),
        BinaryValue: v.optional(v.string()),
      }),
    ),
  ),
});

async function sendSqsMessage(sqs: SQSClient, parameters: Json): Promise<Json> {
  const parsed = v.safeParse(SendMessageParameters, parameters);
  if (!parsed.success) {
    const fields = parsed.issues.map((issue) => v.getDotPath(issue) ?? 'Parameters').join(', ');
    throw new StatesRuntimeError(`sqs:sendMessage Parameters are invalid (${fields})`);
  }
  const { MessageBody, MessageAttributes, ...rest } = parsed.output;
  try {
    const sent = await sqs.send(
      new SendMessageCommand({
        ...rest,
        MessageBody: typeof MessageBody === 'string' ? MessageBody : JSON.stringify(MessageBody),
        MessageAttributes:
          MessageAttributes === undefined
            ? undefined
            : Object.fromEntries(
                Object.entries(MessageAttributes).map(([name, { BinaryValue, ...attribute }]) => [
                  name,
                  {
                    ...attribute,
                    BinaryValue: BinaryValue === undefined ? undefined : Buffer.from(BinaryValue, 'base64'),
                  },
                ]),
              ),
      }),
    );
    return toJson({
      MessageId: sent.MessageId,
      MD5OfMessageBody: sent.MD5OfMessageBody,
      MD5OfMessageAttributes: sent.MD5OfMessageAttributes,
      SequenceNumber: sent.SequenceNumber,
    });
  } catch (error) {
    if (!(error instanceof Error)) throw error;
    throw new SqsIntegrationError(error.name, error.message);
  }
}

async function sendAndWaitForTaskToken(
  spec: TaskStateSpec,
  parameters: Json,
  services: TaskServices,
  execution: TaskExecutionContext,
  deadline: AbortSignal,
): Promise<Json> {
  if (!containsInStrings(parameters, execution.tokenSentinel)) {
    throw new StatesRuntimeError(
      `Task state ${spec.name} waits for a task token but never passes $$.Task.Token`,
    );
  }
  const heartbeatSeconds = spec.heartbeatSeconds ?? secondsAt(spec.heartbeatSecondsPath, parameters);
  const { token, result } = services.tokens.open(heartbeatSeconds);
  const closeOnExecutionEnd = () => services.tokens.close(token, executionClosed());
  const closeOnDeadline = () => services.tokens.close(token);
  execution.signal.addEventListener('abort', closeOnExecutionEnd, { once: true });
  deadline.addEventListener('abort', closeOnDeadline, { once: true });
  try {
    const sent = await sendSqsMessage(
      services.sqs,
      replaceInStrings(parameters, execution.tokenSentinel, token),
    );
    execution.history.record('TaskSubmitted', {
      taskSubmittedEventDetails: {
        resourceType: 'sqs',
        resource: 'sendMessage.waitForTaskToken',
        output: JSON.stringify(sent),
      },
    });
    return await result;
  } catch (error) {
    services.tokens.close(token);
    throw error;
  } finally {
    execution.signal.removeEventListener('abort', closeOnExecutionEnd);
    deadline.removeEventListener('abort', closeOnDeadline);
  }
}

/** Settles like `work`, or rejects once the execution is over (nothing may keep waiting after that). */
function untilExecutionEnds(work: Promise<Json>, signal: AbortSignal): Promise<Json> {
  if (signal.aborted) return Promise.reject(executionClosed());
  return new Promise((resolve, reject) => {
    const onEnd = () => reject(executionClosed());
    signal.addEventListener('abort', onEnd, { once: true });
    work.then(resolve, reject).finally(() => signal.removeEventListener('abort', onEnd));
  });
}

function executionClosed(): StatesRuntimeError {
  return new StatesRuntimeError('The execution has ended');
}

/** Resolves a simple `$.a.b` path to a positive whole number of seconds, as TimeoutSecondsPath needs. */
function secondsAt(path: string | undefined, input: Json): number | undefined {
  if (path === undefined || !/^\$(\.[A-Za-z_][\w-]*)*$/.test(path)) return undefined;
  let value: Json | undefined = input;
  for (const key of path.split('.').slice(1)) value = isJsonObject(value) ? value[key] : undefined;
  return typeof value === 'number' && Number.isInteger(value) && value > 0 ? value : undefined;
}
