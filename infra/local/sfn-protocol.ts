// The AWS JSON 1.0 wire protocol as the Step Functions SDK speaks it: POST /, the operation in
// `X-Amz-Target: AWSStepFunctions.<Op>`, JSON bodies, errors as `{"__type", "message"}` with HTTP 400.
import type { IncomingMessage, ServerResponse } from 'node:http';
import * as v from 'valibot';
import { parseJson } from './sfn-json.ts';

const TARGET_PREFIX = 'AWSStepFunctions.';
const CONTENT_TYPE = 'application/x-amz-json-1.0';
// Definitions may be 1 MiB and inputs 256 KiB; anything far above that is not a Step Functions request.
const MAX_BODY_BYTES = 4 * 1024 * 1024;

/** An error the SDK turns into a typed exception named `type` (e.g. ExecutionDoesNotExist). */
export class SfnServiceError extends Error {
  constructor(
    readonly type: string,
    message: string,
    readonly status = 400,
  ) {
    super(message);
    this.name = type;
  }
}

/** Validates a request body; a bad one is a ValidationException naming the offending field. */
export function parseRequest<const Schema extends v.GenericSchema>(
  schema: Schema,
  body: unknown,
): v.InferOutput<Schema> {
  const parsed = v.safeParse(schema, body);
  if (parsed.success) return parsed.output;
  const problems = parsed.issues.map((issue) => `${v.getDotPath(issue) ?? 'body'}: ${issue.message}`);
  throw new SfnServiceError('ValidationException', problems.join('; '));
}

/** The operation named by the request, or an error reply for anything that is not one. */
export function operationOf(request: IncomingMessage): string {
  const target = request.headers['x-amz-target'];
  if (request.method !== 'POST' || request.url !== '/' || typeof target !== 'string') {
    throw new SfnServiceError('UnknownOperationException', 'Expected POST / with an X-Amz-Target header');
  }
  if (!target.startsWith(TARGET_PREFIX)) {
    throw new SfnServiceError('UnknownOperationException', `Unknown target ${target}`);
  }
  return target.slice(TARGET_PREFIX.length);
}

export async function readJsonBody(request: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    const buffer = chunk as Buffer;
    size += buffer.length;
    if (size > MAX_BODY_BYTES) throw new SfnServiceError('ValidationException', 'Request body is too large');
    chunks.push(buffer);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  if (text.trim() === '') return {};
  try {
    return JSON.parse(text);
  } catch {
    throw new SfnServiceError('SerializationException', 'Request body is not valid JSON');
  }
}

export function sendReply(response: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  response.writeHead(status, {
    'content-type': CONTENT_TYPE,
    'content-length': Buffer.byteLength(text),
  });
  response.end(text);
}

export function sendError(response: ServerResponse, error: SfnServiceError): void {
  sendReply(response, error.status, { __type: error.type, message: error.message });
}

/** Timestamps travel as epoch seconds (with fractions) in this protocol. */
export function epochSeconds(date: Date): number {
  return date.getTime() / 1000;
}

const DEFAULT_PAGE_SIZE = 100;

/** Offset-based paging behind an opaque nextToken, as the List* and GetExecutionHistory calls expect. */
export function paginate<T>(
  items: readonly T[],
  maxResults: number | undefined,
  nextToken: string | undefined,
): { page: T[]; nextToken?: string } {
  const start = nextToken === undefined ? 0 : decodePageToken(nextToken);
  const size = maxResults === undefined || maxResults === 0 ? DEFAULT_PAGE_SIZE : maxResults;
  const end = start + size;
  const page = items.slice(start, end);
  return end < items.length ? { page, nextToken: encodePageToken(end) } : { page };
}

function encodePageToken(offset: number): string {
  return Buffer.from(JSON.stringify({ offset })).toString('base64url');
}

function decodePageToken(token: string): number {
  const decoded = v.safeParse(
    v.object({ offset: v.pipe(v.number(), v.integer(), v.minValue(0)) }),
    parseJson(Buffer.from(token, 'base64url').toString('utf8')),
  );
  if (!decoded.success) throw new SfnServiceError('InvalidToken', 'nextToken is not valid');
  return decoded.output.offset;
}
