import { and, count, eq, inArray, ne, or, sql } from 'drizzle-orm';
import type { PrimaryDb } from '../../schema/db.ts';
import { aggregateHosts, aggregateMetadata, instances, resourceClaims } from '../../schema/tables/index.ts';
import { hintList, hintString } from './hints.ts';
import type { HostState, RequestSpec } from './request-spec.ts';

/** What some filters and weighers read beyond the host row; loaded in one query per kind, for a window of hosts. */
export type FactKind = 'aggregate_metadata' | 'instance_nodes' | 'group_nodes' | 'io_ops';

export interface HostFacts {
  /** host → metadata key → the values of every aggregate the host is in. */
  aggregateMetadata: Map<string, Map<string, string[]>>;
  /** server uuid (from `same_host`/`different_host`) → the nodes it holds claims on. */
  instanceNodes: Map<string, Set<number>>;
  /** Nodes where the other members of the request's `group` hold claims. */
  groupNodes: Set<number>;
  /** node id → instances building or in a disk-heavy task there. */
  ioOps: Map<number, number>;
}

/** Anything that can run a SELECT: the primary, or an open transaction. */
export type Reader = Pick<PrimaryDb, 'select' | 'execute'>;

// Nova's io_workload: instances building, or in a task that reads or writes whole disks.
const IO_TASK_STATES = ['resize_migrating', 'rebuilding', 'resize_prep', 'image_snapshot', 'image_backup'];

export function emptyFacts(): HostFacts {
  return {
    aggregateMetadata: new Map(),
    instanceNodes: new Map(),
    groupNodes: new Set(),
    ioOps: new Map(),
  };
}

export async function loadHostFacts(
  db: Reader,
  kinds: ReadonlySet<FactKind>,
  hosts: HostState[],
  spec: RequestSpec,
): Promise<HostFacts> {
  const facts = emptyFacts();
  if (hosts.length === 0) return facts;
  const names = [...new Set(hosts.map((host) => host.host))];
  if (kinds.has('aggregate_metadata')) {
    const rows = await db
      .select({ host: aggregateHosts.host, key: aggregateMetadata.key, value: aggregateMetadata.value })
      .from(aggregateHosts)
      .innerJoin(
        aggregateMetadata,
        and(
          eq(aggregateMetadata.aggregate_id, aggregateHosts.aggregate_id),
          eq(aggregateMetadata.deleted, 0),
        ),
      )
      .where(and(inArray(aggregateHosts.host, names), eq(aggregateHosts.deleted, 0)));
    for (const row of rows) {
      const byKey = facts.aggregateMetadata.get(row.host) ?? new Map<string, string[]>();
      byKey.set(row.key, [...(byKey.get(row.key) ?? []), row.value]);
      facts.aggregateMetadata.set(row.host, byKey);
    }
  }
  if (kinds.has('instance_nodes')) {
    const uuids = [
      ...hintList(spec.scheduler_hints.same_host),
      ...hintList(spec.scheduler_hints.different_host),
    ];
    if (uuids.length > 0) {
      const rows = await db
        .select({ uuid: resourceClaims.instance_uuid, node: resourceClaims.compute_node_id })
        .from(resourceClaims)
        .where(inArray(resourceClaims.instance_uuid, uuids));
      for (const row of rows) {
        // A pending claim not yet placed on a node says nothing about where the instance is.
        if (row.node === null) continue;
        facts.instanceNodes.set(row.uuid, (facts.instanceNodes.get(row.uuid) ?? new Set()).add(row.node));
      }
    }
  }
  const group = hintString(spec.scheduler_hints.group);
  if (kinds.has('group_nodes') && group !== undefined) {
    const rows = await db
      .select({ node: resourceClaims.compute_node_id })
      .from(resourceClaims)
      .innerJoin(instances, eq(instances.uuid, resourceClaims.instance_uuid))
      .where(
        and(
          eq(instances.project_id, spec.project_id),
          eq(instances.deleted, 0),
          ne(instances.uuid, spec.instance_uuid),
          sql`JSON_VALUE(${instances.scheduler_hints}, '$.group') = ${group}`,
        ),
      );
    for (const row of rows) if (row.node !== null) facts.groupNodes.add(row.node);
  }
  if (kinds.has('io_ops')) {
    const rows = await db
      .select({ node: resourceClaims.compute_node_id, ioOps: count() })
      .from(resourceClaims)
      .innerJoin(instances, and(eq(instances.uuid, resourceClaims.instance_uuid), eq(instances.deleted, 0)))
      .where(
        and(
          inArray(
            resourceClaims.compute_node_id,
            hosts.map((host) => host.id),
          ),
          or(eq(instances.vm_state, 'building'), inArray(instances.task_state, IO_TASK_STATES)),
        ),
      )
      .groupBy(resourceClaims.compute_node_id);
    for (const row of rows) if (row.node !== null) facts.ioOps.set(row.node, row.ioOps);
  }
  return facts;
}
