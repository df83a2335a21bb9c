import { eq, type SQL } from 'drizzle-orm';
import type { AnyMySqlColumn } from 'drizzle-orm/mysql-core';
import type { Context } from 'hono';
import { BadRequest } from '../../shared/errors.ts';
import type { AppEnv } from '../context.ts';
import { atLeast } from './microversion.ts';

/** How a request names a row: by uuid, or by integer id. */
export type RowRef = { uuid: string } | { id: number };

const UUID = /^[\da-f]{8}-[\da-f]{4}-[\da-f]{4}-[\da-f]{4}-[\da-f]{12}$/i;

/** A path id that names a row: a uuid from the microversion that switched to uuids, an integer before. */
export function rowRef(c: Context<AppEnv>, raw: string, uuidsSince: number, onBadId: () => Error): RowRef {
  if (atLeast(c, uuidsSince)) {
    if (!UUID.test(raw)) throw new BadRequest(`Invalid uuid ${raw}`);
    return { uuid: raw };
  }
  if (!/^\d+$/.test(raw)) throw onBadId();
  return { id: Number(raw) };
}

/** The condition on a table with `id` and `uuid` columns that selects the row `ref` names. */
export function rowNamed(ref: RowRef, table: { id: AnyMySqlColumn; uuid: AnyMySqlColumn }): SQL {
  return 'uuid' in ref ? eq(table.uuid, ref.uuid) : eq(table.id, ref.id);
}
