import { describe, expect, it } from 'vitest';
import { isServiceUp, oldestLiveReport } from '../../functions/compute/service-liveness.ts';
import { computeFilter } from '../../functions/scheduler/filters/compute.ts';
import { context, facts, host, NOW, spec } from './scheduler-fixtures.ts';

// Nova's boundary is inclusive (elapsed <= service_down_time): os-services, the conductor, the move
// API and the scheduler must all call a service reporting exactly SERVICE_DOWN_TIME_SECONDS ago up.
const DOWN_TIME_SECONDS = 60;

function reportedAgo(milliseconds: number): Date {
  return new Date(NOW.getTime() - milliseconds);
}

function up(last_seen_at: Date | null, forced_down = false): boolean {
  return isServiceUp({ forced_down, last_seen_at }, NOW, DOWN_TIME_SECONDS);
}

describe('isServiceUp', () => {
  it('keeps a service that reported exactly the down time ago up', () => {
    expect(up(reportedAgo(DOWN_TIME_SECONDS * 1000))).toBe(true);
  });

  it('calls a service down one millisecond past the down time', () => {
    expect(up(reportedAgo(DOWN_TIME_SECONDS * 1000 + 1))).toBe(false);
  });

  it('calls a forced-down service down however recently it reported', () => {
    expect(up(NOW, true)).toBe(false);
  });

  it('calls a service that never reported down', () => {
    expect(up(null)).toBe(false);
  });

  it('draws the line where the SQL bound does: a report at oldestLiveReport is up, one before it down', () => {
    const oldest = oldestLiveReport(NOW, DOWN_TIME_SECONDS);
    expect(up(oldest)).toBe(true);
    expect(up(new Date(oldest.getTime() - 1))).toBe(false);
  });
});

describe('ComputeFilter at the down time', () => {
  function verdict(last_seen_at: Date): string | null {
    return computeFilter.passes(host({ last_seen_at }), spec(), context(), facts());
  }

  it('passes a host whose service reported exactly the down time ago', () => {
    expect(context().serviceDownTimeSeconds).toBe(DOWN_TIME_SECONDS);
    expect(verdict(reportedAgo(DOWN_TIME_SECONDS * 1000))).toBeNull();
  });

  it('rejects it one millisecond later', () => {
    expect(verdict(reportedAgo(DOWN_TIME_SECONDS * 1000 + 1))).toBe(
      `the compute service has not reported for more than ${DOWN_TIME_SECONDS} s`,
    );
  });
});
