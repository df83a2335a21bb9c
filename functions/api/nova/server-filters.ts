import { and, eq, gte, inArray, isNull, like, notInArray, or, type SQL, sql } from 'drizzle-orm';
import * as v from 'valibot';
import { instances } from '../../../schema/tables/index.ts';
import type { TaskState, VmState } from '../../compute/instance-states.ts';
import { serverStatus } from '../../compute/server-status.ts';
import type { Caller } from '../context.ts';

// The filters of GET /v3/servers(/detail) (nova-havana.md §1.7). valibot drops query keys that are
// not declared here, which is Havana's "unknown filters are silently ignored"; the admin-only ones
// are declared but ignored for members.
const Text = v.pipe(v.string(), v.maxLength(255));
const LastSegment = v.pipe(
  v.string(),
  v.transform((ref) => ref.split('/').pop() ?? ''),
  v.maxLength(255),
);
const Timestamp = v.pipe(
  v.string(),
  v.transform((text) => new Date(text)),
  v.check((date) => !Number.isNaN(date.getTime()), 'must be an ISO 8601 timestamp'),
);

export const LIST_FILTER_FIELDS = {
  name: v.optional(Text),
  status: v.optional(v.pipe(v.string(), v.toUpperCase(), v.maxLength(30))),
  image: v.optional(LastSegment),
  flavor: v.optional(LastSegment),
  reservation_id: v.optional(Text),
  // Accepted and ignored: servers have no addresses until networking exists.
  ip: v.optional(Text),
  changes_since: v.optional(Timestamp),
  'changes-since': v.optional(Timestamp),
  host: v.optional(Text),
  node: v.optional(Text),
  vm_state: v.optional(Text),
  task_state: v.optional(Text),
  availability_zone: v.optional(Text),
  user_id: v.optional(Text),
  tenant_id: v.optional(Text),
};

const ListFilters = v.object(LIST_FILTER_FIELDS);
export type ListFilters = v.InferOutput<typeof ListFilters>;

// Every state this control plane writes; `satisfies` keeps the lists in step with the state types.
const VM_STATES = [
  'building',
  'active',
  'stopped',
  'paused',
  'suspended',
  'resized',
  'error',
  'deleted',
] as const satisfies readonly VmState[];
const TASK_STATES = [
  'scheduling',
  'spawning',
  'deleting',
  'rebooting',
  'rebooting_hard',
  'powering-off',
  'powering-on',
  'pausing',
  'unpausing',
  'suspending',
  'resuming',
  'rebuilding',
  'resize_prep',
  'resize_confirming',
  'resize_reverting',
  'migrating',
] as const satisfies readonly Exclude<TaskState, null>[];

/** The API status mapped back to states: the inverse of serverStatus, derived from it. */
function statusCondition(status: string): SQL {
  // Task states that decide the status whatever the vm_state is.
  const overriding = TASK_STATES.filter((task) => serverStatus('', task) !== 'UNKNOWN');
  const byTask = overriding.filter((task) => serverStatus('', task) === status);
  const byVm = VM_STATES.filter((vm) => serverStatus(vm, null) === status);
  const conditions: SQL[] = [];
  if (byTask.length > 0) conditions.push(inArray(instances.task_state, byTask));
  if (byVm.length > 0) {
    const taskDoesNotOverride = or(
      isNull(instances.task_state),
      notInArray(instances.task_state, overriding),
    );
    conditions.push(and(inArray(instances.vm_state, byVm), taskDoesNotOverride) ?? sql`false`);
  }
  return or(...conditions) ?? sql`false`;
}

function substring(value: string): string {
  return `%${value.replace(/[\\%_]/g, (char) => `\\${char}`)}%`;
}

/**
 * The WHERE of a server list (without the project scope). Deleted servers are listed only with
 * changes-since, as in Havana, so a client polling for changes also learns about deletions.
 */
export function listFilterConditions(caller: Caller, filters: ListFilters): SQL | undefined {
  const changesSince = filters.changes_since ?? filters['changes-since'];
  const conditions: (SQL | undefined)[] = [
    changesSince
      ? gte(sql`COALESCE(${instances.updated_at}, ${instances.created_at})`, changesSince)
      : eq(instances.deleted, 0),
    filters.name === undefined ? undefined : like(instances.display_name, substring(filters.name)),
    filters.status === undefined ? undefined : statusCondition(filters.status),
    filters.image === undefined ? undefined : eq(instances.image_ref, filters.image),
    filters.flavor === undefined
      ? undefined
      : sql`JSON_UNQUOTE(JSON_EXTRACT(${instances.flavor}, '$.flavorid')) = ${filters.flavor}`,
    filters.reservation_id === undefined ? undefined : eq(instances.reservation_id, filters.reservation_id),
  ];
  if (caller.isAdmin) {
    conditions.push(
      filters.host === undefined ? undefined : eq(instances.host, filters.host),
      filters.node === undefined ? undefined : eq(instances.node, filters.node),
      filters.vm_state === undefined ? undefined : eq(instances.vm_state, filters.vm_state),
      filters.task_state === undefined ? undefined : eq(instances.task_state, filters.task_state),
      filters.availability_zone === undefined
        ? undefined
        : eq(instances.availability_zone, filters.availability_zone),
      filters.user_id === undefined ? undefined : eq(instances.user_id, filters.user_id),
      filters.tenant_id === undefined ? undefined : eq(instances.project_id, filters.tenant_id),
    );
  }
  return and(...conditions);
}
