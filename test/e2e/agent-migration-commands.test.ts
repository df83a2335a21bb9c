import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import {
  CreateStateMachineCommand,
  DescribeExecutionCommand,
  type DescribeExecutionCommandOutput,
  SFNClient,
  StartExecutionCommand,
} from '@aws-sdk/client-sfn';
import { and, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { POWER_STATE } from '../../agent/drivers/driver.ts';
import { FakeDriver } from '../../agent/drivers/fake.ts';
import { makeCompatible } from '../../schema/objects/base.ts';
import type { ComputeCommandName } from '../../schema/objects/compute-command.ts';
import { InstanceObject } from '../../schema/objects/instance.ts';
import { CURRENT_OBJECT_VERSIONS } from '../../schema/objects/registry.ts';
import { instances, migrations, services } from '../../schema/tables/index.ts';
import { SQS_SEND_AND_WAIT } from '../../workflows/asl.ts';
import { primaryDb, stackInfo } from '../helpers/api.ts';
import { hostClient, issueHostCredential, startRegisteredTestAgent } from '../helpers/hosts.ts';
import { M1_TINY, newInstanceRow } from '../helpers/instance-rows.ts';
import { waitUntil } from '../helpers/wait.ts';

// The agent-facing half of unified migrations, without the migrate-server workflow: a one-state
// machine puts a command on a host's queue exactly as the workflows do (callback task, real token),
// and the test plays either the host itself (hostClient) or the admin and the conductor (DB rows).

const ZONE = 'az-agent-migration';
const DIRECT_HOST = 'agent-migration-direct';
const AGENT_HOST = 'agent-migration-agent';

let sfn: SFNClient;
let commandMachineArn: string;

beforeAll(async () => {
  sfn = new SFNClient({
    region: 'us-east-1',
    endpoint: stackInfo().sfnEndpoint,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  const created = await sfn.send(
    new CreateStateMachineCommand({
      name: `agent-migration-commands-${randomUUID()}`,
      roleArn: 'arn:aws:iam::000000000000:role/local-workflows',
      type: 'STANDARD',
      definition: JSON.stringify({
        Comment: 'One host command, as workflows/asl.ts hostCommand sends it',
        StartAt: 'Command',
        States: {
          Command: {
            Type: 'Task',
            Resource: SQS_SEND_AND_WAIT,
            Parameters: {
              'QueueUrl.$': '$.queue_url',
              MessageBody: {
                'command_id.$': '$.command_id',
                'name.$': '$.name',
                'host.$': '$.host',
                'instance.$': '$.instance',
                'params.$': '$.params',
                'task_token.$': '$$.Task.Token',
              },
              'MessageGroupId.$': '$.instance_uuid',
              'MessageDeduplicationId.$': '$.command_id',
            },
            TimeoutSeconds: 300,
            HeartbeatSeconds: 60,
            End: true,
          },
        },
      }),
    }),
  );
  commandMachineArn = created.stateMachineArn ?? '';
});

function registration(host: string) {
  return {
    host,
    availability_zone: ZONE,
    hypervisor_hostname: host,
    hypervisor_type: 'fake',
    hypervisor_version: 1,
    vcpus: 8,
    memory_mb: 8192,
    local_gb: 100,
    supported_objects: CURRENT_OBJECT_VERSIONS,
  };
}

async function queueUrlOf(host: string): Promise<string> {
  const [service] = await primaryDb()
    .select({ queue_url: services.queue_url })
    .from(services)
    .where(eq(services.host, host));
  if (!service?.queue_url) throw new Error(`${host} has no queue`);
  return service.queue_url;
}

interface SentCommand {
  commandId: string;
  executionArn: string;
}

/** Starts an execution that sends one command to `host` and waits for its answer. */
async function sendCommand(
  host: string,
  name: ComputeCommandName,
  uuid: string,
  params: Record<string, unknown> = {},
): Promise<SentCommand> {
  const commandId = randomUUID();
  const flavor = M1_TINY;
  const instance = makeCompatible(
    InstanceObject,
    {
      uuid,
      name: `vm-${uuid.slice(0, 8)}`,
      project_id: 'project-a',
      image_ref: 'image-1',
      memory_mb: flavor.memory_mb,
      vcpus: flavor.vcpus,
      root_gb: flavor.root_gb,
      host,
      node: host,
      availability_zone: ZONE,
      metadata: {},
      flavor,
      network_info: [],
    },
    InstanceObject.version,
  );
  const started = await sfn.send(
    new StartExecutionCommand({
      stateMachineArn: commandMachineArn,
      input: JSON.stringify({
        queue_url: await queueUrlOf(host),
        command_id: commandId,
        name,
        host,
        instance_uuid: uuid,
        instance,
        params,
      }),
    }),
  );
  return { commandId, executionArn: started.executionArn ?? '' };
}

async function finished(executionArn: string): Promise<DescribeExecutionCommandOutput> {
  return waitUntil(
    `execution ${executionArn} to end`,
    () => sfn.send(new DescribeExecutionCommand({ executionArn })),
    // This wait had no bound of its own, only the test's: the stack project's testTimeout.
    { timeoutMs: 60_000, intervalMs: 100, until: (execution) => execution.status !== 'RUNNING' },
  );
}

/** An in-flight live migration of `uuid` away from `source`, as the conductor records it. */
async function insertLiveMigration(uuid: string, source: string): Promise<number> {
  const [inserted] = await primaryDb()
    .insert(migrations)
    .values({
      instance_uuid: uuid,
      migration_type: 'live-migration',
      status: 'migrating',
      source_compute: source,
      dest_compute: 'agent-migration-elsewhere',
      created_at: new Date(),
    })
    .$returningId();
  if (!inserted) throw new Error('no migration row');
  return inserted.id;
}

async function migrationRow(id: number) {
  const [row] = await primaryDb().select().from(migrations).where(eq(migrations.id, id));
  if (!row) throw new Error(`migration ${id} is gone`);
  return row;
}

async function setControl(id: number, control: 'cancel' | 'force_complete'): Promise<void> {
  await primaryDb().update(migrations).set({ control }).where(eq(migrations.id, id));
}

async function insertInstance(uuid: string, host: string | null, deleted = false): Promise<void> {
  const [inserted] = await primaryDb()
    .insert(instances)
    .values(newInstanceRow({ uuid, host, node: host }))
    .$returningId();
  if (deleted && inserted) {
    await primaryDb()
      .update(instances)
      .set({ deleted: inserted.id, deleted_at: new Date() })
      .where(eq(instances.id, inserted.id));
  }
}

async function insertMove(
  uuid: string,
  source: string,
  values: { migration_type: string; status: string },
): Promise<void> {
  await primaryDb()
    .insert(migrations)
    .values({
      instance_uuid: uuid,
      source_compute: source,
      dest_compute: 'agent-migration-elsewhere',
      created_at: new Date(),
      ...values,
    });
}

describe('the agent API for migration commands, spoken directly by the host', () => {
  let asHost: ReturnType<typeof hostClient>;

  beforeAll(async () => {
    asHost = hostClient(DIRECT_HOST, await issueHostCredential(DIRECT_HOST));
    expect((await asHost('POST', '/register', registration(DIRECT_HOST))).status).toBe(200);
  });

  /** Receives until every one of `commandIds` has arrived; returns them by id. */
  async function receive(...commandIds: string[]) {
    const arrived = new Map<string, Record<string, unknown>>();
    return waitUntil(
      `commands ${commandIds.join(', ')} to arrive`,
      async () => {
        const received = await asHost('POST', '/commands/receive', { wait_seconds: 1, max: 10 });
        for (const command of (received.body as { commands: Array<Record<string, unknown>> }).commands) {
          if (commandIds.includes(String(command.command_id)))
            arrived.set(String(command.command_id), command);
        }
        return arrived;
      },
      // The receive long-polls for a second: no pause needed between tries.
      { timeoutMs: 15_000, intervalMs: 0, until: (soFar) => soFar.size === commandIds.length },
    );
  }

  it("hands the command's params to the host, writes live-migration progress and answers the admin's control", async () => {
    const uuid = randomUUID();
    const migrationId = await insertLiveMigration(uuid, DIRECT_HOST);
    // The same instance moving away from another host: not this host's row to write.
    await insertMove(uuid, 'agent-migration-other-source', {
      migration_type: 'live-migration',
      status: 'migrating',
    });
    const params = { dest_host: 'agent-migration-elsewhere', block_migration: true };
    const sent = await sendCommand(DIRECT_HOST, 'live_migration', uuid, params);
    const delivered = (await receive(sent.commandId)).get(sent.commandId);
    expect(delivered).toMatchObject({ name: 'live_migration', params });
    const beat = (body?: unknown) => asHost('POST', `/commands/${sent.commandId}/heartbeat`, body);

    const first = await beat({ progress: 40 });
    expect(first.status).toBe(200);
    expect(first.body).toEqual({ control: null });
    expect((await migrationRow(migrationId)).progress).toBe(40);
    const others = await primaryDb()
      .select({ progress: migrations.progress })
      .from(migrations)
      .where(
        and(
          eq(migrations.instance_uuid, uuid),
          eq(migrations.source_compute, 'agent-migration-other-source'),
        ),
      );
    expect(others).toEqual([{ progress: 0 }]);

    await setControl(migrationId, 'cancel');
    const second = await beat();
    expect(second.status).toBe(200);
    expect(second.body).toEqual({ control: 'cancel' });
    expect((await migrationRow(migrationId)).progress).toBe(40);

    expect((await beat({ progress: 101 })).status).toBe(400);
    expect((await beat('{"progress": ')).status).toBe(400);

    const answered = await asHost('POST', `/commands/${sent.commandId}/result`, {
      status: 'failed',
      error: { type: 'MigrationCancelled', message: 'cancelled by an admin' },
    });
    expect(answered.status).toBe(204);
    const execution = await finished(sent.executionArn);
    expect(execution).toMatchObject({ status: 'FAILED', error: 'MigrationCancelled' });
  });

  it('answers heartbeats of other commands with 204 and delivers them with empty params', async () => {
    const sent = await sendCommand(DIRECT_HOST, 'prep_resize', randomUUID());
    expect((await receive(sent.commandId)).get(sent.commandId)).toMatchObject({
      name: 'prep_resize',
      params: {},
    });
    const beat = await asHost('POST', `/commands/${sent.commandId}/heartbeat`, { progress: 10 });
    expect(beat.status).toBe(204);
    await asHost('POST', `/commands/${sent.commandId}/result`, { status: 'succeeded', output: {} });
    expect((await finished(sent.executionArn)).status).toBe('SUCCEEDED');
  });

  it('keeps a heartbeating command hidden in the queue and redelivers a silent one after the visibility timeout', async () => {
    const beating = await sendCommand(DIRECT_HOST, 'prep_resize', randomUUID());
    const silent = await sendCommand(DIRECT_HOST, 'prep_resize', randomUUID());
    await receive(beating.commandId, silent.commandId);

    // The test stack hides a received command for 5 s (test/helpers/global-setup.ts).
    const seenAgain = new Set<string>();
    await waitUntil(
      'the silent command to be delivered again',
      async () => {
        expect((await asHost('POST', `/commands/${beating.commandId}/heartbeat`)).status).toBe(204);
        const received = await asHost('POST', '/commands/receive', { wait_seconds: 2, max: 10 });
        for (const command of (received.body as { commands: Array<{ command_id: string }> }).commands)
          seenAgain.add(command.command_id);
        return seenAgain;
      },
      // The receive long-polls for two seconds: no pause needed between tries.
      { timeoutMs: 14_000, intervalMs: 0, until: (seen) => seen.has(silent.commandId) },
    );
    expect(seenAgain.has(beating.commandId)).toBe(false);

    for (const sent of [beating, silent]) {
      await asHost('POST', `/commands/${sent.commandId}/result`, { status: 'succeeded', output: {} });
      expect((await finished(sent.executionArn)).status).toBe('SUCCEEDED');
    }
  });

  it('lists, in the report answer, only the reported instances evacuated away from this host', async () => {
    const movedAway = randomUUID();
    const deletedSince = randomUUID();
    const neverInDb = randomUUID();
    const movedBack = randomUUID();
    const failedEvacuation = randomUUID();
    const coldMigrated = randomUUID();
    const evacuatedFromElsewhere = randomUUID();
    const notReported = randomUUID();
    const comingBack = randomUUID();
    const elsewhere = 'agent-migration-elsewhere';
    await insertInstance(movedAway, elsewhere);
    await insertInstance(deletedSince, elsewhere, true);
    await insertInstance(movedBack, DIRECT_HOST);
    await insertInstance(failedEvacuation, elsewhere);
    await insertInstance(coldMigrated, elsewhere);
    await insertInstance(evacuatedFromElsewhere, elsewhere);
    await insertInstance(notReported, elsewhere);
    await insertInstance(comingBack, elsewhere);
    const evacuation = (status: string) => ({ migration_type: 'evacuation', status });
    await insertMove(movedAway, DIRECT_HOST, evacuation('done'));
    await insertMove(deletedSince, DIRECT_HOST, evacuation('post-migrating'));
    await insertMove(neverInDb, DIRECT_HOST, evacuation('migrating'));
    await insertMove(movedBack, DIRECT_HOST, evacuation('done'));
    await insertMove(failedEvacuation, DIRECT_HOST, evacuation('error'));
    await insertMove(coldMigrated, DIRECT_HOST, { migration_type: 'migration', status: 'confirmed' });
    await insertMove(evacuatedFromElsewhere, 'agent-migration-other-source', evacuation('done'));
    await insertMove(notReported, DIRECT_HOST, evacuation('done'));
    // Evacuated, then live-migrating back here: the incoming guest is not a stale copy.
    await insertMove(comingBack, DIRECT_HOST, evacuation('done'));
    await insertMove(comingBack, elsewhere, { migration_type: 'live-migration', status: 'migrating' });

    const reported = [
      movedAway,
      deletedSince,
      neverInDb,
      movedBack,
      failedEvacuation,
      coldMigrated,
      evacuatedFromElsewhere,
      comingBack,
    ];
    const answer = await asHost('POST', '/report', {
      vcpus: 8,
      memory_mb: 8192,
      local_gb: 100,
      metrics: [],
      instances: reported,
    });
    expect(answer.status).toBe(200);
    expect((answer.body as { evacuated: string[] }).evacuated.sort()).toEqual(
      [movedAway, deletedSince, neverInDb].sort(),
    );

    const empty = await asHost('POST', '/report', {
      vcpus: 8,
      memory_mb: 8192,
      local_gb: 100,
      metrics: [],
      instances: [],
    });
    expect(empty.body).toEqual({ evacuated: [] });
  });
});

describe('a real agent running migration commands', () => {
  let agent: { stop(): Promise<void> };
  const guests = () =>
    new FakeDriver({
      stateDir: join(stackInfo().dataDir, 'agents', AGENT_HOST),
      hypervisorHostname: AGENT_HOST,
      vcpus: 8,
      memoryMb: 8192,
      localGb: 100,
    }).listInstances();

  beforeAll(async () => {
    agent = await startRegisteredTestAgent({
      host: AGENT_HOST,
      availabilityZone: ZONE,
      env: {
        // Left alone, a live migration would outlast the test's timeout by far.
        AGENT_FAKE_LATENCY_MS: 'live_migration=600000',
        AGENT_HEARTBEAT_INTERVAL_SECONDS: '0.2',
      },
    });
  });

  afterAll(async () => {
    await agent.stop();
  });

  async function spawned(): Promise<string> {
    const uuid = randomUUID();
    const spawn = await sendCommand(AGENT_HOST, 'spawn', uuid);
    expect((await finished(spawn.executionArn)).status).toBe('SUCCEEDED');
    return uuid;
  }

  /** Starts a live migration and waits until its progress reached the migration row. */
  async function migrating(uuid: string): Promise<{ migrationId: number; sent: SentCommand }> {
    const migrationId = await insertLiveMigration(uuid, AGENT_HOST);
    const sent = await sendCommand(AGENT_HOST, 'live_migration', uuid, {
      dest_host: 'agent-migration-elsewhere',
      block_migration: false,
    });
    await expect
      .poll(async () => (await migrationRow(migrationId)).updated_at, { timeout: 20_000 })
      .not.toBeNull();
    return { migrationId, sent };
  }

  it('completes a live migration at once when an admin forces it', async () => {
    const uuid = await spawned();
    const { migrationId, sent } = await migrating(uuid);
    await setControl(migrationId, 'force_complete');

    const execution = await finished(sent.executionArn);
    expect(execution.status).toBe('SUCCEEDED');
    expect(JSON.parse(execution.output ?? 'null')).toEqual({});
    expect((await guests()).find((guest) => guest.uuid === uuid)?.power_state).toBe(POWER_STATE.RUNNING);
  });

  it('fails a live migration an admin cancelled with MigrationCancelled, the guest still running on the source', async () => {
    const uuid = await spawned();
    const { migrationId, sent } = await migrating(uuid);
    await setControl(migrationId, 'cancel');

    const execution = await finished(sent.executionArn);
    expect(execution).toMatchObject({ status: 'FAILED', error: 'MigrationCancelled' });
    expect((await guests()).find((guest) => guest.uuid === uuid)?.power_state).toBe(POWER_STATE.RUNNING);
  });

  it('destroys the local guest of an instance evacuated while it was away, and keeps the others', async () => {
    const evacuated = await spawned();
    const kept = await spawned();
    await insertInstance(evacuated, 'agent-migration-elsewhere');
    await insertInstance(kept, AGENT_HOST);
    await insertMove(evacuated, AGENT_HOST, { migration_type: 'evacuation', status: 'done' });

    await expect
      .poll(async () => (await guests()).map((guest) => guest.uuid), { timeout: 20_000 })
      .not.toContain(evacuated);
    expect((await guests()).map((guest) => guest.uuid)).toContain(kept);
    // Only the local guest went: the instance's record still says where it lives now.
    const [record] = await primaryDb().select().from(instances).where(eq(instances.uuid, evacuated));
    expect(record).toMatchObject({ host: 'agent-migration-elsewhere', deleted: 0, vm_state: 'active' });
  });
});
