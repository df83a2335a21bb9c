import type { Context } from 'hono';
import * as v from 'valibot';
import { BadRequest } from '../../shared/errors.ts';

function describeIssues(issues: v.BaseIssue<unknown>[]): string {
  return issues
    .map((issue) => {
      const path = v.getDotPath(issue);
      return path ? `Invalid input for field '${path}': ${issue.message}` : `Invalid input: ${issue.message}`;
    })
    .join('; ');
}

export function parseOrBadRequest<TSchema extends v.GenericSchema>(
  schema: TSchema,
  input: unknown,
): v.InferOutput<TSchema> {
  const result = v.safeParse(schema, input, { abortPipeEarly: true });
  if (!result.success) throw new BadRequest(describeIssues(result.issues));
  return result.output;
}

/** Parses and validates a JSON body; a malformed body is a 400, never a 500. */
export async function readJson<TSchema extends v.GenericSchema>(
  c: Context,
  schema: TSchema,
): Promise<v.InferOutput<TSchema>> {
  let body: unknown;
  try {
    body = await c.req.json();
  } catch {
    throw new BadRequest('Malformed request body: expected a JSON document');
  }
  return parseOrBadRequest(schema, body);
}

export function readQuery<TSchema extends v.GenericSchema>(
  c: Context,
  schema: TSchema,
): v.InferOutput<TSchema> {
  return parseOrBadRequest(schema, c.req.query());
}
