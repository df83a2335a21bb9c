import { SFNClient } from '@aws-sdk/client-sfn';
import { SQSClient } from '@aws-sdk/client-sqs';
import type { ControlPlaneConfig } from './config.ts';

// Local stand-ins are reached through explicit endpoints; in production both are unset and the SDK
// resolves the regional AWS endpoints.
function clientOptions(config: ControlPlaneConfig, endpoint: string | undefined) {
  const credentials =
    config.AWS_ACCESS_KEY_ID && config.AWS_SECRET_ACCESS_KEY
      ? {
          accessKeyId: config.AWS_ACCESS_KEY_ID,
          secretAccessKey: config.AWS_SECRET_ACCESS_KEY,
          ...(config.AWS_SESSION_TOKEN ? { sessionToken: config.AWS_SESSION_TOKEN } : {}),
        }
      : undefined;
  return {
    region: config.AWS_REGION,
    ...(endpoint ? { endpoint } : {}),
    ...(credentials ? { credentials } : {}),
  };
}

export function createSqsClient(config: ControlPlaneConfig): SQSClient {
  return new SQSClient(clientOptions(config, config.SQS_ENDPOINT));
}

export function createSfnClient(config: ControlPlaneConfig): SFNClient {
  return new SFNClient(clientOptions(config, config.SFN_ENDPOINT));
}

export function stateMachineArn(config: ControlPlaneConfig, workflow: string): string {
  const arn = config.STATE_MACHINE_ARNS[workflow];
  if (!arn) throw new Error(`STATE_MACHINE_ARNS has no ARN for workflow '${workflow}'`);
  return arn;
}

export function computeQueueName(config: ControlPlaneConfig, host: string): string {
  // Host names are validated (functions/api/compute-agent/credentials.ts) to be valid in an SQS queue name.
  return `${config.COMPUTE_QUEUE_PREFIX}compute-${host}.fifo`;
}
