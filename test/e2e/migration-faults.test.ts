import { afterAll, describe, expect, it } from 'vitest';
import { call, createServer, login, waitForServer } from '../helpers/api.ts';
import {
  expectNodeUsageMatchesClaims,
  expectSettled,
  instanceRow,
  latestMigration,
  type MoveHost,
  serverAction,
  startMoveHost,
  TERMINAL,
  waitForMigration,
} from '../helpers/moves.ts';
import { eventually, waitUntil } from '../helpers/wait.ts';

// Fault injection at every host step of every kind of move. Each case has its own two hosts (source,
// destination) in its own zone; the faulty side's fake driver fails the step, hangs past the step's
// timeout, or its agent is killed while running it and restarted (the same command is then
// redelivered). After each: no leaked or double claim, the guest on exactly one host (the one the
// instance names), the migration in a terminal status, the server where the rollback table
// (functions/conductor/migration-rollback.ts) says.
//
// Bounds in the test stack (test/helpers/global-setup.ts): 40 s per host command, 50 s for the
// source's copy, 30 s of heartbeat silence, 5 s queue visibility.

type Kind = 'cold' | 'revert' | 'live' | 'evacuate';
type Side = 'source' | 'dest';

interface Step {
  kind: Kind;
  op: string;
  side: Side;
  /** Where the server ends when this step fails (error or timeout). */
  onFailure: { status: 'ACTIVE' | 'ERROR'; on: Side };
}

const STEPS: Step[] = [
  { kind: 'cold', op: 'prep_resize', side: 'dest', onFailure: { status: 'ACTIVE', on: 'source' } },
  {
    kind: 'cold',
    op: 'migrate_disk_and_power_off',
    side: 'source',
    onFailure: { status: 'ERROR', on: 'source' },
  },
  { kind: 'cold', op: 'finish_resize', side: 'dest', onFailure: { status: 'ERROR', on: 'source' } },
  // confirm: the source drops its copy
  { kind: 'cold', op: 'terminate', side: 'source', onFailure: { status: 'ERROR', on: 'dest' } },
  // revert: the destination drops its copy, then the source powers the old one on
  { kind: 'revert', op: 'terminate', side: 'dest', onFailure: { status: 'ERROR', on: 'source' } },
  {
    kind: 'revert',
    op: 'finish_revert_resize',
    side: 'source',
    onFailure: { status: 'ERROR', on: 'source' },
  },
  { kind: 'live', op: 'pre_live_migration', side: 'dest', onFailure: { status: 'ACTIVE', on: 'source' } },
  { kind: 'live', op: 'live_migration', side: 'source', onFailure: { status: 'ACTIVE', on: 'source' } },
  {
    kind: 'live',
    op: 'post_live_migration_at_destination',
    side: 'dest',
    onFailure: { status: 'ERROR', on: 'source' },
  },
  // the source's cleanup after the guest runs on the destination
  { kind: 'live', op: 'terminate', side: 'source', onFailure: { status: 'ACTIVE', on: 'dest' } },
  { kind: 'evacuate', op: 'spawn', side: 'dest', onFailure: { status: 'ERROR', on: 'source' } },
];

/** Where a move that survived its fault ends. */
const ON_SUCCESS: Record<Kind, Side> = { cold: 'dest', revert: 'source', live: 'dest', evacuate: 'dest' };

type Fault = 'error' | 'timeout' | 'crash';

const SOURCE_COPY_OPS = ['migrate_disk_and_power_off', 'live_migration'];

function faultEnv(step: Step, fault: Fault): Record<string, string> {
  if (fault === 'error') return { AGENT_FAKE_FAIL: step.op };
  if (fault === 'crash') return { AGENT_FAKE_LATENCY_MS: `${step.op}=4000` };
  // Past the step's bound, but short enough that the late operation lands before the test ends.
  const bound = SOURCE_COPY_OPS.includes(step.op) ? 50 : 40;
  return { AGENT_FAKE_LATENCY_MS: `${step.op}=${(bound + 6) * 1000}` };
}

const started: MoveHost[] = [];
afterAll(async () => {
  await Promise.all(started.map((host) => host.stop()));
});

let caseNumber = 0;

