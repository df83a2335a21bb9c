import { type ConductorContext, createConductorContext } from './context.ts';
import { runStep } from './steps.ts';

// The one Lambda function behind every conductor Task state. The context is built once per
// container: it holds configuration and an HTTP database client, no request state.
let context: ConductorContext | undefined;

export async function handler(event: unknown): Promise<unknown> {
  context ??= createConductorContext(process.env);
  return runStep(context, event);
}
