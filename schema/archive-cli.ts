import { parseArgs } from 'node:util';
import * as v from 'valibot';
import { type ArchiveReport, archiveDeletedRows, DEFAULT_BATCH_SIZE, purgeShadowRows } from './archive.ts';
import { cliDatabaseUrl } from './cli-database-url.ts';
import { createDatabase } from './db.ts';

// `tsx schema/archive-cli.ts --max-rows N --before DATE [--purge-before DATE] [--batch-size N]`
// Archives soft-deleted rows older than --before into the shadow tables (at most --max-rows rows),
// then, if asked, purges shadow rows deleted before --purge-before (with the same budget). Talks to
// DATABASE_URL (a PlanetScale URL), or else to the running local cloud (`npm start`).

const USAGE =
  'usage: tsx schema/archive-cli.ts --max-rows N --before DATE [--purge-before DATE] [--batch-size N]';

const date = v.pipe(
  v.string(),
  v.transform((text) => new Date(text)),
  v.check(
    (value) => !Number.isNaN(value.getTime()),
    'is not a date (use e.g. 2026-01-31 or an ISO timestamp)',
  ),
);
const positiveInt = v.pipe(v.string(), v.transform(Number), v.integer(), v.minValue(1));

const Args = v.object({
  'max-rows': positiveInt,
  before: date,
  'purge-before': v.optional(date),
  'batch-size': v.optional(positiveInt, String(DEFAULT_BATCH_SIZE)),
});

function printReport(title: string, report: ArchiveReport): void {
  const width = Math.max(...Object.keys(report.tables).map((table) => table.length));
  console.log(title);
  for (const [table, rows] of Object.entries(report.tables)) console.log(`  ${table.padEnd(width)}  ${rows}`);
  console.log(
    `  ${'total'.padEnd(width)}  ${report.total}${report.finished ? '' : '  (budget spent: run again to continue)'}`,
  );
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      'max-rows': { type: 'string' },
      before: { type: 'string' },
      'purge-before': { type: 'string' },
      'batch-size': { type: 'string' },
    },
  });
  const parsed = v.safeParse(Args, values);
  if (!parsed.success) {
    const issues = parsed.issues.map((issue) => `--${v.getDotPath(issue) ?? '?'}: ${issue.message}`);
    throw new Error(`${issues.join('\n')}\n${USAGE}`);
  }
  const args = parsed.output;
  const db = createDatabase({ primary: await cliDatabaseUrl(), replicas: [] }).$primary;
  const options = { maxRows: args['max-rows'], batchSize: args['batch-size'] };
  printReport(
    `archived (deleted before ${args.before.toISOString()}):`,
    await archiveDeletedRows(db, { ...options, before: args.before }),
  );
  if (args['purge-before'])
    printReport(
      `purged from shadow tables (deleted before ${args['purge-before'].toISOString()}):`,
      await purgeShadowRows(db, { ...options, before: args['purge-before'] }),
    );
}

main().catch((error: Error) => {
  console.error(`archive failed: ${error.message}`);
  process.exit(1);
});
