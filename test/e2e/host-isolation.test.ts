import { GetQueueAttributesCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { eq } from 'drizzle-orm';
import { beforeAll, describe, expect, it } from 'vitest';
import { computeCommands, services } from '../../schema/tables/index.ts';
import { createServer, login, primaryDb, stackInfo, waitForServer } from '../helpers/api.ts';
import { hostClient, issueHostCredential } from '../helpers/hosts.ts';
import { waitUntil } from '../helpers/wait.ts';

// Two hosts played by the test itself (no agent process), each alone in its own zone, so that a
// boot into ZONE_B puts its spawn command on host B's queue only.
const HOST_A = 'isolation-a';
const HOST_B = 'isolation-b';
const ZONE_B = 'az-isolation-b';

function registration(host: string, zone: string) {
  return {
    host,
    availability_zone: zone,
    hypervisor_hostname: host,
    hypervisor_type: 'fake',
    hypervisor_version: 1,
    vcpus: 8,
    memory_mb: 8192,
    local_gb: 100,
    supported_objects: { Instance: '1.0' },
  };
}

describe('an agent acts only on its own host', () => {
  let asA: ReturnType<typeof hostClient>;
  let asB: ReturnType<typeof hostClient>;
  let token: string;

  beforeAll(async () => {
    token = await login();
    asA = hostClient(HOST_A, await issueHostCredential(HOST_A));
    asB = hostClient(HOST_B, await issueHostCredential(HOST_B));
    expect((await asA('POST', '/register', registration(HOST_A, 'az-isolation-a'))).status).toBe(200);
    expect((await asB('POST', '/register', registration(HOST_B, ZONE_B))).status).toBe(200);
  });

  it('refuses a wrong credential and a registration for another host name', async () => {
    const forged = hostClient(HOST_B, 'not-the-secret');
    expect((await forged('POST', '/commands/receive', { wait_seconds: 0 })).status).toBe(401);
    const impersonation = await asA('POST', '/register', registration(HOST_B, ZONE_B));
    expect(impersonation.status).toBe(400);
  });

  it("answers 403 when host A tries to complete host B's task, and lets B complete it", async () => {
    const id = await createServer(token, { name: 'isolated', availability_zone: ZONE_B });
    const commandId = await waitUntil(
      "the spawn command on host B's queue",
      async () => {
        const received = await asB('POST', '/commands/receive', { wait_seconds: 1, max: 10 });
        const commands = (received.body as { commands: Array<{ command_id: string; name: string }> })
          .commands;
        return commands.find((command) => command.name === 'spawn')?.command_id;
      },
      // The receive long-polls for a second: no pause needed between tries.
      { timeoutMs: 15_000, intervalMs: 0 },
    );
    // Host A's own queue never sees B's command.
    const seenByA = await asA('POST', '/commands/receive', { wait_seconds: 0, max: 10 });
    expect(seenByA.body).toEqual({ commands: [] });

    const forgedResult = await asA('POST', `/commands/${commandId}/result`, {
      status: 'succeeded',
      output: {},
    });
    expect(forgedResult.status).toBe(403);
    expect(forgedResult.body).toHaveProperty('forbidden.code', 403);
    expect((await asA('POST', `/commands/${commandId}/heartbeat`)).status).toBe(403);
    const [row] = await primaryDb()
      .select()
      .from(computeCommands)
      .where(eq(computeCommands.command_id, commandId));
    expect(row).toMatchObject({ host: HOST_B, status: 'delivered' });

    expect((await asB('POST', `/commands/${commandId}/heartbeat`)).status).toBe(204);
    const result = await asB('POST', `/commands/${commandId}/result`, {
      status: 'succeeded',
      output: { power_state: 1 },
    });
    expect(result.status).toBe(204);
    const server = await waitForServer(token, id, ['ACTIVE', 'ERROR']);
    expect(server?.status).toBe('ACTIVE');
    expect(server?.['os-extended-server-attributes:host']).toBe(HOST_B);
    // A repeated answer is accepted; a contradicting one is a conflict.
    expect(
      (await asB('POST', `/commands/${commandId}/result`, { status: 'succeeded', output: {} })).status,
    ).toBe(204);
    const contradiction = await asB('POST', `/commands/${commandId}/result`, {
      status: 'failed',
      error: { type: 'Oops', message: 'changed my mind' },
    });
    expect(contradiction.status).toBe(409);
  });

  it('drops a message on its queue that is not a command, instead of failing every receive', async () => {
    const [service] = await primaryDb().select().from(services).where(eq(services.host, HOST_A));
    const sqs = new SQSClient({
      region: 'us-east-1',
      endpoint: stackInfo().sqsEndpoint,
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    });
    await sqs.send(
      new SendMessageCommand({
        QueueUrl: service?.queue_url ?? '',
        MessageBody: 'not json at all',
        MessageGroupId: 'garbage',
        MessageDeduplicationId: crypto.randomUUID(),
      }),
    );
    const first = await asA('POST', '/commands/receive', { wait_seconds: 1, max: 10 });
    expect(first.status).toBe(200);
    expect(first.body).toEqual({ commands: [] });
    const left = await sqs.send(
      new GetQueueAttributesCommand({
        QueueUrl: service?.queue_url ?? '',
        AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
      }),
    );
    expect(left.Attributes).toMatchObject({
      ApproximateNumberOfMessages: '0',
      ApproximateNumberOfMessagesNotVisible: '0',
    });
  });

  it('refuses an agent that does not understand the Instance object major version', async () => {
    const host = 'isolation-old-agent';
    const asOld = hostClient(host, await issueHostCredential(host));
    const response = await asOld('POST', '/register', {
      ...registration(host, 'az-isolation-old'),
      supported_objects: { Instance: '0.9' },
    });
    expect(response.status).toBe(400);
    expect(JSON.stringify(response.body)).toMatch(/Instance 0\.9 is not 1\.x/);
  });
});
