// Turns a definition given to CreateStateMachine into something the interpreter can run, and lists
// the Task states that need a local handler.
import { StateMachine, type StateMachineDefinition } from 'aws-local-stepfunctions';
import * as v from 'valibot';
import { isJsonObject, type Json, type JsonObject, parseJson } from './sfn-json.ts';
import { SfnServiceError } from './sfn-protocol.ts';

export interface TaskStateSpec {
  name: string;
  resource: string;
  timeoutSeconds?: number;
  timeoutSecondsPath?: string;
  heartbeatSeconds?: number;
  heartbeatSecondsPath?: string;
}

export interface CompiledDefinition {
  /** The definition text exactly as given (DescribeStateMachine returns it). */
  text: string;
  /** Whitespace-insensitive form, to tell an idempotent create from a conflicting one. */
  canonical: string;
  machine: StateMachine;
  taskStates: TaskStateSpec[];
}

const TaskStateFields = v.looseObject({
  Resource: v.string(),
  TimeoutSeconds: v.optional(v.number()),
  TimeoutSecondsPath: v.optional(v.string()),
  HeartbeatSeconds: v.optional(v.number()),
  HeartbeatSecondsPath: v.optional(v.string()),
});

// AWS lets a task run up to 99999999 s when TimeoutSeconds is absent, but the interpreter defaults to
// 60 s; the largest delay a Node timer accepts (2^31-1 ms) stands in for "no practical limit".
const NO_PRACTICAL_TIMEOUT_SECONDS = 2_147_483;

export function compileDefinition(text: string): CompiledDefinition {
  const definition = parseJson(text);
  if (!isJsonObject(definition)) throw invalid('the definition must be a JSON object');
  rejectJsonata(definition);
  try {
    // The constructor runs asl-validator over the whole shape, so the cast only names what it checks.
    new StateMachine(definition as unknown as StateMachineDefinition);
  } catch (error) {
    throw invalid(error instanceof Error ? error.message : String(error));
  }
  const taskStates: TaskStateSpec[] = [];
  forEachState(definition, (name, state) => {
    if (state.Type !== 'Task') return;
    const fields = v.parse(TaskStateFields, state);
    taskStates.push({
      name,
      resource: fields.Resource,
      timeoutSeconds: fields.TimeoutSeconds,
      timeoutSecondsPath: fields.TimeoutSecondsPath,
      heartbeatSeconds: fields.HeartbeatSeconds,
      heartbeatSecondsPath: fields.HeartbeatSecondsPath,
    });
  });
  return {
    text,
    canonical: JSON.stringify(definition),
    machine: new StateMachine(withExplicitTaskTimeouts(definition) as unknown as StateMachineDefinition, {
      validationOptions: { noValidate: true },
    }),
    taskStates,
  };
}

function invalid(reason: string): SfnServiceError {
  return new SfnServiceError('InvalidDefinition', `Invalid State Machine Definition: ${reason}`);
}

// The interpreter silently ignores JSONata (Arguments, Output, Condition), so such a machine would run
// with wrong data instead of failing; refuse it up front.
function rejectJsonata(definition: JsonObject): void {
  const usesJsonata = (scope: JsonObject) => scope.QueryLanguage === 'JSONata';
  if (usesJsonata(definition)) throw invalid('JSONata is not supported locally; use JSONPath');
  forEachState(definition, (name, state) => {
    if (usesJsonata(state)) throw invalid(`state ${name} uses JSONata, which is not supported locally`);
  });
}

/** Visits every state, including those nested in Parallel branches and Map processors. */
function forEachState(scope: JsonObject, visit: (name: string, state: JsonObject) => void): void {
  const states = scope.States;
  if (!isJsonObject(states)) return;
  for (const [name, state] of Object.entries(states)) {
    if (!isJsonObject(state)) continue;
    visit(name, state);
    for (const nested of nestedScopes(state)) forEachState(nested, visit);
  }
}

function nestedScopes(state: JsonObject): JsonObject[] {
  const scopes: Json[] = [];
  if (Array.isArray(state.Branches)) scopes.push(...state.Branches);
  if (state.ItemProcessor !== undefined) scopes.push(state.ItemProcessor);
  if (state.Iterator !== undefined) scopes.push(state.Iterator);
  return scopes.filter(isJsonObject);
}

function withExplicitTaskTimeouts(definition: JsonObject): JsonObject {
  const copy = structuredClone(definition);
  // AWS takes execution timeouts up to a year; a Node timer past 2^31-1 ms fires at once instead.
  if (typeof copy.TimeoutSeconds === 'number' && copy.TimeoutSeconds > NO_PRACTICAL_TIMEOUT_SECONDS) {
    copy.TimeoutSeconds = NO_PRACTICAL_TIMEOUT_SECONDS;
  }
  forEachState(copy, (_name, state) => {
    if (
      state.Type === 'Task' &&
      state.TimeoutSeconds === undefined &&
      state.TimeoutSecondsPath === undefined
    ) {
      state.TimeoutSeconds = NO_PRACTICAL_TIMEOUT_SECONDS;
    }
  });
  return copy;
}
