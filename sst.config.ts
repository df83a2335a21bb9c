/// <reference path="./.sst/platform/config.d.ts" />

// Production: API worker on Cloudflare, Step Functions + conductor Lambda on AWS, PlanetScale via
// secrets (shared/DESIGN.md "Production shape"). Provider versions are the ones SST 4.17.1 is built with.
export default $config({
  app(input) {
    return {
      name: 'nova-serverless',
      home: 'aws',
      removal: input?.stage === 'production' ? 'retain' : 'remove',
      protect: input?.stage === 'production',
      providers: { aws: '7.20.0', cloudflare: '6.15.0' },
    };
  },
  async run() {
    // SST only provides its globals inside run(), so infra/ is imported here rather than at the top.
    const { declareSecrets, secretValues } = await import('./infra/database.ts');
    const { awsScope, computeQueues } = await import('./infra/queues.ts');
    const { deployWorkflows } = await import('./infra/workflows.ts');
    const { deployApi } = await import('./infra/api.ts');

    const scope = awsScope();
    const queues = computeQueues(scope);
    const secrets = secretValues(declareSecrets());
    const workflows = deployWorkflows({ scope, queues, secrets });
    const api = deployApi({ scope, queues, workflows, secrets });

    return {
      ApiUrl: api.url,
      ConductorFunction: workflows.conductor.name,
      StateMachineArns: workflows.stateMachineArns,
      ComputeQueuePrefix: queues.prefix,
    };
  },
});
