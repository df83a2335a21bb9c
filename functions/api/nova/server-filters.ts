import {
  and,
  asc,
  desc,
  eq,
  gt,
  gte,
  inArray,
  isNotNull,
  isNull,
  like,
  lt,
  lte,
  not,
  notInArray,
  or,
  SQL,
  sql,
} from 'drizzle-orm';
import type { AnyMySqlColumn } from 'drizzle-orm/mysql-core';
import * as v from 'valibot';
import { eqIfGiven } from '../../../schema/conditions.ts';
import { instanceInfoCaches, instances, instanceTags, MAX_TAG_LENGTH } from '../../../schema/tables/index.ts';
import type { TaskState, VmState } from '../../compute/instance-states.ts';
import { serverStatus } from '../../compute/server-status.ts';
import { BadRequest, Forbidden } from '../../shared/errors.ts';
import type { Caller } from '../context.ts';

// The filters of GET /v3/servers(/detail) (nova-havana.md §1.7). valibot drops query keys that are
// not declared here, which is Havana's "unknown filters are silently ignored"; the admin-only ones
// are declared but ignored for members. Version 3 of the servers extension adds Nova's later filters
// (tags, changes-before, locked, hostname...) and sorting, and lets members filter their own servers
// by their states, zone, key, times and user (Nova's 2.83): only the host filters and another
// project's servers stay the admins'.
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

/** A comma-separated list of tags (Nova splits the filter's value the same way). */
const TagList = v.pipe(
  v.string(),
  v.transform((text) => text.split(',')),
  v.array(v.pipe(v.string(), v.maxLength(MAX_TAG_LENGTH, `no tag is longer than ${MAX_TAG_LENGTH}`))),
);

const TRUE_WORDS = ['1', 't', 'true', 'on', 'y', 'yes'];

/** Nova's strict boolean words, in any case. */
const LockedFlag = v.pipe(
  v.string(),
  v.toLowerCase(),
  v.picklist([...TRUE_WORDS, '0', 'f', 'false', 'off', 'n', 'no'], 'locked must be a boolean'),
  v.transform((flag) => TRUE_WORDS.includes(flag)),
);

type InstanceRow = typeof instances.$inferSelect;

/** What servers can be sorted by: Nova's sort keys that are columns here, by the row field each reads. */
const SORT_FIELDS = {
  created_at: 'created_at',
  updated_at: 'updated_at',
  display_name: 'display_name',
  display_description: 'description',
  uuid: 'uuid',
  vm_state: 'vm_state',
  task_state: 'task_state',
  power_state: 'power_state',
  progress: 'progress',
  host: 'host',
  node: 'node',
  hostname: 'hostname',
  image_ref: 'image_ref',
  key_name: 'key_name',
  availability_zone: 'availability_zone',
  launched_at: 'launched_at',
  terminated_at: 'terminated_at',
  project_id: 'project_id',
  user_id: 'user_id',
  locked_by: 'locked_by',
} as const satisfies Record<string, keyof InstanceRow>;
export const SORT_KEY_NAMES = [...Object.keys(SORT_FIELDS), 'locked'] as (
  | keyof typeof SORT_FIELDS
  | 'locked'
)[];
/** Where the host is shows only to admins, so only they sort by it (Nova). */
const ADMIN_SORT_KEYS = ['host', 'node'];

const CommaList = <T extends string>(options: readonly T[], message: string) =>
  v.pipe(
    v.string(),
    v.maxLength(1024),
    v.transform((text) => text.split(',')),
    v.array(v.picklist(options, message)),
  );

/** A regular expression the database can run too: one JavaScript accepts, of a sane length. */
const AddressPattern = v.pipe(
  v.string(),
  v.maxLength(255),
  v.check((pattern) => {
    try {
      new RegExp(pattern);
      return true;
    } catch {
      return false;
    }
  }, 'must be a regular expression'),
);

export const LIST_FILTER_FIELDS = {
  name: v.optional(Text),
  status: v.optional(v.pipe(v.string(), v.toUpperCase(), v.maxLength(30))),
  image: v.optional(LastSegment),
  flavor: v.optional(LastSegment),
  reservation_id: v.optional(Text),
  // Nova's regular expressions, matched from the start of each fixed IPv4 (ip) or IPv6 (ip6) address.
  ip: v.optional(AddressPattern),
  ip6: v.optional(AddressPattern),
  changes_since: v.optional(Timestamp),
  'changes-since': v.optional(Timestamp),
  host: v.optional(Text),
  node: v.optional(Text),
  vm_state: v.optional(Text),
  task_state: v.optional(Text),
  availability_zone: v.optional(Text),
  user_id: v.optional(Text),
  tenant_id: v.optional(Text),
  // Version 3.
  tags: v.optional(TagList),
  'tags-any': v.optional(TagList),
  'not-tags': v.optional(TagList),
  'not-tags-any': v.optional(TagList),
  'changes-before': v.optional(Timestamp),
  locked: v.optional(LockedFlag),
  hostname: v.optional(Text),
  description: v.optional(Text),
  key_name: v.optional(Text),
  config_drive: v.optional(Text),
  created_at: v.optional(Text),
  launched_at: v.optional(Text),
  terminated_at: v.optional(Text),
  power_state: v.optional(Text),
  progress: v.optional(Text),
  sort_key: v.optional(CommaList(SORT_KEY_NAMES, 'sort_key must name a column servers can be sorted by')),
  sort_dir: v.optional(CommaList(['asc', 'desc'], 'sort_dir must be asc or desc')),
};

