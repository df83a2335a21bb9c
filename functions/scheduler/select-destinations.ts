import { and, asc, desc, type SQL } from 'drizzle-orm';
import { eqIfGiven } from '../../schema/conditions.ts';
import { computeNodes } from '../../schema/tables/index.ts';
import { agentCommandsFilter } from './filters/agent-commands.ts';
import type { FilterContext, HostFilter } from './filters/filter.ts';
import { FILTERS_BY_NAME } from './filters/index.ts';
import { requestedDestinationFilter, requestedDestinationFirst } from './filters/requested-destination.ts';
import { retryFilter } from './filters/retry.ts';
import { type FactKind, type HostFacts, loadHostFacts, type Reader } from './host-facts.ts';
import { type RequestProbe, selectHosts, selectHostsWithProbe } from './host-query.ts';
import {
  type ActivePolicies,
  choosePolicy,
  loadActivePolicies,
  type Policy,
  type PolicyChoice,
} from './policies.ts';
import type { HostState, RequestSpec } from './request-spec.ts';
import { WEIGHERS_BY_NAME } from './weighers/index.ts';
import { type Destination, type WeigherInPolicy, weighHosts } from './weighers/weigh.ts';

export interface Rejection {
  host: string;
  node: string;
  filter: string;
  reason: string;
}

export interface Decision {
  /** The policy that decided, and the binding that selected it. */
  choice: PolicyChoice;
  /** Best first. */
  destinations: Destination[];
  /** Hosts a filter turned down, with why. Complete for the hosts examined only when `explain` was asked. */
  rejections: Rejection[];
  /** More hosts exist than the explanation examined. */
  rejectionsTruncated: boolean;
  /** When asked for and the candidate query returned any row. */
  probe?: RequestProbe;
}

export interface SelectOptions {
  now: Date;
  serviceDownTimeSeconds: number;
  /** How many ranked destinations to return at most. */
  limit: number;
  /** Also examine hosts the SQL filters removed, to say why each was rejected (dry runs, NoValidHost). */
  explain?: boolean;
  /** Decide with this policy instead of resolving one (a claim re-validating the host it locked). */
  policy?: PolicyChoice;
  /** Active policies already loaded by the caller. */
  active?: ActivePolicies;
  /** Consider this node only. */
  nodeId?: number;
  /** Also answer the request probe (host-query.ts) from the candidate rows. */
  probe?: boolean;
}

// The candidate query returns hosts a window at a time, pre-ordered by the policy's SQL-computable
// weigher; the in-memory filters and the full weighing run on each window. A window that the
// in-memory filters empty is followed by the next one, so those filters never cause a false NoValidHost.
// The first window is twice the 5 candidates a claim walks (claims.ts), as every row costs decoding
// time; each next one doubles, so a filter that rejects most hosts still reaches the whole fleet in
// a few reads.
const WINDOW = 10;
const MAX_WINDOW = 1000;
const MAX_WINDOWS = 200;
const EXPLAIN_LIMIT = 500;

interface Pipeline {
  context: FilterContext;
  filters: HostFilter[];
  weighers: WeigherInPolicy[];
}

function pipeline(policy: Policy, options: SelectOptions): Pipeline {
  return {
    context: {
      now: options.now,
      serviceDownTimeSeconds: options.serviceDownTimeSeconds,
      settings: policy.settings,
    },
    // Hosts to ignore are never candidates, whatever the policy (Nova's host manager dropped them before
    // any filter ran): a move must leave its source. Nor is a host whose agent cannot run the request's
    // commands: no policy can make it carry them out. That one is asked last, so a host another filter
    // rejects is explained by the policy's reason (its zone, its room) rather than by its agent. The
    // requested destination is asked first: a host a boot did not name is rejected for that alone.
    filters: [
      requestedDestinationFilter,
      ...(policy.filters.includes(retryFilter.name) ? [] : [retryFilter]),
      ...policy.filters.flatMap((name) => FILTERS_BY_NAME.get(name) ?? []),
      ...(policy.filters.includes(agentCommandsFilter.name) ? [] : [agentCommandsFilter]),
    ],
    weighers: policy.weighers.flatMap(({ name, multiplier }) => {
      const weigher = WEIGHERS_BY_NAME.get(name);
      return weigher ? [{ weigher, multiplier }] : [];
    }),
  };
}

function neededFacts(
  spec: RequestSpec,
  filters: HostFilter[],
  weighers: Pipeline['weighers'],
): Set<FactKind> {
  return new Set([
    ...filters.flatMap((filter) => filter.needs?.(spec) ?? []),
    ...weighers.flatMap(({ weigher }) => weigher.needs?.(spec) ?? []),
  ]);
}

function firstFailure(
  host: HostState,
  spec: RequestSpec,
  filters: HostFilter[],
  context: FilterContext,
  facts: HostFacts,
): Rejection | null {
  for (const filter of filters) {
    const reason = filter.passes(host, spec, context, facts);
    if (reason !== null)
      return { host: host.host, node: host.hypervisor_hostname, filter: filter.name, reason };
  }
  return null;
}

