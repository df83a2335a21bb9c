import { and, eq, type SQL } from 'drizzle-orm';
import type { AnyMySqlColumn, MySqlTable } from 'drizzle-orm/mysql-core';
import type { PrimaryDb } from '../../../schema/db.ts';
import { NetworkError } from '../../network/errors.ts';
import type { Caller } from '../context.ts';
import {
  type CollectionSpec,
  fetchLimit,
  filterConditions,
  type ListRequest,
  markerCondition,
  orderBy,
} from './list-query.ts';

// One page of a collection's rows for the router, floating IP and security group lists: the
// request's filters, the caller's visibility and the rows after the marker, in the request's order.

/** The rows a caller may list: its project's, or every project's for an admin. */
export function ownedBy(caller: Caller, projectColumn: AnyMySqlColumn): SQL | undefined {
  return caller.isAdmin ? undefined : eq(projectColumn, caller.projectId);
}

export async function readListPage<TTable extends MySqlTable>(
  db: Pick<PrimaryDb, 'select'>,
  table: TTable,
  spec: CollectionSpec,
  request: ListRequest,
  visible: SQL | undefined,
): Promise<TTable['$inferSelect'][]> {
  const beyondMarker = await markerCondition(
    db,
    spec,
    request,
    table,
    visible,
    (marker) => new NetworkError(404, 'NotFound', `Marker ${marker} could not be found`),
  );
  const query = db
    .select()
    .from(table as MySqlTable)
    .where(and(...filterConditions(spec, request), visible, beyondMarker))
    .orderBy(...orderBy(spec, request));
  const limit = fetchLimit(request);
  return (limit === undefined ? await query : await query.limit(limit)) as TTable['$inferSelect'][];
}
