import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { and, desc, eq } from 'drizzle-orm';
import { expect } from 'vitest';
import { FAKE_STATE_FILE } from '../../agent/drivers/fake.ts';
import type { AgentSpec } from '../../infra/local/agents.ts';
import { computeNodes, instances, migrations, resourceClaims } from '../../schema/tables/index.ts';
import { call, primaryDb, stackInfo } from './api.ts';
import { startTestAgent, waitRegistered } from './hosts.ts';
import { waitUntil } from './wait.ts';

// What the migration tests share: their own hosts (agents that heartbeat every second, so the test
// stack's short MIGRATION_HEARTBEAT_SECONDS applies), what each host's fake hypervisor holds, and the
// invariants every move must leave behind, whatever happened during it.

export type MigrationRow = typeof migrations.$inferSelect;

export const TERMINAL = ['confirmed', 'reverted', 'done', 'error', 'cancelled'];

export interface MoveHost {
  host: string;
  /** Whether this agent (since its last start) has logged `text`. */
  logged(text: string): boolean;
  stop(): Promise<void>;
  crash(): Promise<void>;
  /** Starts the host's agent again on the same state (after stop or crash), with `env` if given. */
  restart(env?: Record<string, string>): Promise<void>;
}

function agentDir(host: string): string {
  return join(stackInfo().dataDir, 'agents', host);
}

/** A test's own compute host, with an agent that heartbeats every second. */
export async function startMoveHost(spec: AgentSpec): Promise<MoveHost> {
  const withHeartbeat = (env: Record<string, string> = {}): AgentSpec => ({
    ...spec,
    env: { AGENT_HEARTBEAT_INTERVAL_SECONDS: '1', ...spec.env, ...env },
  });
  const since = new Date(Date.now() - 1000);
  let { agent, lines } = await startTestAgent(withHeartbeat(), agentDir(spec.host));
  await waitRegistered(spec.host, since);
  return {
    host: spec.host,
    logged: (text) => lines.some((line) => line.includes(text)),
    stop: () => agent.stop(),
    crash: () => agent.crash(),
    async restart(env) {
      const restartedAt = new Date(Date.now() - 1000);
      ({ agent, lines } = await startTestAgent(withHeartbeat(env), agentDir(spec.host)));
      await waitRegistered(spec.host, restartedAt);
    },
  };
}

/** The guests the host's fake hypervisor holds right now. */
export async function guestsOn(host: string): Promise<string[]> {
  try {
    const state = JSON.parse(await readFile(join(agentDir(host), FAKE_STATE_FILE), 'utf8')) as {
      instances: { uuid: string }[];
    };
    return state.instances.map((instance) => instance.uuid);
  } catch {
    return [];
  }
}

export async function latestMigration(uuid: string): Promise<MigrationRow | undefined> {
  const [row] = await primaryDb()
    .select()
    .from(migrations)
    .where(eq(migrations.instance_uuid, uuid))
    .orderBy(desc(migrations.id))
    .limit(1);
  return row;
}

/** Polls the server's newest migration until it reaches one of `statuses`. */
export async function waitForMigration(
  uuid: string,
  statuses: string[],
  timeoutMs = 40_000,
): Promise<MigrationRow> {
  return waitUntil(`the migration of ${uuid} to reach ${statuses.join('/')}`, () => latestMigration(uuid), {
    timeoutMs,
    intervalMs: 100,
    until: (row): row is MigrationRow => row !== undefined && statuses.includes(row.status),
  });
}

export async function instanceRow(uuid: string) {
  const [row] = await primaryDb().select().from(instances).where(eq(instances.uuid, uuid));
  if (!row) throw new Error(`no instance ${uuid}`);
  return row;
}

/**
 * After any move, finished or failed: no task state left, the guest on exactly one of `hosts` (the
 * one the instance names), exactly one claim (on that host's node, of the instance's flavor), and
 * the migration in a terminal status (or `finished`, waiting for confirm/revert, when allowed).
 */
export async function expectSettled(
  uuid: string,
  hosts: string[],
  options: {
    allowVerifyResize?: boolean;
    /** A host whose hypervisor cannot destroy anything: its stale copy cannot go, and is not counted. */
    brokenHost?: string;
  } = {},
): Promise<void> {
  const instance = await instanceRow(uuid);
  expect(instance.task_state).toBeNull();
  const holders: string[] = [];
  for (const host of hosts) {
    if (host !== instance.host && host === options.brokenHost) continue;
    if ((await guestsOn(host)).includes(uuid)) holders.push(host);
  }
  const migration = await latestMigration(uuid);
  const verifying = options.allowVerifyResize && migration?.status === 'finished';
  if (verifying) {
    // VERIFY_RESIZE: both copies exist until confirm or revert, and both claims are held.
    expect(holders.sort()).toEqual([migration?.source_compute, migration?.dest_compute].sort());
  } else {
    expect(holders).toEqual([instance.host]);
    expect(TERMINAL).toContain(migration?.status);
  }
  const claims = await primaryDb()
    .select({ host: computeNodes.host, memory_mb: resourceClaims.memory_mb })
    .from(resourceClaims)
    .innerJoin(computeNodes, eq(computeNodes.id, resourceClaims.compute_node_id))
    // A pending row (a claim whose counting step never ran) holds nothing.
    .where(and(eq(resourceClaims.instance_uuid, uuid), eq(resourceClaims.pending, false)));
  if (verifying) {
    expect(claims.map((claim) => claim.host).sort()).toEqual(holders.sort());
  } else {
    expect(claims).toEqual([{ host: instance.host, memory_mb: instance.flavor.memory_mb }]);
  }
}

/** The compute node's usage adds up to the claims on it (nothing leaked, nothing counted twice). */
export async function expectNodeUsageMatchesClaims(host: string): Promise<void> {
  const [node] = await primaryDb()
    .select()
    .from(computeNodes)
    .where(and(eq(computeNodes.host, host), eq(computeNodes.deleted, 0)));
  if (!node) throw new Error(`no node ${host}`);
  const claims = await primaryDb()
    .select()
    .from(resourceClaims)
    .where(and(eq(resourceClaims.compute_node_id, node.id), eq(resourceClaims.pending, false)));
  expect({ memory_mb_used: node.memory_mb_used, running_vms: node.running_vms }).toEqual({
    memory_mb_used: claims.reduce((sum, claim) => sum + claim.memory_mb, 0),
    running_vms: claims.length,
  });
}

export async function serverAction(token: string, id: string, body: unknown) {
  return call('POST', `/v3/servers/${id}/action`, { token, body });
}
