// The local stand-in for AWS Step Functions: the AWS JSON 1.0 API on 127.0.0.1, so the unchanged
// @aws-sdk/client-sfn talks to it, with executions run in-process by aws-local-stepfunctions.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { TaskTokenRegistry } from './sfn-callbacks.ts';
import { ExecutionRegistry } from './sfn-executions.ts';
import { runOperation, type SfnState } from './sfn-operations.ts';
import { operationOf, readJsonBody, SfnServiceError, sendError, sendReply } from './sfn-protocol.ts';
import { StateMachineRegistry } from './sfn-state-machines.ts';

export interface SfnEndpointOptions {
  /** 0 or undefined: any free port on 127.0.0.1. */
  port?: number;
  region: string;
  accountId: string;
  /**
   * Runs a Lambda task. `functionArn` is the Task's Resource when that is a function ARN, or the
   * Parameters' FunctionName for arn:aws:states:::lambda:invoke; `payload` is the task's effective
   * input (the Parameters' Payload for lambda:invoke). A thrown Error is a Lambda function error:
   * its `name` becomes the state's Error.
   */
  invokeLambda(functionArn: string, payload: unknown): Promise<unknown>;
  /** Where sqs:sendMessage and sqs:sendMessage.waitForTaskToken tasks send. */
  sqs: SQSClient;
}

export interface SfnEndpoint {
  /** e.g. http://127.0.0.1:41234, for `new SFNClient({ endpoint: url, ... })`. */
  readonly url: string;
  /** Aborts all running executions (which lets go of their tokens and timers) and closes the server. */
  stop(): Promise<void>;
}

export async function startSfnEndpoint(options: SfnEndpointOptions): Promise<SfnEndpoint> {
  const scope = { region: options.region, accountId: options.accountId };
  const tokens = new TaskTokenRegistry();
  const state: SfnState = {
    machines: new StateMachineRegistry(scope),
    executions: new ExecutionRegistry(scope, {
      region: options.region,
      invokeLambda: options.invokeLambda,
      sqs: options.sqs,
      tokens,
    }),
    tokens,
  };
  const server = createServer((request, response) => {
    void answer(request, response, state);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    async stop() {
      await state.executions.stopAll();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      // The SDK keeps connections alive; without this, close() would wait for them to idle out.
      server.closeAllConnections();
      await closed;
    },
  };
}

async function answer(request: IncomingMessage, response: ServerResponse, state: SfnState): Promise<void> {
  try {
    const operation = operationOf(request);
    const body = await readJsonBody(request);
    sendReply(response, 200, runOperation(operation, body, state));
  } catch (error) {
    if (error instanceof SfnServiceError) {
      sendError(response, error);
      return;
    }
    sendError(response, new SfnServiceError('InternalFailure', 'The local endpoint failed to answer', 500));
    console.error('sfn-endpoint: request failed', error);
  }
}
