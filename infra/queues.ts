import { API_AWS_ACTIONS, COMPUTE_QUEUE_TASK_INTEGRATIONS } from './manifest.ts';

// Per-host FIFO queues are created at runtime by the API when a host registers
// (functions/shared/aws.ts computeQueueName), so infra creates no queue: it fixes the name prefix
// and grants rights on every queue under it.

/** Partition, region and account of the AWS provider, for ARNs of resources infra does not create. */
export interface AwsScope {
  partition: $util.Output<string>;
  region: $util.Output<string>;
  accountId: $util.Output<string>;
}

export function awsScope(): AwsScope {
  return {
    partition: aws.getPartitionOutput().partition,
    region: aws.getRegionOutput().region,
    accountId: aws.getCallerIdentityOutput().accountId,
  };
}

export interface ComputeQueues {
  /** COMPUTE_QUEUE_PREFIX: per stage, so stages sharing an account never read each other's queues. */
  prefix: string;
  /** Matches `<prefix>compute-<host>.fifo` for every host. */
  arnPattern: $util.Output<string>;
}

export function computeQueues(scope: AwsScope): ComputeQueues {
  // Short on purpose: SQS names stop at 80 characters and the host name comes after it.
  const prefix = `nova-${$app.stage}-`;
  return {
    prefix,
    arnPattern: $interpolate`arn:${scope.partition}:sqs:${scope.region}:${scope.accountId}:${prefix}compute-*`,
  };
}

/** What the API does on the queues: create one per registering host, then long-poll it for that host's agent. */
export function apiQueueStatement(queues: ComputeQueues): aws.types.input.iam.GetPolicyDocumentStatementArgs {
  return { actions: [...API_AWS_ACTIONS.computeQueues], resources: [queues.arnPattern] };
}

/** What the state machines do on the queues: send a command to a host (and wait for its task token). */
export function stateMachineQueueStatement(
  queues: ComputeQueues,
): aws.types.input.iam.GetPolicyDocumentStatementArgs {
  const actions = new Set(Object.values(COMPUTE_QUEUE_TASK_INTEGRATIONS).flat());
  return { actions: [...actions], resources: [queues.arnPattern] };
}
