import { Column, type GetColumnData, is, type SQL, sql } from 'drizzle-orm';
import { MySqlDialect } from 'drizzle-orm/mysql-core';

// Drizzle's select builder turns its field objects into SQL text and maps every returned value through
// type checks on each call. A compiled column list is turned into text once, at module load, with one
// decoder per column taken from the column definitions, so rows decode as drizzle's own select would
// decode them. The scheduler's candidate read, which every decision runs, uses one; README, Benchmarks,
// has the before/after runs (lower in 7 of 8 pairs, with the cause not pinned down).

/**
 * A selected expression that is not a plain column, with how to read its value. A NULL from the database
 * is null whatever `decode` says, as in drizzle's own mapWith: declare T with null where it can be.
 */
export interface Computed<T> {
  sql: SQL;
  decode(value: unknown): T;
}

export function computed<T>(expression: SQL, decode: (value: unknown) => T): Computed<T> {
  return { sql: expression, decode };
}

type CompiledField = Column | Computed<unknown>;

export type DecodedRow<F extends Record<string, CompiledField>> = {
  [K in keyof F]: F[K] extends Column ? GetColumnData<F[K]> : F[K] extends Computed<infer T> ? T : never;
};

export interface CompiledColumns<F extends Record<string, CompiledField>> {
  /** `expression AS name, ...`, ready to put after SELECT. */
  readonly list: SQL;
  /** One row as `db.execute` returns it (an object keyed by the names above) → the typed row. */
  decode(row: unknown): DecodedRow<F>;
}

const dialect = new MySqlDialect();

export function compileColumns<F extends Record<string, CompiledField>>(fields: F): CompiledColumns<F> {
  const entries = Object.entries(fields).map(([name, field]) =>
    is(field, Column)
      ? { name, expression: sql`${field}`, decode: (value: unknown) => field.mapFromDriverValue(value) }
      : { name, expression: field.sql, decode: field.decode },
  );
  const compiled = dialect.sqlToQuery(
    sql.join(
      entries.map(({ name, expression }) => sql`${expression} AS ${sql.identifier(name)}`),
      sql`, `,
    ),
  );
  // Text only: a value would have to be interpolated per call, which is what this avoids.
  if (compiled.params.length > 0) throw new Error('compiled columns must not carry parameters');
  return {
    list: sql.raw(compiled.sql),
    decode(row) {
      // drizzle's execute on the PlanetScale driver always asks for rows as objects.
      const values = row as Record<string, unknown>;
      const decoded: Record<string, unknown> = {};
      for (const { name, decode } of entries) {
        const value = values[name];
        // A missing name is a list that does not match the query it was put in, not a NULL.
        if (value === undefined) throw new Error(`the row has no column ${name}`);
        decoded[name] = value === null ? null : decode(value);
      }
      return decoded as DecodedRow<F>;
    },
  };
}
