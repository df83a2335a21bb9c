// Amazon States Language (JSONPath flavour) as plain typed data. The same definitions run on AWS
// Step Functions and in the local interpreter, which ignores JSONata; so no JSONata here.

export interface RetryRule {
  ErrorEquals: string[];
  IntervalSeconds?: number;
  MaxAttempts?: number;
  BackoffRate?: number;
}

export interface CatchRule {
  ErrorEquals: string[];
  ResultPath?: string;
  Next: string;
}

interface StateBase {
  Comment?: string;
}

interface Transition {
  Next?: string;
  End?: true;
}

export interface TaskState extends StateBase, Transition {
  Type: 'Task';
  Resource: string;
  Parameters?: Record<string, unknown>;
  ResultPath?: string | null;
  ResultSelector?: Record<string, unknown>;
  TimeoutSeconds?: number;
  HeartbeatSeconds?: number;
  Retry?: RetryRule[];
  Catch?: CatchRule[];
}

export interface ChoiceRule {
  Variable: string;
  IsNull?: boolean;
  IsPresent?: boolean;
  BooleanEquals?: boolean;
  StringEquals?: string;
  NumericGreaterThan?: number;
  Next: string;
}

export interface ChoiceState extends StateBase {
  Type: 'Choice';
  Choices: ChoiceRule[];
  Default?: string;
}

export interface PassState extends StateBase, Transition {
  Type: 'Pass';
  Parameters?: Record<string, unknown>;
  ResultPath?: string | null;
}

export interface WaitState extends StateBase, Transition {
  Type: 'Wait';
  Seconds?: number;
  SecondsPath?: string;
}

export interface FailState extends StateBase {
  Type: 'Fail';
  Error: string;
  Cause?: string;
}

export interface SucceedState extends StateBase {
  Type: 'Succeed';
}

/** Runs `ItemProcessor` once per item of the array at `ItemsPath`, at most `MaxConcurrency` at a time. */
export interface MapState extends StateBase, Transition {
  Type: 'Map';
  ItemsPath?: string;
  /** Each iteration's input, built from the state's input and `$$.Map.Item.Value`. */
  ItemSelector?: Record<string, unknown>;
  MaxConcurrency?: number;
  ItemProcessor: {
    ProcessorConfig?: { Mode: 'INLINE' };
    StartAt: string;
    States: Record<string, State>;
  };
  ResultPath?: string | null;
  Retry?: RetryRule[];
  Catch?: CatchRule[];
}

export type State = TaskState | ChoiceState | PassState | WaitState | FailState | SucceedState | MapState;

export interface StateMachineDefinition {
  Comment: string;
  StartAt: string;
  TimeoutSeconds?: number;
  States: Record<string, State>;
}

/** ARNs a definition refers to, filled in by whoever deploys it (infra/ on AWS, infra/local/ here). */
export interface WorkflowRefs {
  conductorFunctionArn: string;
  /** Bounds of the host commands of a move (workflows/migrate-server.ts has the defaults). */
  moveTiming?: MoveTiming;
}

export interface MoveTiming {
  /** One command on a host: prepare, finish, clean up. */
  commandTimeoutSeconds: number;
  /** The source's part: copying the disk (cold) or the memory (live). */
  sourceTimeoutSeconds: number;
  /** A host working on a move that stays silent this long is taken for gone. */
  heartbeatSeconds: number;
}

/** The callback integration: AWS mints `$$.Task.Token`; the agent answers through the API. */
export const SQS_SEND_AND_WAIT = 'arn:aws:states:::sqs:sendMessage.waitForTaskToken';

/** Lambda's own transient failures, worth retrying; our handlers' errors are not in this list. */
const LAMBDA_TRANSIENT_ERRORS = [
  'Lambda.ServiceException',
  'Lambda.AWSLambdaException',
  'Lambda.SdkClientException',
  'Lambda.TooManyRequestsException',
];

/** A conductor step: one Lambda function dispatching on `step` (functions/conductor/lambda.ts). */
export function conductorStep(
  refs: WorkflowRefs,
  step: string,
  parameters: Record<string, unknown>,
  rest: Omit<TaskState, 'Type' | 'Resource' | 'Parameters'>,
): TaskState {
  return {
    Type: 'Task',
    Resource: refs.conductorFunctionArn,
    Parameters: { step, ...parameters },
    Retry: [{ ErrorEquals: LAMBDA_TRANSIENT_ERRORS, IntervalSeconds: 1, MaxAttempts: 3, BackoffRate: 2 }],
    ...rest,
  };
}

export interface HostCommandTiming {
  /** Upper bound for the whole command on the host. */
  timeoutSeconds: number;
  /** The agent heartbeats while it works; silence this long means the host is gone. */
  heartbeatSeconds: number;
}

/**
 * Sends a command (prepared by the previous conductor step at `commandPath`) to a host's queue and
 * waits for the agent's answer. Per-instance ordering comes from MessageGroupId = instance uuid.
 */
export function hostCommand(
  commandPath: string,
  timing: HostCommandTiming,
  rest: Omit<TaskState, 'Type' | 'Resource' | 'Parameters' | 'TimeoutSeconds' | 'HeartbeatSeconds'>,
): TaskState {
  return {
    Type: 'Task',
    Resource: SQS_SEND_AND_WAIT,
    Parameters: {
      'QueueUrl.$': `${commandPath}.queue_url`,
      MessageBody: {
        'command_id.$': `${commandPath}.command_id`,
        'name.$': `${commandPath}.name`,
        'host.$': `${commandPath}.host`,
        'instance.$': `${commandPath}.instance`,
        'params.$': `${commandPath}.params`,
        'task_token.$': '$$.Task.Token',
      },
      'MessageGroupId.$': `${commandPath}.instance_uuid`,
      'MessageDeduplicationId.$': `${commandPath}.command_id`,
    },
    TimeoutSeconds: timing.timeoutSeconds,
    HeartbeatSeconds: timing.heartbeatSeconds,
    ...rest,
  };
}

export const CATCH_ALL = ['States.ALL'];
