import { API_AWS_ACTIONS, API_ENV, API_WORKER, renderEnvironment, type SecretName } from './manifest.ts';
import { type AwsScope, apiQueueStatement, type ComputeQueues } from './queues.ts';
import type { Workflows } from './workflows.ts';

export interface ApiInput {
  scope: AwsScope;
  queues: ComputeQueues;
  workflows: Workflows;
  secrets: Record<SecretName, $util.Input<string>>;
}

// The API runs on Cloudflare, outside AWS, so it cannot assume a role: it gets an IAM user's access
// key, limited to what the API does. Compute agents get no AWS credential at all (infra/manifest.ts
// AGENT_ENV); they reach their queue only through this API.
export function deployApi({ scope, queues, workflows, secrets }: ApiInput): sst.cloudflare.Worker {
  const user = new aws.iam.User('ApiUser', {});
  new aws.iam.UserPolicy('ApiPolicy', {
    user: user.name,
    policy: aws.iam.getPolicyDocumentOutput({
      statements: [
        apiQueueStatement(queues),
        {
          actions: [...API_AWS_ACTIONS.stateMachines],
          resources: Object.values(workflows.stateMachineArns),
        },
        { actions: [...API_AWS_ACTIONS.executions], resources: workflows.executionArnPatterns },
        { actions: [...API_AWS_ACTIONS.taskTokens], resources: ['*'] },
      ],
    }).json,
  });
  const accessKey = new aws.iam.AccessKey('ApiAccessKey', { user: user.name });

  const environment = renderEnvironment<typeof API_ENV, $util.Input<string>>(API_ENV, {
    secrets,
    deployment: {
      AWS_REGION: scope.region,
      AWS_ACCESS_KEY_ID: accessKey.id,
      AWS_SECRET_ACCESS_KEY: accessKey.secret,
      STATE_MACHINE_ARNS: $jsonStringify(workflows.stateMachineArns),
      COMPUTE_QUEUE_PREFIX: queues.prefix,
    },
  });

  return new sst.cloudflare.Worker(API_WORKER, {
    handler: 'functions/api/worker.ts',
    url: true,
    // @planetscale/database sets `cache` on fetch, which workerd accepts from 2024-11-11 on.
    compatibility: { date: '2025-09-01', flags: ['nodejs_compat'] },
    environment: environment.plain,
    transform: {
      // SST binds `environment` as plain text, visible in the dashboard; credentials go as secret text.
      worker: (args) => {
        args.bindings = $util
          .all([args.bindings ?? [], environment.sensitive])
          .apply(([bindings, sensitive]) => [
            ...bindings,
            ...Object.entries(sensitive).map(([name, text]) => ({ type: 'secret_text', name, text })),
          ]);
      },
    },
  });
}
