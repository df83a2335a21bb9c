import { type Column, eq, type SQL } from 'drizzle-orm';

/**
 * `column = value` when the filter was given, nothing otherwise: `and()` drops an undefined condition,
 * so a list of optional filters reads as one line each.
 */
export function eqIfGiven(column: Column, value: unknown): SQL | undefined {
  return value === undefined ? undefined : eq(column, value);
}
