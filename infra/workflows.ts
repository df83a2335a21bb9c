import { WORKFLOWS, type WorkflowName } from '../workflows/index.ts';
import {
  CONDUCTOR_ENV,
  CONDUCTOR_FUNCTION,
  DEPLOYED_WORKFLOWS,
  renderEnvironment,
  SCHEDULED_WORKFLOWS,
} from './manifest.ts';
import { type AwsScope, type ComputeQueues, stateMachineQueueStatement } from './queues.ts';

export interface Workflows {
  conductor: sst.aws.Function;
  /** STATE_MACHINE_ARNS for the API, from the deployed machines. */
  stateMachineArns: Record<WorkflowName, $util.Output<string>>;
  /** Executions of every deployed machine, for the API's Stop/DescribeExecution rights. */
  executionArnPatterns: $util.Output<string>[];
}

export interface WorkflowsInput {
  scope: AwsScope;
  queues: ComputeQueues;
  secrets: { DatabaseUrl: $util.Input<string>; DatabaseReplicaUrls: $util.Input<string> };
}

// Each workflow's JSONPath ASL from workflows/ is deployed as-is with the provider's StateMachine:
// sst.aws.StepFunctions only takes its own JSONata state builders, which the local interpreter
// cannot run, and its role allows events:* and states:* on every resource.
export function deployWorkflows({ scope, queues, secrets }: WorkflowsInput): Workflows {
  const machineNames = Object.fromEntries(
    DEPLOYED_WORKFLOWS.map((workflow) => [workflow, `${$app.name}-${$app.stage}-${workflow}`]),
  ) as Record<WorkflowName, string>;

  // The conductor needs every machine's ARN while every machine's definition names the conductor;
  // spelling the ARNs from the fixed names breaks that cycle.
  const spelledArns = Object.fromEntries(
    DEPLOYED_WORKFLOWS.map((workflow) => [
      workflow,
      $interpolate`arn:${scope.partition}:states:${scope.region}:${scope.accountId}:stateMachine:${machineNames[workflow]}`,
    ]),
  );
  const environment = renderEnvironment<typeof CONDUCTOR_ENV, $util.Input<string>>(CONDUCTOR_ENV, {
    secrets,
    deployment: {
      STATE_MACHINE_ARNS: $jsonStringify(spelledArns),
      COMPUTE_QUEUE_PREFIX: queues.prefix,
    },
  });
  const conductor = new sst.aws.Function(CONDUCTOR_FUNCTION, {
    handler: 'functions/conductor/lambda.handler',
    runtime: 'nodejs24.x',
    // Steps are a few database round trips; anything slower is a fault for the state machine's Retry/Catch.
    timeout: '30 seconds',
    memory: '512 MB',
    // Lambda encrypts its environment at rest, so secrets and plain values go in the same map.
    environment: { ...environment.plain, ...environment.sensitive },
  });

  const role = new aws.iam.Role('WorkflowsRole', {
    assumeRolePolicy: aws.iam.getPolicyDocumentOutput({
      statements: [
        {
          actions: ['sts:AssumeRole'],
          principals: [{ type: 'Service', identifiers: ['states.amazonaws.com'] }],
        },
      ],
    }).json,
  });
  const policy = new aws.iam.RolePolicy('WorkflowsPolicy', {
    role: role.id,
    policy: aws.iam.getPolicyDocumentOutput({
      statements: [
        {
          actions: ['lambda:InvokeFunction'],
          resources: [conductor.arn, $interpolate`${conductor.arn}:*`],
        },
        stateMachineQueueStatement(queues),
      ],
    }).json,
  });

  const stateMachineArns = Object.fromEntries(
    DEPLOYED_WORKFLOWS.map((workflow) => {
      const machine = new aws.sfn.StateMachine(
        `${pascalCase(workflow)}Workflow`,
        {
          name: machineNames[workflow],
          type: 'STANDARD',
          roleArn: role.arn,
          definition: conductor.arn.apply((conductorFunctionArn) =>
            JSON.stringify(WORKFLOWS[workflow]({ conductorFunctionArn })),
          ),
        },
        // Step Functions checks the role's rights when the machine is created.
        { dependsOn: [policy] },
      );
      return [workflow, machine.arn];
    }),
  ) as Record<WorkflowName, $util.Output<string>>;

  scheduleWorkflows(stateMachineArns);

  return {
    conductor,
    stateMachineArns,
    executionArnPatterns: DEPLOYED_WORKFLOWS.map(
      (workflow) =>
        $interpolate`arn:${scope.partition}:states:${scope.region}:${scope.accountId}:execution:${machineNames[workflow]}:*`,
    ),
  };
}

// EventBridge Scheduler starts the scheduled machines; its role may start those machines and nothing else.
function scheduleWorkflows(stateMachineArns: Record<WorkflowName, $util.Output<string>>): void {
  const scheduled = Object.entries(SCHEDULED_WORKFLOWS) as [
    keyof typeof SCHEDULED_WORKFLOWS,
    (typeof SCHEDULED_WORKFLOWS)[keyof typeof SCHEDULED_WORKFLOWS],
  ][];
  const role = new aws.iam.Role('WorkflowSchedulesRole', {
    assumeRolePolicy: aws.iam.getPolicyDocumentOutput({
      statements: [
        {
          actions: ['sts:AssumeRole'],
          principals: [{ type: 'Service', identifiers: ['scheduler.amazonaws.com'] }],
        },
      ],
    }).json,
  });
  const policy = new aws.iam.RolePolicy('WorkflowSchedulesPolicy', {
    role: role.id,
    policy: aws.iam.getPolicyDocumentOutput({
      statements: [
        {
          actions: ['states:StartExecution'],
          resources: scheduled.map(([workflow]) => stateMachineArns[workflow]),
        },
      ],
    }).json,
  });
  for (const [workflow, { schedule, input }] of scheduled) {
    new aws.scheduler.Schedule(
      `${pascalCase(workflow)}Schedule`,
      {
        scheduleExpression: schedule,
        scheduleExpressionTimezone: 'UTC',
        flexibleTimeWindow: { mode: 'OFF' },
        target: {
          arn: stateMachineArns[workflow],
          roleArn: role.arn,
          input: JSON.stringify(input),
          retryPolicy: { maximumRetryAttempts: 3 },
        },
      },
      { dependsOn: [policy] },
    );
  }
}

function pascalCase(kebab: string): string {
  return kebab
    .split('-')
    .map((word) => word.charAt(0).toUpperCase() + word.slice(1))
    .join('');
}