// Ties break by id in the weigher's own direction: an index on the weigher's column ends with the
// primary key, so it serves the whole ORDER BY and the query stops reading at its LIMIT.
function preOrder(weighers: Pipeline['weighers']): SQL[] {
  const first = weighers.find(({ weigher, multiplier }) => weigher.sql !== undefined && multiplier !== 0);
  if (!first?.weigher.sql) return [asc(computeNodes.id)];
  const direction = first.multiplier > 0 ? desc : asc;
  return [direction(first.weigher.sql), direction(computeNodes.id)];
}

/** Why each host (up to EXPLAIN_LIMIT, SQL filters included) fails the policy. */
async function explain(
  db: Reader,
  spec: RequestSpec,
  { context, filters, weighers }: Pipeline,
  nodeId: number | undefined,
): Promise<{ rejections: Rejection[]; truncated: boolean }> {
  const rows = await selectHosts(db, {
    where: eqIfGiven(computeNodes.id, nodeId),
    orderBy: [...requestedDestinationFirst(spec), asc(computeNodes.id)],
    limit: EXPLAIN_LIMIT + 1,
  });
  const hosts = rows.slice(0, EXPLAIN_LIMIT);
  const facts = await loadHostFacts(db, neededFacts(spec, filters, weighers), hosts, spec);
  const rejections = hosts.flatMap((host) => firstFailure(host, spec, filters, context, facts) ?? []);
  return { rejections, truncated: rows.length > EXPLAIN_LIMIT };
}

/**
 * Ranks the hosts that can take `spec`, best first, under the policy its criteria select. The filters
 * that SQL can answer (requested destination, liveness, zone, capacity with aggregate ratios, dedication,
 * tenancy, retry) are conditions of the candidate query, so hosts that cannot pass are never loaded;
 * the rest run in memory on bounded windows. Reads go to whatever `db` is: the primary for a decision
 * that leads to a claim, the open transaction for a claim re-validating its host.
 */
export async function selectDestinations(
  db: Reader,
  spec: RequestSpec,
  options: SelectOptions,
): Promise<Decision> {
  const choice = options.policy ?? choosePolicy(options.active ?? (await loadActivePolicies(db)), spec);
  const steps = pipeline(choice.policy, options);
  const sqlFilters = steps.filters.filter((filter) => filter.sql !== undefined);
  const memoryFilters = steps.filters.filter((filter) => filter.sql === undefined);
  const where = and(
    eqIfGiven(computeNodes.id, options.nodeId),
    ...sqlFilters.map((filter) => filter.sql?.(spec, steps.context)),
  );
  const kinds = neededFacts(spec, memoryFilters, steps.weighers);
  const wanted = Math.max(options.limit, spec.num_instances);
  let windowSize = Math.max(WINDOW, wanted * 2);
  let offset = 0;
  const passing: HostState[] = [];
  const rejections: Rejection[] = [];
  let facts: HostFacts | undefined;
  let probe: RequestProbe | undefined;
  const order = preOrder(steps.weighers);
  for (let window = 0; window < MAX_WINDOWS && passing.length < wanted; window++) {
    const query = { where, orderBy: order, limit: windowSize, offset };
    let rows: HostState[];
    if (options.probe && !probe) {
      const probed = await selectHostsWithProbe(db, query, spec);
      rows = probed.hosts;
      probe = probed.probe;
    } else {
      rows = await selectHosts(db, query);
    }
    const windowFacts = await loadHostFacts(db, kinds, rows, spec);
    for (const host of rows) {
      const rejection = firstFailure(host, spec, memoryFilters, steps.context, windowFacts);
      if (rejection) rejections.push(rejection);
      else passing.push(host);
    }
    facts = mergeFacts(facts, windowFacts);
    if (rows.length < windowSize) break;
    offset += windowSize;
    windowSize = Math.min(windowSize * 2, MAX_WINDOW);
  }
  const destinations = weighHosts(
    passing,
    spec,
    steps.context,
    steps.weighers,
    facts ?? (await loadHostFacts(db, kinds, [], spec)),
  ).slice(0, wanted);
  const explained = options.explain ? await explain(db, spec, steps, options.nodeId) : undefined;
  return {
    choice,
    destinations,
    rejections: explained?.rejections ?? rejections,
    rejectionsTruncated: explained?.truncated ?? false,
    probe,
  };
}

function mergeFacts(into: HostFacts | undefined, next: HostFacts): HostFacts {
  if (!into) return next;
  for (const [host, metadata] of next.aggregateMetadata) into.aggregateMetadata.set(host, metadata);
  for (const [node, ioOps] of next.ioOps) into.ioOps.set(node, ioOps);
  return into;
}

/** One line for an instance fault: how many hosts each filter rejected, then the first few reasons. */
export function summariseRejections(rejections: Rejection[], truncated: boolean): string {
  if (rejections.length === 0) return 'no compute host exists';
  const byFilter = new Map<string, number>();
  for (const rejection of rejections)
    byFilter.set(rejection.filter, (byFilter.get(rejection.filter) ?? 0) + 1);
  const counts = [...byFilter.entries()].map(([filter, count]) => `${filter}: ${count}`).join(', ');
  const examples = rejections
    .slice(0, 5)
    .map((rejection) => `${rejection.host}: ${rejection.reason}`)
    .join('; ');
  return `${rejections.length}${truncated ? '+' : ''} hosts rejected (${counts}). ${examples}`;
}
