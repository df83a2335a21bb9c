// Executions: each one an interpreter run of its machine's definition, in-process and concurrent with
// the others, kept in memory with its status, result and history.
import { randomUUID } from 'node:crypto';
import { setImmediate as nextMacrotask } from 'node:timers/promises';
import { ExecutionError, ExecutionTimeoutError } from 'aws-local-stepfunctions';
import { type ArnScope, assertExecutionArn, executionArn } from './sfn-arns.ts';
import { type EventDetails, ExecutionHistory } from './sfn-history.ts';
import { parseJson } from './sfn-json.ts';
import { SfnServiceError } from './sfn-protocol.ts';
import type { StateMachineRecord } from './sfn-state-machines.ts';
import { buildTaskHandlers, type TaskServices } from './sfn-tasks.ts';

export type ExecutionStatus = 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT' | 'ABORTED';

export interface Execution {
  readonly executionArn: string;
  readonly stateMachineArn: string;
  readonly name: string;
  readonly input: string;
  readonly startDate: Date;
  readonly history: ExecutionHistory;
  status: ExecutionStatus;
  stopDate?: Date;
  output?: string;
  error?: string;
  cause?: string;
}

interface RunningExecution extends Execution {
  /** Aborted when the execution ends, so its open tasks and tokens let go. */
  readonly ended: AbortController;
  abortInterpreter(): void;
  /** Settles once the end of the run has been recorded. */
  finished: Promise<void>;
}

type Outcome =
  | { status: 'SUCCEEDED'; output: string }
  | { status: 'FAILED' | 'TIMED_OUT'; error: string; cause: string };

export class ExecutionRegistry {
  readonly #executions = new Map<string, RunningExecution>();
  readonly #scope: ArnScope;
  readonly #services: TaskServices;

  constructor(scope: ArnScope, services: TaskServices) {
    this.#scope = scope;
    this.#services = services;
  }

  /**
   * Idempotent like StartExecution on AWS: the same name and input while the execution still runs
   * returns it again; any other reuse of a name is ExecutionAlreadyExists.
   */
  start(machine: StateMachineRecord, name: string | undefined, inputText: string): Execution {
    const executionName = name ?? randomUUID();
    const arn = executionArn(this.#scope, machine.name, executionName);
    const existing = this.#executions.get(arn);
    if (existing !== undefined) {
      if (existing.status === 'RUNNING' && existing.input === inputText) return existing;
      throw new SfnServiceError('ExecutionAlreadyExists', `Execution Already Exists: '${arn}'`);
    }
    const input = parseJson(inputText);
    if (input === undefined) {
      throw new SfnServiceError(
        'InvalidExecutionInput',
        'Invalid State Machine Execution Input: not valid JSON',
      );
    }
    const history = new ExecutionHistory();
    history.record('ExecutionStarted', {
      executionStartedEventDetails: {
        input: inputText,
        inputDetails: { truncated: false },
        roleArn: machine.roleArn,
      },
    });
    const ended = new AbortController();
    // Real inputs never contain this value, so each callback task can find and replace it with its own token.
    const tokenSentinel = `local-sfn-task-token-${randomUUID()}`;
    const { compiled } = machine;
    const run = compiled.machine.run(input, {
      overrides: {
        taskResourceLocalHandlers: buildTaskHandlers(compiled.taskStates, this.#services, {
          signal: ended.signal,
          tokenSentinel,
          history,
        }),
      },
      noThrowOnAbort: true,
      context: { Task: { Token: tokenSentinel } },
    });
    const execution: RunningExecution = {
      executionArn: arn,
      stateMachineArn: machine.stateMachineArn,
      name: executionName,
      input: inputText,
      startDate: new Date(),
      history,
      status: 'RUNNING',
      ended,
      abortInterpreter: run.abort,
      finished: Promise.resolve(),
    };
    this.#executions.set(arn, execution);
    void history.follow(run.eventLogs);
    execution.finished = run.result.then(
      (output) => finish(execution, { status: 'SUCCEEDED', output: JSON.stringify(output) }),
      (error: unknown) => finish(execution, outcomeOfFailure(error)),
    );
    return execution;
  }

