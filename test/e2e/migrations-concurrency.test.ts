import { and, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { computeNodes } from '../../schema/tables/index.ts';
import { createServer, login, primaryDb, waitForServer } from '../helpers/api.ts';
import {
  expectNodeUsageMatchesClaims,
  expectSettled,
  instanceRow,
  type MoveHost,
  serverAction,
  startMoveHost,
  waitForMigration,
} from '../helpers/moves.ts';

// 20 moves at once across 5 hosts: half cold migrations (the scheduler picks the destination), half
// live migrations to a named host. Every move must end where it should with exactly one claim, and
// no host may hold more than it has.
const ZONE = 'az-swarm';
const HOSTS = ['swarm-1', 'swarm-2', 'swarm-3', 'swarm-4', 'swarm-5'];
const SERVERS = 20;

describe('20 concurrent migrations across 5 hosts', () => {
  let token: string;
  const hosts: MoveHost[] = [];

  beforeAll(async () => {
    token = await login();
    for (const host of HOSTS) hosts.push(await startMoveHost({ host, availabilityZone: ZONE }));
  });

  afterAll(async () => {
    await Promise.all(hosts.map((host) => host.stop()));
  });

  it('moves every server, confirms the cold ones, and leaves every host consistent', async () => {
    const ids = await Promise.all(
      Array.from({ length: SERVERS }, (_, i) =>
        createServer(token, { name: `swarm-${i}`, availability_zone: ZONE }),
      ),
    );
    await Promise.all(ids.map((id) => waitForServer(token, id, ['ACTIVE'], 60_000)));
    const sources = new Map<string, string>();
    for (const id of ids) sources.set(id, (await instanceRow(id)).host ?? '');

    const responses = await Promise.all(
      ids.map((id, i) => {
        if (i % 2 === 0) return serverAction(token, id, { migrate: null });
        const source = sources.get(id) ?? '';
        const dest = HOSTS[(HOSTS.indexOf(source) + 1) % HOSTS.length];
        return serverAction(token, id, {
          migrate_live: { host: dest, block_migration: false, disk_over_commit: false },
        });
      }),
    );
    expect(responses.map((response) => response.status)).toEqual(ids.map(() => 202));

    const moved = await Promise.all(
      ids.map((id) => waitForMigration(id, ['finished', 'done', 'error'], 120_000)),
    );
    expect(moved.map((migration) => migration.status)).toEqual(
      ids.map((_, i) => (i % 2 === 0 ? 'finished' : 'done')),
    );
    const confirms = await Promise.all(
      ids.filter((_, i) => i % 2 === 0).map((id) => serverAction(token, id, { confirm_resize: null })),
    );
    expect(confirms.map((response) => response.status)).toEqual(confirms.map(() => 204));
    const ended = await Promise.all(
      ids.map((id) => waitForMigration(id, ['confirmed', 'done', 'error'], 120_000)),
    );
    // Every move ended the way its kind should: the cold ones confirmed, the live ones done, none in error.
    expect(ended.map((migration) => migration.status)).toEqual(
      ids.map((_, i) => (i % 2 === 0 ? 'confirmed' : 'done')),
    );

    for (const id of ids) {
      const instance = await instanceRow(id);
      expect(instance.host).not.toBe(sources.get(id));
      expect(instance.vm_state).toBe('active');
      await expectSettled(id, HOSTS);
    }
    for (const host of HOSTS) {
      await expectNodeUsageMatchesClaims(host);
      const [node] = await primaryDb()
        .select()
        .from(computeNodes)
        .where(and(eq(computeNodes.host, host), eq(computeNodes.deleted, 0)));
      expect(node && node.memory_mb_used <= node.memory_mb * node.ram_allocation_ratio).toBe(true);
    }
  }, 300_000);
});
