import * as v from 'valibot';
import { archiveDeletedRows, DEFAULT_BATCH_SIZE, purgeShadowRows } from '../../schema/archive.ts';
import type { ConductorContext } from './context.ts';

// Steps of workflows/archive-deleted-rows.ts. The whole run travels as one state object between the
// steps; each step does one bounded slice (a few thousand rows, well inside the Lambda timeout) and
// the state machine loops until nothing is left or the run's budget is spent.

const DAY_MS = 24 * 60 * 60 * 1000;
const count = v.pipe(v.number(), v.integer(), v.minValue(0));
const positive = v.pipe(v.number(), v.integer(), v.minValue(1));
const instant = v.pipe(v.string(), v.isoTimestamp());

/** What starts a run: the schedule's input, or an operator's. Absolute dates win over ages. */
const RunRequest = v.object({
  before: v.optional(instant),
  older_than_days: v.optional(positive, 90),
  purge_before: v.optional(v.nullable(instant)),
  /** No purge unless a retention is given. */
  purge_older_than_days: v.optional(v.nullable(positive), null),
  max_rows: v.optional(positive, 100_000),
  rows_per_step: v.optional(positive, 2_000),
  batch_size: v.optional(positive, DEFAULT_BATCH_SIZE),
});

const Counts = v.record(v.string(), count);

const RunState = v.object({
  before: instant,
  purge_before: v.nullable(instant),
  rows_per_step: positive,
  batch_size: positive,
  archive_remaining: count,
  archived: Counts,
  archived_total: count,
  archive_finished: v.boolean(),
  purge_remaining: count,
  purged: Counts,
  purged_total: count,
  purge_finished: v.boolean(),
});
export type ArchiveRunState = v.InferOutput<typeof RunState>;

const StepInput = v.object({ run: RunState });

function addCounts(total: Record<string, number>, more: Record<string, number>): Record<string, number> {
  const sum = { ...total };
  for (const [table, rows] of Object.entries(more)) sum[table] = (sum[table] ?? 0) + rows;
  return sum;
}

/** archive.plan: fix the cut-offs once, so every slice of the run archives against the same instant. */
export async function plan(_ctx: ConductorContext, input: unknown): Promise<ArchiveRunState> {
  const request = v.parse(RunRequest, v.parse(v.object({ request: v.unknown() }), input).request ?? {});
  const now = Date.now();
  const purgeBefore =
    request.purge_before !== undefined
      ? request.purge_before
      : request.purge_older_than_days === null
        ? null
        : new Date(now - request.purge_older_than_days * DAY_MS).toISOString();
  return {
    before: request.before ?? new Date(now - request.older_than_days * DAY_MS).toISOString(),
    purge_before: purgeBefore,
    rows_per_step: request.rows_per_step,
    batch_size: request.batch_size,
    archive_remaining: request.max_rows,
    archived: {},
    archived_total: 0,
    archive_finished: false,
    purge_remaining: request.max_rows,
    purged: {},
    purged_total: 0,
    purge_finished: false,
  };
}

/** archive.run: one bounded slice of the archive; finished when nothing is left or the budget is spent. */
export async function run(ctx: ConductorContext, input: unknown): Promise<ArchiveRunState> {
  const { run: state } = v.parse(StepInput, input);
  const report = await archiveDeletedRows(ctx.db, {
    before: new Date(state.before),
    maxRows: Math.min(state.rows_per_step, state.archive_remaining),
    batchSize: state.batch_size,
  });
  const remaining = state.archive_remaining - report.total;
  return {
    ...state,
    archive_remaining: remaining,
    archived: addCounts(state.archived, report.tables),
    archived_total: state.archived_total + report.total,
    archive_finished: report.finished || remaining === 0,
  };
}

/** archive.purge: one bounded slice of dropping shadow rows past the retention. */
export async function purge(ctx: ConductorContext, input: unknown): Promise<ArchiveRunState> {
  const { run: state } = v.parse(StepInput, input);
  if (state.purge_before === null) return { ...state, purge_finished: true };
  const report = await purgeShadowRows(ctx.db, {
    before: new Date(state.purge_before),
    maxRows: Math.min(state.rows_per_step, state.purge_remaining),
    batchSize: state.batch_size,
  });
  const remaining = state.purge_remaining - report.total;
  return {
    ...state,
    purge_remaining: remaining,
    purged: addCounts(state.purged, report.tables),
    purged_total: state.purged_total + report.total,
    purge_finished: report.finished || remaining === 0,
  };
}