async function runCase(step: Step, fault: Fault): Promise<void> {
  const n = ++caseNumber;
  const zone = `az-fault-${n}`;
  const token = await login();
  const names = { source: `fault-${n}-src`, dest: `fault-${n}-dst` };
  const env = (side: Side) => (side === step.side ? faultEnv(step, fault) : {});
  // The source registers alone first, so the boot lands on it.
  const source = await startMoveHost({ host: names.source, availabilityZone: zone, env: env('source') });
  started.push(source);
  const id = await createServer(token, { name: `fault-${n}`, availability_zone: zone });
  await waitForServer(token, id, ['ACTIVE']);
  const dest = await startMoveHost({ host: names.dest, availabilityZone: zone, env: env('dest') });
  started.push(dest);
  const faulty = step.side === 'source' ? source : dest;

  let crashDone: Promise<void> = Promise.resolve();
  if (fault === 'crash') {
    // Kill the agent while it runs the step, then bring it back without the delay.
    crashDone = (async () => {
      // Generous: with every case moving at once, the steps before this one can take a while.
      await waitUntil(
        `${faulty.host} to start ${step.op}`,
        () => faulty.logged(`(${step.op} ${id}) started`),
        {
          timeoutMs: 90_000,
          intervalMs: 50,
        },
      ).catch(async (error: Error) => {
        // A step that never starts: say how far the move got.
        throw new Error(`${error.message}; the migration: ${JSON.stringify(await latestMigration(id))}`);
      });
      await faulty.crash();
      await faulty.restart();
    })();
  }

  const act = (body: unknown) => serverAction(token, id, body);
  if (step.kind === 'cold' || step.kind === 'revert') {
    expect((await act({ migrate: null })).status).toBe(202);
    // Read from the primary: concurrent cases share one consistency token, so an API read may lag.
    const reached = await waitForMigration(id, ['finished', ...TERMINAL], 120_000);
    if (reached.status === 'finished') {
      const decision = step.kind === 'cold' ? { confirm_resize: null } : { revert_resize: null };
      expect([202, 204]).toContain((await act(decision)).status);
    }
  } else if (step.kind === 'live') {
    const response = await act({
      migrate_live: { host: names.dest, block_migration: false, disk_over_commit: false },
    });
    expect(response.status).toBe(202);
  } else {
    await source.stop();
    const forced = await call('PUT', '/v3/os-services/force-down', {
      token,
      body: { service: { host: names.source, binary: 'nova-compute', forced_down: true } },
    });
    expect(forced.status).toBe(200);
    expect((await act({ evacuate: { on_shared_storage: false } })).status).toBe(200);
  }
  await crashDone;

  const migration = await waitForMigration(id, TERMINAL, 120_000);
  const survived = fault === 'crash';
  const completed = { cold: 'confirmed', revert: 'reverted', live: 'done', evacuate: 'done' }[step.kind];
  expect(migration.status, JSON.stringify(migration)).toBe(survived ? completed : 'error');
  const expected = survived ? { status: 'ACTIVE', on: ON_SUCCESS[step.kind] } : step.onFailure;
  const server = await waitForServer(token, id, [expected.status], 60_000);
  expect(server?.status).toBe(expected.status);
  expect((await instanceRow(id)).host).toBe(names[expected.on]);
  if (!survived && expected.status === 'ERROR') expect(server?.fault?.message).toBeTruthy();
  // A late operation of a timed-out step may still be running on its host (the rollback's own cleanup
  // ends before the migration reads terminal): the invariants must hold once it is done.
  await eventually(
    async () => {
      // A hypervisor that fails every destroy keeps its stale copy; the claims must still be right.
      // The evacuated source stays down (its cleanup on return is tested in migrations.test.ts).
      await expectSettled(id, [names.source, names.dest], {
        ...(step.kind === 'evacuate'
          ? { brokenHost: names.source }
          : fault === 'error' && step.op === 'terminate'
            ? { brokenHost: faulty.host }
            : {}),
      });
      await expectNodeUsageMatchesClaims(names.source);
      await expectNodeUsageMatchesClaims(names.dest);
    },
    { timeoutMs: 75_000, intervalMs: 500 },
  );
  expect((await latestMigration(id))?.status).toBe(migration.status);
}

// Every case has its own two hosts in its own zone, so all 33 run at once (the stack project's
// maxConcurrency allows it): the file lasts about as long as its slowest case, a hang past the 50 s
// source bound, instead of the sum of them. A killed agent's command reaches its restarted agent once
// its 5 s queue visibility lapses, well inside the 30 s heartbeat bound even with every agent busy.
const TITLES: Record<Fault, string> = {
  error: 'a host step that fails',
  timeout: 'a host step that hangs past its timeout',
  crash: 'a host step whose agent crashes and gets the same command again',
};
describe.concurrent('fault injection at every host step of every kind of move', () => {
  for (const fault of ['error', 'timeout', 'crash'] as const) {
    describe(TITLES[fault], () => {
      for (const step of STEPS) {
        it(`${step.kind}: ${step.op} on the ${step.side}`, () => runCase(step, fault), 240_000);
      }
    });
  }
});