const ListFilters = v.object(LIST_FILTER_FIELDS);
export type ListFilters = v.InferOutput<typeof ListFilters>;

/** What version 3 of the servers extension added to the list's query: a pinned older version ignores it. */
export const VERSION_3_LIST_FIELDS = [
  'tags',
  'tags-any',
  'not-tags',
  'not-tags-any',
  'changes-before',
  'locked',
  'hostname',
  'description',
  'key_name',
  'config_drive',
  'created_at',
  'launched_at',
  'terminated_at',
  'power_state',
  'progress',
  'sort_key',
  'sort_dir',
] as const satisfies readonly (keyof ListFilters)[];

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

/** The value's text contains `value` (Nova matches these filters as a pattern on the column's text). */
function textContains(column: AnyMySqlColumn, value: string): SQL {
  return sql`CAST(${column} AS CHAR) LIKE ${substring(value)}`;
}

/**
 * The server has the tag. A deleted server has none: Nova drops a server's tags when it is deleted,
 * while here they stay until the server is archived.
 */
function tagged(tag: string): SQL {
  return sql`(${instances.deleted} = 0 AND EXISTS (SELECT 1 FROM ${instanceTags}
    WHERE ${instanceTags.instance_uuid} = ${instances.uuid} AND ${instanceTags.deleted} = 0
      AND ${instanceTags.tag} = ${tag}))`;
}

function tagConditions(filters: ListFilters): (SQL | undefined)[] {
  const all = (tags: string[]) => and(...tags.map(tagged));
  const any = (tags: string[]) => or(...tags.map(tagged));
  const negated = (condition: SQL | undefined) => (condition ? not(condition) : undefined);
  return [
    filters.tags && all(filters.tags),
    filters['tags-any'] && any(filters['tags-any']),
    filters['not-tags'] && negated(all(filters['not-tags'])),
    filters['not-tags-any'] && negated(any(filters['not-tags-any'])),
  ];
}

/**
 * Servers changed in the window changes-since to changes-before, deleted ones included (a client
 * polling for changes learns of deletions too); without either bound, only live servers.
 */
function changesCondition(filters: ListFilters): SQL | undefined {
  const since = filters.changes_since ?? filters['changes-since'];
  const before = filters['changes-before'];
  if (since && before && before < since) {
    throw new BadRequest('The value of changes-since must be less than or equal to changes-before.');
  }
  if (!since && !before) return eq(instances.deleted, 0);
  const changed = sql`COALESCE(${instances.updated_at}, ${instances.created_at})`;
  return and(since ? gte(changed, since) : undefined, before ? lte(changed, before) : undefined);
}

/**
 * The WHERE of a server list (without the project scope). Deleted servers are listed only with
 * changes-since (or, from version 3, changes-before), as in Havana, so a client polling for changes
 * also learns about deletions. `later`: the request reads the servers extension at version 3 or later.
 */
/**
 * Servers with a fixed address of `version` that `pattern` matches from its start (Nova's ip and ip6
 * filters), read from each server's network cache in the same query as the page.
 */
function addressCondition(version: 4 | 6, pattern: string): SQL {
  return sql`EXISTS (SELECT 1 FROM ${instanceInfoCaches}, JSON_TABLE(${instanceInfoCaches.network_info}, '$[*].network.subnets[*].ips[*]' COLUMNS (address VARCHAR(64) PATH '$.address', version INT PATH '$.version')) AS fixed WHERE ${instanceInfoCaches.instance_uuid} = ${instances.uuid} AND fixed.version = ${version} AND fixed.address REGEXP ${`^(?:${pattern})`})`;
}