  get(arn: string): Execution {
    return this.#find(arn);
  }

  #find(arn: string): RunningExecution {
    assertExecutionArn(arn);
    const execution = this.#executions.get(arn);
    if (execution === undefined) {
      throw new SfnServiceError('ExecutionDoesNotExist', `Execution Does Not Exist: '${arn}'`);
    }
    return execution;
  }

  /** Newest first, like ListExecutions. */
  list(stateMachineArn: string, status?: ExecutionStatus): Execution[] {
    return [...this.#executions.values()]
      .filter((execution) => execution.stateMachineArn === stateMachineArn)
      .filter((execution) => status === undefined || execution.status === status)
      .reverse();
  }

  /** Aborts a running execution; stopping one that has already ended changes nothing. */
  stop(arn: string, error: string | undefined, cause: string | undefined): Date {
    const execution = this.#find(arn);
    if (execution.status === 'RUNNING') {
      execution.status = 'ABORTED';
      execution.stopDate = new Date();
      execution.error = error;
      execution.cause = cause;
      execution.history.record('ExecutionAborted', { executionAbortedEventDetails: { error, cause } });
      execution.ended.abort();
      execution.abortInterpreter();
    }
    return execution.stopDate ?? new Date();
  }

  /** Aborts every running execution and waits until each has let go of its tasks and timers. */
  async stopAll(): Promise<void> {
    const running = [...this.#executions.values()].filter((execution) => execution.status === 'RUNNING');
    for (const execution of running) {
      this.stop(execution.executionArn, 'States.Aborted', 'The local Step Functions endpoint was stopped');
    }
    await Promise.all(running.map((execution) => execution.finished));
  }
}

async function finish(execution: RunningExecution, outcome: Outcome): Promise<void> {
  execution.ended.abort();
  // A stopped execution was already recorded as ABORTED; the interpreter then merely reports the abort.
  if (execution.status !== 'RUNNING') return;
  execution.status = outcome.status;
  execution.stopDate = new Date();
  if (outcome.status === 'SUCCEEDED') {
    execution.output = outcome.output;
  } else {
    execution.error = outcome.error;
    execution.cause = outcome.cause;
  }
  // The interpreter's last state events reach the history reader a few microtasks after the result;
  // let them land so the execution's end stays the last event.
  await nextMacrotask();
  execution.history.record(...terminalEvent(outcome));
}

function outcomeOfFailure(error: unknown): Outcome {
  if (error instanceof ExecutionTimeoutError) {
    return {
      status: 'TIMED_OUT',
      error: 'States.Timeout',
      cause: 'The execution ran longer than its TimeoutSeconds',
    };
  }
  // ExecutionError wraps the error that ended the run: its name is the state's Error, its message the Cause.
  const reason = error instanceof ExecutionError && error.cause instanceof Error ? error.cause : error;
  return reason instanceof Error
    ? { status: 'FAILED', error: reason.name, cause: reason.message }
    : { status: 'FAILED', error: 'States.Runtime', cause: String(reason) };
}

function terminalEvent(outcome: Outcome): [string, EventDetails] {
  switch (outcome.status) {
    case 'SUCCEEDED':
      return [
        'ExecutionSucceeded',
        { executionSucceededEventDetails: { output: outcome.output, outputDetails: { truncated: false } } },
      ];
    case 'FAILED':
      return [
        'ExecutionFailed',
        { executionFailedEventDetails: { error: outcome.error, cause: outcome.cause } },
      ];
    case 'TIMED_OUT':
      return [
        'ExecutionTimedOut',
        { executionTimedOutEventDetails: { error: outcome.error, cause: outcome.cause } },
      ];
  }
}
