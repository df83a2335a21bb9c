import { and, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { COMPUTE_COMMAND_NAMES } from '../../schema/objects/compute-command.ts';
import { migrations, services } from '../../schema/tables/index.ts';
import { createServer, login, primaryDb, waitForServer } from '../helpers/api.ts';
import { hostClient, issueHostCredential } from '../helpers/hosts.ts';
import {
  expectNodeUsageMatchesClaims,
  expectSettled,
  instanceRow,
  type MoveHost,
  serverAction,
  startMoveHost,
  waitForMigration,
} from '../helpers/moves.ts';

// A rolling upgrade leaves agents from before moves existed in the fleet for a while. Such an agent
// registered without `supported_commands`; the test makes a host look like one by clearing the column
// its (current) agent reported, which nothing rewrites until that agent registers again.
const ZONE = 'az-mixed-fleet';
const HOSTS = ['mixed-a', 'mixed-b', 'mixed-c'];
// An old agent elsewhere, registered the way it did (no supported_commands), with room for nothing:
// a NoValidHost must blame its zone, not its agent.
const ELSEWHERE = 'mixed-old-elsewhere';

async function supportedCommands(host: string) {
  const [service] = await primaryDb()
    .select({ commands: services.supported_commands })
    .from(services)
    .where(and(eq(services.host, host), eq(services.deleted, 0)));
  return service?.commands;
}

async function setSupportedCommands(host: string, commands: string[] | null) {
  await primaryDb()
    .update(services)
    .set({ supported_commands: commands })
    .where(and(eq(services.host, host), eq(services.deleted, 0)));
}

async function migrationCount(uuid: string) {
  return (await primaryDb().select().from(migrations).where(eq(migrations.instance_uuid, uuid))).length;
}

describe('moves in a fleet with agents older than moves', () => {
  let token: string;
  const hosts: MoveHost[] = [];

  beforeAll(async () => {
    token = await login();
    for (const host of HOSTS) hosts.push(await startMoveHost({ host, availabilityZone: ZONE }));
    const asOldAgent = hostClient(ELSEWHERE, await issueHostCredential(ELSEWHERE));
    const registered = await asOldAgent('POST', '/register', {
      host: ELSEWHERE,
      availability_zone: 'az-mixed-elsewhere',
      hypervisor_hostname: ELSEWHERE,
      hypervisor_type: 'fake',
      hypervisor_version: 1,
      vcpus: 1,
      memory_mb: 1,
      local_gb: 0,
      supported_objects: { Instance: '1.0' },
    });
    expect(registered.status).toBe(200);
    expect(await supportedCommands(ELSEWHERE)).toBeNull();
  });

  afterAll(async () => {
    for (const host of HOSTS) await setSupportedCommands(host, [...COMPUTE_COMMAND_NAMES]);
    await Promise.all(hosts.map((host) => host.stop()));
  });

  it('records the commands each agent runs at registration', async () => {
    for (const host of HOSTS) expect(await supportedCommands(host)).toEqual([...COMPUTE_COMMAND_NAMES]);
  });

  it('refuses a move whose source agent cannot run it with 409, writing nothing', async () => {
    const id = await createServer(token, { name: 'mixed-source', availability_zone: ZONE });
    await waitForServer(token, id, ['ACTIVE']);
    const source = (await instanceRow(id)).host ?? '';
    const destination = HOSTS.find((host) => host !== source) ?? '';
    await setSupportedCommands(source, null);
    try {
      const cold = await serverAction(token, id, { migrate: null });
      expect(cold.status).toBe(409);
      expect(JSON.stringify(cold.body)).toContain(
        `The agent of compute host ${source} does not run migrate_disk_and_power_off, finish_revert_resize`,
      );
      const live = await serverAction(token, id, {
        migrate_live: { host: destination, block_migration: false, disk_over_commit: false },
      });
      expect(live.status).toBe(409);
      expect(JSON.stringify(live.body)).toContain('does not run live_migration');
      expect(await migrationCount(id)).toBe(0);
      expect(await instanceRow(id)).toMatchObject({ vm_state: 'active', task_state: null, host: source });
    } finally {
      await setSupportedCommands(source, [...COMPUTE_COMMAND_NAMES]);
    }
    // A named destination that cannot take part is refused the same way.
    await setSupportedCommands(destination, null);
    try {
      const live = await serverAction(token, id, {
        migrate_live: { host: destination, block_migration: false, disk_over_commit: false },
      });
      expect(live.status).toBe(409);
      expect(JSON.stringify(live.body)).toContain(
        `The agent of compute host ${destination} does not run pre_live_migration, post_live_migration_at_destination`,
      );
      expect(await migrationCount(id)).toBe(0);
    } finally {
      await setSupportedCommands(destination, [...COMPUTE_COMMAND_NAMES]);
    }
  });

  it('schedules a move only to a host whose agent runs its commands, and fails it cleanly when none does', async () => {
    const id = await createServer(token, { name: 'mixed-destination', availability_zone: ZONE });
    await waitForServer(token, id, ['ACTIVE']);
    const source = (await instanceRow(id)).host ?? '';
    const [legacy, capable] = HOSTS.filter((host) => host !== source) as [string, string];
    await setSupportedCommands(legacy, null);
    try {
      expect((await serverAction(token, id, { migrate: null })).status).toBe(202);
      const moved = await waitForMigration(id, ['finished', 'error']);
      expect(moved).toMatchObject({ status: 'finished', dest_compute: capable });
      expect((await serverAction(token, id, { revert_resize: null })).status).toBe(202);
      await waitForMigration(id, ['reverted']);
      await waitForServer(token, id, ['ACTIVE']);

      await setSupportedCommands(capable, null);
      expect((await serverAction(token, id, { migrate: null })).status).toBe(202);
      const failed = await waitForMigration(id, ['error', 'finished']);
      expect(failed.status).toBe('error');
      // The two other hosts of the zone are the only ones blamed on their agents.
      expect(failed.error_message).toMatch(/AgentCommandsFilter: 2[,)]/);
      const server = await waitForServer(token, id, ['ACTIVE', 'ERROR']);
      expect(server?.status).toBe('ACTIVE');
      await expectSettled(id, HOSTS);
      expect((await instanceRow(id)).host).toBe(source);
      for (const host of HOSTS) await expectNodeUsageMatchesClaims(host);
    } finally {
      for (const host of [legacy, capable]) await setSupportedCommands(host, [...COMPUTE_COMMAND_NAMES]);
    }
  });
});