export function listFilterConditions(caller: Caller, filters: ListFilters, later: boolean): SQL | undefined {
  const conditions: (SQL | undefined)[] = [
    changesCondition(filters),
    filters.name === undefined ? undefined : like(instances.display_name, substring(filters.name)),
    filters.status === undefined ? undefined : statusCondition(filters.status),
    eqIfGiven(instances.image_ref, filters.image),
    filters.flavor === undefined
      ? undefined
      : sql`JSON_UNQUOTE(JSON_EXTRACT(${instances.flavor}, '$.flavorid')) = ${filters.flavor}`,
    eqIfGiven(instances.reservation_id, filters.reservation_id),
    filters.ip === undefined ? undefined : addressCondition(4, filters.ip),
    filters.ip6 === undefined ? undefined : addressCondition(6, filters.ip6),
  ];
  if (later) {
    conditions.push(
      ...tagConditions(filters),
      filters.locked === undefined
        ? undefined
        : filters.locked
          ? isNotNull(instances.locked_by)
          : isNull(instances.locked_by),
      filters.hostname === undefined ? undefined : like(instances.hostname, substring(filters.hostname)),
      filters.description === undefined
        ? undefined
        : like(instances.description, substring(filters.description)),
      filters.key_name === undefined ? undefined : like(instances.key_name, substring(filters.key_name)),
      // No server here has a config drive: asking for one matches none (Nova's column would be '').
      filters.config_drive === undefined || filters.config_drive === '' ? undefined : sql`false`,
      filters.created_at === undefined ? undefined : textContains(instances.created_at, filters.created_at),
      filters.launched_at === undefined
        ? undefined
        : textContains(instances.launched_at, filters.launched_at),
      filters.terminated_at === undefined
        ? undefined
        : textContains(instances.terminated_at, filters.terminated_at),
      filters.power_state === undefined
        ? undefined
        : textContains(instances.power_state, filters.power_state),
      filters.progress === undefined ? undefined : textContains(instances.progress, filters.progress),
    );
  }
  // A member's own servers by their states, zone and user reveal nothing of others (version 3).
  if (caller.isAdmin || later) {
    conditions.push(
      eqIfGiven(instances.vm_state, filters.vm_state),
      eqIfGiven(instances.task_state, filters.task_state),
      eqIfGiven(instances.availability_zone, filters.availability_zone),
      eqIfGiven(instances.user_id, filters.user_id),
    );
  }
  if (caller.isAdmin) {
    conditions.push(
      eqIfGiven(instances.host, filters.host),
      eqIfGiven(instances.node, filters.node),
      eqIfGiven(instances.project_id, filters.tenant_id),
    );
  }
  return and(...conditions);
}

interface SortTerm {
  /** What is sorted: a column, or `locked` computed from one (SQL). */
  expression: AnyMySqlColumn | SQL;
  descending: boolean;
  /** The marker row's value, as the expression compares it. */
  valueOf(row: InstanceRow): unknown;
}

/**
 * The order of a list: the requested keys (each with its direction, or the first one's, or desc),
 * then created_at and id as Nova appends them, so that the order is total and a marker exact.
 */
export function sortTerms(caller: Caller, filters: ListFilters): SortTerm[] {
  const dirs = filters.sort_dir ?? [];
  if (dirs.length > (filters.sort_key ?? []).length) {
    throw new BadRequest('Sort direction size exceeds sort key size');
  }
  const keys = [...(filters.sort_key ?? []), 'created_at', 'id'];
  const forbidden = keys.find((key) => ADMIN_SORT_KEYS.includes(key));
  if (forbidden && !caller.isAdmin)
    throw new Forbidden(`Only administrators can sort servers by ${forbidden}`);
  const seen = new Set<string>();
  return keys.flatMap((key, index): SortTerm[] => {
    if (seen.has(key)) return [];
    seen.add(key);
    const descending = (dirs[index] ?? dirs[0] ?? 'desc') === 'desc';
    if (key === 'locked') {
      const expression = sql`(${instances.locked_by} IS NOT NULL)`;
      return [{ expression, descending, valueOf: (row) => (row.locked_by === null ? 0 : 1) }];
    }
    const field: keyof InstanceRow = key === 'id' ? 'id' : SORT_FIELDS[key as keyof typeof SORT_FIELDS];
    return [{ expression: instances[field], descending, valueOf: (row) => row[field] }];
  });
}

/** ORDER BY for the terms. */
export function orderBy(terms: SortTerm[]): SQL[] {
  return terms.map((term) => (term.descending ? desc(term.expression) : asc(term.expression)));
}

/**
 * The rows after `marker` in the order of `terms` (keyset paging). MySQL puts NULL first in an
 * ascending order and last in a descending one; the comparisons below follow that.
 */
export function afterMarker(terms: SortTerm[], marker: InstanceRow): SQL | undefined {
  // A column maps the value to the driver's form (dates); drizzle types the two cases apart.
  const compare = (op: typeof eq, term: SortTerm, value: unknown) =>
    term.expression instanceof SQL ? op(term.expression, value) : op(term.expression, value);
  const equal = (term: SortTerm) => {
    const value = term.valueOf(marker);
    return value === null ? isNull(term.expression) : compare(eq, term, value);
  };
  const beyond = (term: SortTerm) => {
    const value = term.valueOf(marker);
    if (term.descending) {
      return value === null ? sql`false` : or(compare(lt, term, value), isNull(term.expression));
    }
    return value === null ? isNotNull(term.expression) : compare(gt, term, value);
  };
  return or(...terms.map((term, index) => and(...terms.slice(0, index).map(equal), beyond(term))));
}
