// Task tokens of callback (.waitForTaskToken) tasks: one fresh token per task attempt, settled by
// SendTaskSuccess/SendTaskFailure, kept alive by SendTaskHeartbeat.
import { randomBytes } from 'node:crypto';
import type { Json } from './sfn-json.ts';
import { SfnServiceError } from './sfn-protocol.ts';

/** The state's error when the worker stays silent longer than HeartbeatSeconds. */
class HeartbeatTimeoutError extends Error {
  constructor(heartbeatSeconds: number) {
    super(`No heartbeat was received within ${heartbeatSeconds} s`);
    this.name = 'States.HeartbeatTimeout';
  }
}

/** The state's error after SendTaskFailure: Error and Cause exactly as the worker sent them. */
class TaskFailureReported extends Error {
  constructor(error: string, cause: string) {
    super(cause);
    this.name = error;
  }
}

interface PendingTask {
  resolve(output: Json): void;
  reject(error: Error): void;
  heartbeatSeconds?: number;
  heartbeatTimer?: NodeJS.Timeout;
}

export class TaskTokenRegistry {
  readonly #pending = new Map<string, PendingTask>();
  // Tokens that existed once: answering them is TaskTimedOut, as on AWS, rather than TaskDoesNotExist.
  readonly #closed = new Set<string>();

  /** Issues an unguessable token whose `result` settles when a worker answers (or the task ends). */
  open(heartbeatSeconds: number | undefined): { token: string; result: Promise<Json> } {
    const token = randomBytes(48).toString('base64url');
    const { promise, resolve, reject } = Promise.withResolvers<Json>();
    // The caller awaits `result` only after it has sent the message; until then an early heartbeat
    // timeout must not count as an unhandled rejection.
    promise.catch(() => undefined);
    const task: PendingTask = { resolve, reject, heartbeatSeconds };
    this.#pending.set(token, task);
    this.#armHeartbeat(token, task);
    return { token, result: promise };
  }

  succeed(token: string, output: Json): void {
    this.#take(token).resolve(output);
  }

  fail(token: string, error: string, cause: string): void {
    this.#take(token).reject(new TaskFailureReported(error, cause));
  }

  heartbeat(token: string): void {
    const task = this.#find(token);
    this.#armHeartbeat(token, task);
  }

  /** Ends a task nobody answered; `error` (if any) is what the waiting state sees. */
  close(token: string, error?: Error): void {
    const task = this.#pending.get(token);
    if (task === undefined) return;
    this.#forget(token, task);
    if (error !== undefined) task.reject(error);
  }

  #armHeartbeat(token: string, task: PendingTask): void {
    const seconds = task.heartbeatSeconds;
    if (seconds === undefined) return;
    clearTimeout(task.heartbeatTimer);
    task.heartbeatTimer = setTimeout(
      () => this.close(token, new HeartbeatTimeoutError(seconds)),
      seconds * 1000,
    );
  }

  #take(token: string): PendingTask {
    const task = this.#find(token);
    this.#forget(token, task);
    return task;
  }

  #find(token: string): PendingTask {
    const task = this.#pending.get(token);
    if (task !== undefined) return task;
    if (this.#closed.has(token)) {
      throw new SfnServiceError('TaskTimedOut', "Task Timed Out: 'Provided task does not exist anymore'");
    }
    throw new SfnServiceError('TaskDoesNotExist', 'Task does not exist');
  }

  #forget(token: string, task: PendingTask): void {
    clearTimeout(task.heartbeatTimer);
    this.#pending.delete(token);
    this.#closed.add(token);
  }
}
