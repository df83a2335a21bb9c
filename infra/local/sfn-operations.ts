// The Step Functions API operations the local endpoint answers: each validates its request body and
// returns the reply body the SDK expects.
import * as v from 'valibot';
import { ResourceName } from './sfn-arns.ts';
import type { TaskTokenRegistry } from './sfn-callbacks.ts';
import type { Execution, ExecutionRegistry } from './sfn-executions.ts';
import { parseJson } from './sfn-json.ts';
import { epochSeconds, paginate, parseRequest, SfnServiceError } from './sfn-protocol.ts';
import type { StateMachineRecord, StateMachineRegistry } from './sfn-state-machines.ts';

export interface SfnState {
  machines: StateMachineRegistry;
  executions: ExecutionRegistry;
  tokens: TaskTokenRegistry;
}

const Arn = v.pipe(v.string(), v.minLength(1), v.maxLength(2048));
const Definition = v.pipe(v.string(), v.minLength(1), v.maxLength(1024 * 1024));
const MaxResults = v.optional(v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(1000)));
const NextToken = v.optional(v.pipe(v.string(), v.minLength(1), v.maxLength(1024)));
const TaskToken = v.pipe(v.string(), v.minLength(1), v.maxLength(2048));
const Payload = v.pipe(v.string(), v.maxLength(256 * 1024));
const ExecutionStatus = v.picklist(['RUNNING', 'SUCCEEDED', 'FAILED', 'TIMED_OUT', 'ABORTED']);

const CreateStateMachineRequest = v.object({
  name: ResourceName,
  definition: Definition,
  roleArn: Arn,
  type: v.optional(v.picklist(['STANDARD'], 'only STANDARD state machines run on the local endpoint')),
});
const UpdateStateMachineRequest = v.object({
  stateMachineArn: Arn,
  definition: v.optional(Definition),
  roleArn: v.optional(Arn),
});
const StateMachineRequest = v.object({ stateMachineArn: Arn });
const ListStateMachinesRequest = v.object({ maxResults: MaxResults, nextToken: NextToken });
const StartExecutionRequest = v.object({
  stateMachineArn: Arn,
  name: v.optional(ResourceName),
  input: v.optional(Payload),
  traceHeader: v.optional(v.string()),
});
const ExecutionRequest = v.object({ executionArn: Arn });
const StopExecutionRequest = v.object({
  executionArn: Arn,
  error: v.optional(v.pipe(v.string(), v.maxLength(256))),
  cause: v.optional(v.pipe(v.string(), v.maxLength(32768))),
});
const ListExecutionsRequest = v.object({
  stateMachineArn: Arn,
  statusFilter: v.optional(ExecutionStatus),
  maxResults: MaxResults,
  nextToken: NextToken,
});
const GetExecutionHistoryRequest = v.object({
  executionArn: Arn,
  maxResults: MaxResults,
  nextToken: NextToken,
  reverseOrder: v.optional(v.boolean()),
});
const SendTaskSuccessRequest = v.object({ taskToken: TaskToken, output: Payload });
const SendTaskFailureRequest = v.object({
  taskToken: TaskToken,
  error: v.optional(v.pipe(v.string(), v.maxLength(256))),
  cause: v.optional(v.pipe(v.string(), v.maxLength(32768))),
});
const SendTaskHeartbeatRequest = v.object({ taskToken: TaskToken });

type Operation = (body: unknown, state: SfnState) => unknown;

