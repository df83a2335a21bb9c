import { inArray, sql } from 'drizzle-orm';
import { afterAll, describe, expect, it } from 'vitest';
import { compileColumns, computed } from '../../schema/compiled-columns.ts';
import { services } from '../../schema/tables/index.ts';
import { primaryDb } from '../helpers/api.ts';

// The scheduler reads its candidate hosts through a compiled column list (schema/compiled-columns.ts)
// instead of drizzle's select builder; both must hand back the same values, of the same types.
const FIELDS = {
  id: services.id,
  host: services.host,
  disabled: services.disabled,
  disabled_reason: services.disabled_reason,
  last_seen_at: services.last_seen_at,
  supported_objects: services.supported_objects,
  supported_commands: services.supported_commands,
};
const COMPILED = compileColumns({
  ...FIELDS,
  reports_after_next: computed(sql`${services.report_count} + 1`, Number),
});

describe('compiled column lists', () => {
  const ids: number[] = [];
  // Born soft-deleted (deleted = a value of their own), so no listing of live services sees them.
  const deletedMarker = Date.now();

  afterAll(async () => {
    if (ids.length > 0) await primaryDb().delete(services).where(inArray(services.id, ids));
  });

  it('decode rows exactly as drizzle select does, NULLs included', async () => {
    const db = primaryDb();
    for (const [index, values] of [
      { disabled: true, last_seen_at: null, supported_commands: null, disabled_reason: null },
      {
        disabled: false,
        last_seen_at: new Date('2026-03-04T05:06:07.089Z'),
        supported_commands: ['spawn', 'terminate'],
        disabled_reason: 'maintenance mode',
      },
    ].entries()) {
      const [inserted] = await db
        .insert(services)
        .values({
          host: `compiled-columns-${deletedMarker}-${index}`,
          binary: 'nova-compute',
          topic: 'compute',
          supported_objects: { Instance: '1.0' },
          report_count: 41,
          created_at: new Date(),
          deleted: deletedMarker + index,
          ...values,
        })
        .$returningId();
      if (inserted) ids.push(inserted.id);
    }
    const viaDrizzle = await db
      .select({ ...FIELDS, reports_after_next: sql`${services.report_count} + 1`.mapWith(Number) })
      .from(services)
      .where(inArray(services.id, ids))
      .orderBy(services.id);
    const result = await db.execute(
      sql`SELECT ${COMPILED.list} FROM ${services} WHERE ${inArray(services.id, ids)} ORDER BY ${services.id}`,
    );
    const viaCompiled = result.rows.map((row) => COMPILED.decode(row));

    expect(viaCompiled).toEqual(viaDrizzle);
    const [bare, full] = viaCompiled;
    expect(bare).toMatchObject({ disabled: true, last_seen_at: null, supported_commands: null });
    expect(full?.last_seen_at).toEqual(new Date('2026-03-04T05:06:07.089Z'));
    expect(full).toMatchObject({
      disabled: false,
      supported_commands: ['spawn', 'terminate'],
      supported_objects: { Instance: '1.0' },
      reports_after_next: 42,
    });
    expect(typeof full?.id).toBe('number');
  });

  it('refuse a row that lacks one of their columns instead of reading it as NULL', () => {
    expect(() => COMPILED.decode({ id: '1', host: 'h' })).toThrow(/the row has no column disabled/);
  });

  it('refuse an expression that carries a value, which would be frozen into the text', () => {
    expect(() => compileColumns({ fixed: computed(sql`${services.report_count} + ${1}`, Number) })).toThrow(
      /must not carry parameters/,
    );
  });
});
