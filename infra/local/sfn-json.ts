import type { RunOptions, StateMachine } from 'aws-local-stepfunctions';

// The interpreter's own JSON and event types are not exported by name; derive them from what is.
export type TaskHandlers = NonNullable<NonNullable<RunOptions['overrides']>['taskResourceLocalHandlers']>;
export type Json = Parameters<TaskHandlers[string]>[0];
export type JsonObject = { [key: string]: Json };
export type InterpreterEvent =
  ReturnType<StateMachine['run']>['eventLogs'] extends AsyncGenerator<infer Event> ? Event : never;

/** The value as it would arrive after a trip through JSON (what AWS does to every payload). */
export function toJson(value: unknown): Json {
  const text = JSON.stringify(value);
  return text === undefined ? null : (JSON.parse(text) as Json);
}

/** Parses JSON text, or returns undefined when the text is not JSON. */
export function parseJson(text: string): Json | undefined {
  try {
    return JSON.parse(text) as Json;
  } catch {
    return undefined;
  }
}

export function isJsonObject(value: Json | undefined): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Replaces `needle` inside every string of a JSON value. */
export function replaceInStrings(value: Json, needle: string, replacement: string): Json {
  if (typeof value === 'string') return value.replaceAll(needle, replacement);
  if (Array.isArray(value)) return value.map((item) => replaceInStrings(item, needle, replacement));
  if (isJsonObject(value)) {
    return Object.fromEntries(
      Object.entries(value).map(([key, item]) => [key, replaceInStrings(item, needle, replacement)]),
    );
  }
  return value;
}

/** True when `needle` occurs in any string of a JSON value. */
export function containsInStrings(value: Json, needle: string): boolean {
  if (typeof value === 'string') return value.includes(needle);
  if (Array.isArray(value)) return value.some((item) => containsInStrings(item, needle));
  if (isJsonObject(value)) return Object.values(value).some((item) => containsInStrings(item, needle));
  return false;
}