const OPERATIONS: Record<string, Operation> = {
  CreateStateMachine(body, { machines }) {
    const request = parseRequest(CreateStateMachineRequest, body);
    const machine = machines.create(request.name, request.definition, request.roleArn);
    return { stateMachineArn: machine.stateMachineArn, creationDate: epochSeconds(machine.creationDate) };
  },
  UpdateStateMachine(body, { machines }) {
    const { stateMachineArn, ...changes } = parseRequest(UpdateStateMachineRequest, body);
    machines.update(stateMachineArn, changes);
    return { updateDate: epochSeconds(new Date()) };
  },
  DescribeStateMachine(body, { machines }) {
    const machine = machines.get(parseRequest(StateMachineRequest, body).stateMachineArn);
    return {
      stateMachineArn: machine.stateMachineArn,
      name: machine.name,
      status: 'ACTIVE',
      definition: machine.compiled.text,
      roleArn: machine.roleArn,
      type: 'STANDARD',
      creationDate: epochSeconds(machine.creationDate),
      loggingConfiguration: { level: 'OFF', includeExecutionData: false },
      tracingConfiguration: { enabled: false },
    };
  },
  ListStateMachines(body, { machines }) {
    const request = parseRequest(ListStateMachinesRequest, body);
    const { page, nextToken } = paginate(machines.list(), request.maxResults, request.nextToken);
    return { stateMachines: page.map(stateMachineListItem), nextToken };
  },
  DeleteStateMachine(body, { machines }) {
    machines.delete(parseRequest(StateMachineRequest, body).stateMachineArn);
    return {};
  },
  StartExecution(body, { machines, executions }) {
    const request = parseRequest(StartExecutionRequest, body);
    const machine = machines.get(request.stateMachineArn);
    const execution = executions.start(machine, request.name, request.input ?? '{}');
    return { executionArn: execution.executionArn, startDate: epochSeconds(execution.startDate) };
  },
  DescribeExecution(body, { executions }) {
    const execution = executions.get(parseRequest(ExecutionRequest, body).executionArn);
    return {
      ...executionListItem(execution),
      input: execution.input,
      inputDetails: { included: true },
      output: execution.output,
      outputDetails: execution.output === undefined ? undefined : { included: true },
      error: execution.error,
      cause: execution.cause,
    };
  },
  StopExecution(body, { executions }) {
    const request = parseRequest(StopExecutionRequest, body);
    return { stopDate: epochSeconds(executions.stop(request.executionArn, request.error, request.cause)) };
  },
  ListExecutions(body, { machines, executions }) {
    const request = parseRequest(ListExecutionsRequest, body);
    const machine = machines.get(request.stateMachineArn);
    const all = executions.list(machine.stateMachineArn, request.statusFilter);
    const { page, nextToken } = paginate(all, request.maxResults, request.nextToken);
    return { executions: page.map(executionListItem), nextToken };
  },
  GetExecutionHistory(body, { executions }) {
    const request = parseRequest(GetExecutionHistoryRequest, body);
    const events = executions.get(request.executionArn).history.list();
    if (request.reverseOrder === true) events.reverse();
    const { page, nextToken } = paginate(events, request.maxResults, request.nextToken);
    return { events: page, nextToken };
  },
  SendTaskSuccess(body, { tokens }) {
    const request = parseRequest(SendTaskSuccessRequest, body);
    const output = parseJson(request.output);
    if (output === undefined) throw new SfnServiceError('InvalidOutput', 'Invalid Output: not valid JSON');
    tokens.succeed(request.taskToken, output);
    return {};
  },
  SendTaskFailure(body, { tokens }) {
    const request = parseRequest(SendTaskFailureRequest, body);
    tokens.fail(request.taskToken, request.error ?? '', request.cause ?? '');
    return {};
  },
  SendTaskHeartbeat(body, { tokens }) {
    tokens.heartbeat(parseRequest(SendTaskHeartbeatRequest, body).taskToken);
    return {};
  },
};

/** Runs one API operation; failures are SfnServiceErrors carrying the AWS error type. */
export function runOperation(operation: string, body: unknown, state: SfnState): unknown {
  const run = Object.hasOwn(OPERATIONS, operation) ? OPERATIONS[operation] : undefined;
  if (run === undefined) {
    throw new SfnServiceError(
      'UnknownOperationException',
      `${operation} is not supported by the local endpoint`,
    );
  }
  return run(body, state);
}

function stateMachineListItem(machine: StateMachineRecord) {
  return {
    stateMachineArn: machine.stateMachineArn,
    name: machine.name,
    type: 'STANDARD',
    creationDate: epochSeconds(machine.creationDate),
  };
}

function executionListItem(execution: Execution) {
  return {
    executionArn: execution.executionArn,
    stateMachineArn: execution.stateMachineArn,
    name: execution.name,
    status: execution.status,
    startDate: epochSeconds(execution.startDate),
    stopDate: execution.stopDate === undefined ? undefined : epochSeconds(execution.stopDate),
  };
}
