import { and, eq, inArray, isNull, sql } from 'drizzle-orm';
import type { PrimaryDb } from '../../schema/db.ts';
import { computeNodes, resourceClaims } from '../../schema/tables/index.ts';
import { isDuplicateKey, NoValidHost } from '../shared/errors.ts';
import { selectHosts } from './host-query.ts';
import {
  BUILTIN_DEFAULT_POLICY,
  choosePolicy,
  loadActivePolicies,
  type Policy,
  type PolicyChoice,
} from './policies.ts';
import type { HostState, RequestSpec } from './request-spec.ts';
import {
  type Decision,
  type SelectOptions,
  selectDestinations,
  summariseRejections,
} from './select-destinations.ts';

type Transaction = Parameters<Parameters<PrimaryDb['transaction']>[0]>[0];
type Executor = PrimaryDb | Transaction;

// A claim takes two statements and no transaction when nothing contends (each statement is an HTTP
// round trip to the database, and BEGIN and COMMIT would be two more), and only one of them waits for the
// decision: the claim row goes in `pending` and on no node, counting for nothing, while the candidate
// query runs; then one UPDATE of the chosen node joined with that row adds the row's resources to the
// node's usage, places the row on the node and clears `pending`, conditional on the generation the
// decision read. Both rows change or neither. A pending row a crash leaves behind is inert and goes
// with the instance's other claims.

/** The host, re-checked under its lock, no longer passes the policy (or the pending claim was released). */
class NoLongerFits extends Error {
  override readonly name = 'NoLongerFits';
}

/** Writes the request's pending claim, on no node yet; its id is what the claim attempts place. */
export async function insertPendingClaim(db: PrimaryDb, spec: RequestSpec): Promise<number> {
  const result = await db.insert(resourceClaims).values({
    instance_uuid: spec.instance_uuid,
    compute_node_id: null,
    memory_mb: spec.memory_mb,
    vcpus: spec.vcpus,
    disk_gb: spec.disk_gb,
    pending: true,
    created_at: new Date(),
  });
  return Number(result.insertId);
}

/** Deletes a pending claim nothing placed (the request ended without a claim, or kept an earlier one). */
export async function dropPendingClaim(db: PrimaryDb, claimId: number): Promise<void> {
  await db
    .delete(resourceClaims)
    .where(and(eq(resourceClaims.id, claimId), eq(resourceClaims.pending, true)));
}

type Applied = 'counted' | 'moved_on' | 'already_held';

/**
 * Places the pending claim on the node and counts it, if the node's generation is still `generation`.
 * `already_held`: the instance holds a counted claim on that node already (a concurrent try of the same
 * step placed one), which the unique key on (instance, node) refuses to double.
 */
async function applyPending(
  db: Executor,
  claimId: number,
  nodeId: number,
  generation: number,
): Promise<Applied> {
  try {
    const result = await db.execute(sql`UPDATE ${computeNodes} JOIN ${resourceClaims}
        ON ${resourceClaims.id} = ${claimId}
      SET ${computeNodes.memory_mb_used} = ${computeNodes.memory_mb_used} + ${resourceClaims.memory_mb},
        ${computeNodes.vcpus_used} = ${computeNodes.vcpus_used} + ${resourceClaims.vcpus},
        ${computeNodes.local_gb_used} = ${computeNodes.local_gb_used} + ${resourceClaims.disk_gb},
        ${computeNodes.running_vms} = ${computeNodes.running_vms} + 1,
        ${computeNodes.generation} = ${computeNodes.generation} + 1,
        ${resourceClaims.compute_node_id} = ${computeNodes.id},
        ${resourceClaims.pending} = FALSE
      WHERE ${computeNodes.id} = ${nodeId} AND ${computeNodes.generation} = ${generation}
        AND ${computeNodes.deleted} = 0 AND ${resourceClaims.pending} = TRUE`);
    // Changed rows: the node's and the claim's.
    return result.rowsAffected === 2 ? 'counted' : 'moved_on';
  } catch (error) {
    if (isDuplicateKey(error)) return 'already_held';
    throw error;
  }
}

export type ClaimOutcome = 'claimed' | 'no_longer_fits';

/**
 * Claims `host` for the request with its pending claim `claimId`. First optimistically, conditional on
 * the generation the decision read. If the host moved on, a transaction locks the node row and the claim
 * row, re-runs the policy's filters on that host's fresh state and counts the claim at the current
 * generation if it still passes. Under the lock nobody else can change the host, so the second try never
 * loses a race; it only fails when the host really cannot take the request any more, and then the
 * pending claim stays for the next candidate.
 */
export async function claimHost(
  db: PrimaryDb,
  spec: RequestSpec,
  claimId: number,
  host: HostState,
  policy: PolicyChoice,
  options: Pick<SelectOptions, 'now' | 'serviceDownTimeSeconds'>,
): Promise<ClaimOutcome> {
  const optimistic = await applyPending(db, claimId, host.id, host.generation);
  if (optimistic !== 'moved_on') return settle(db, claimId, optimistic);
  try {
    const applied = await db.transaction(async (tx) => {
      const [locked] = await tx
        .select({ generation: computeNodes.generation })
        .from(computeNodes)
        .where(and(eq(computeNodes.id, host.id), eq(computeNodes.deleted, 0)))
        .for('update');
      const [claim] = await tx
        .select({ pending: resourceClaims.pending })
        .from(resourceClaims)
        .where(eq(resourceClaims.id, claimId))
        .for('update');
      if (!locked || !claim?.pending) throw new NoLongerFits();
      const recheck = await selectDestinations(tx, spec, { ...options, limit: 1, policy, nodeId: host.id });
      if (recheck.destinations.length === 0) throw new NoLongerFits();
      const outcome = await applyPending(tx, claimId, host.id, locked.generation);
      if (outcome === 'moved_on') throw new NoLongerFits();
      return outcome;
    });
    return settle(db, claimId, applied);
  } catch (error) {
    if (!(error instanceof NoLongerFits)) throw error;
    return 'no_longer_fits';
  }
}

/** A claim the instance already held on the node stands; the pending one is then not needed. */
async function settle(
  db: PrimaryDb,
  claimId: number,
  applied: 'counted' | 'already_held',
): Promise<ClaimOutcome> {
  if (applied === 'already_held') await dropPendingClaim(db, claimId);
  return 'claimed';
}

export interface Placement {
  host: HostState;
  policy: Policy;
  chosenBy: string;
  /** Claim attempts it took, the successful one included. */
  attempts: number;
}

/** How many hosts one request may try to claim before NoValidHost, and how often it may decide afresh. */
export const MAX_CLAIM_ATTEMPTS = 30;
const MAX_DECISIONS = 6;
const CANDIDATES_PER_DECISION = 5;

const BUILTIN_DEFAULT: PolicyChoice = { policy: BUILTIN_DEFAULT_POLICY, chosenBy: 'default' };

type Decide = (choice: PolicyChoice, probe?: boolean) => Promise<Decision>;

/**
 * Decides and claims: walks the ranked destinations, moving to the next one when a host can no longer
 * take the request, and decides afresh (bounded) when every candidate filled up meanwhile. When nothing
 * contends and no policy binding exists, that is three round trips, two of them at once: the candidate
 * read and the pending claim's insert, then the counting UPDATE. Whatever ends without a claim placed
 * deletes the pending one.
 */
export async function scheduleAndClaim(
  db: PrimaryDb,
  spec: RequestSpec,
  options: Pick<SelectOptions, 'now' | 'serviceDownTimeSeconds'>,
): Promise<Placement> {
  const decide: Decide = (choice, probe = false) =>
    selectDestinations(db, spec, { ...options, policy: choice, limit: CANDIDATES_PER_DECISION, probe });
  const [first, pending] = await Promise.allSettled([
    firstDecision(db, spec, decide),
    insertPendingClaim(db, spec),
  ]);
  if (pending.status === 'rejected') throw pending.reason;
  const claimId = pending.value;
  let placed = false;
  try {
    if (first.status === 'rejected') throw first.reason;
    const start = first.value;
    if (start.earlier) return { host: start.earlier, ...start.choice, attempts: 0 };
    let attempts = 0;
    for (let round = 0; round < MAX_DECISIONS && attempts < MAX_CLAIM_ATTEMPTS; round++) {
      const decision = round === 0 ? start.decision : await decide(start.choice);
      if (decision.destinations.length === 0) break;
      for (const { host } of decision.destinations) {
        if (attempts >= MAX_CLAIM_ATTEMPTS) break;
        attempts++;
        if ((await claimHost(db, spec, claimId, host, decision.choice, options)) === 'claimed') {
          placed = true;
          return { host, ...decision.choice, attempts };
        }
      }
    }
    const explained = await selectDestinations(db, spec, {
      ...options,
      policy: start.choice,
      limit: 1,
      explain: true,
    });
    const contended =
      attempts > 0 ? `${attempts} claim attempts found every candidate taken meanwhile. ` : '';
    throw new NoValidHost(
      `No valid host was found (policy ${start.choice.policy.name}). ${contended}${summariseRejections(
        explained.rejections,
        explained.rejectionsTruncated,
      )}`,
    );
  } finally {
    if (!placed) await dropPendingClaim(db, claimId);
  }
}

/**
 * The first decision, in one read when it can be: the built-in default policy's candidates, their
 * rows also saying whether any policy binding exists and where an earlier try of this request already
 * holds a claim. Without bindings the built-in default is the policy that decides, so that read is the
 * decision; otherwise the policies are loaded, and a policy other than the built-in one decides afresh.
 */
async function firstDecision(
  db: PrimaryDb,
  spec: RequestSpec,
  decide: Decide,
): Promise<{ decision: Decision; choice: PolicyChoice; earlier: HostState | undefined }> {
  const speculative = await decide(BUILTIN_DEFAULT, true);
  const { probe } = speculative;
  if (probe?.liveBindings === 0)
    return { decision: speculative, choice: BUILTIN_DEFAULT, earlier: await liveNode(db, probe.heldNode) };
  const [active, earlier] = await Promise.all([
    loadActivePolicies(db),
    probe ? liveNode(db, probe.heldNode) : earlierClaim(db, spec),
  ]);
  const choice = choosePolicy(active, spec);
  const decision = choice.policy === BUILTIN_DEFAULT_POLICY ? speculative : await decide(choice);
  return { decision, choice, earlier };
}

async function liveNode(db: PrimaryDb, nodeId: number | null): Promise<HostState | undefined> {
  if (nodeId === null) return undefined;
  const [host] = await selectHosts(db, { where: eq(computeNodes.id, nodeId) });
  return host;
}

/**
 * A claim this instance already holds on a host the request may use: an earlier try of the same step
 * committed it before failing to answer, so that try's placement stands (a move's source is ignored).
 * Read on its own only when the candidate query returned no row to answer it (RequestProbe).
 */
async function earlierClaim(db: PrimaryDb, spec: RequestSpec): Promise<HostState | undefined> {
  const claims = await db
    .select({ node: resourceClaims.compute_node_id })
    .from(resourceClaims)
    .where(and(eq(resourceClaims.instance_uuid, spec.instance_uuid), eq(resourceClaims.pending, false)));
  if (claims.length === 0) return undefined;
  const hosts = await selectHosts(db, {
    where: inArray(
      computeNodes.id,
      claims.flatMap((claim) => claim.node ?? []),
    ),
  });
  return hosts.find((host) => !spec.ignore_hosts.includes(host.host));
}

/**
 * Releases every claim the instance holds (or only those on `nodeId`; `null`: the pending ones on no node),
 * pending ones included. Safe to call repeatedly.
 */
export async function releaseClaims(
  db: PrimaryDb,
  instanceUuid: string,
  nodeId?: number | null,
): Promise<number> {
  return db.transaction(async (tx) => {
    const claims = await tx
      .select()
      .from(resourceClaims)
      .where(
        and(
          eq(resourceClaims.instance_uuid, instanceUuid),
          nodeId === undefined
            ? undefined
            : nodeId === null
              ? isNull(resourceClaims.compute_node_id)
              : eq(resourceClaims.compute_node_id, nodeId),
        ),
      )
      .for('update');
    for (const claim of claims) {
      await tx.delete(resourceClaims).where(eq(resourceClaims.id, claim.id));
      // A pending claim never reached the node's usage.
      if (claim.pending || claim.compute_node_id === null) continue;
      await tx
        .update(computeNodes)
        .set({
          memory_mb_used: sql`${computeNodes.memory_mb_used} - ${claim.memory_mb}`,
          vcpus_used: sql`${computeNodes.vcpus_used} - ${claim.vcpus}`,
          local_gb_used: sql`${computeNodes.local_gb_used} - ${claim.disk_gb}`,
          running_vms: sql`${computeNodes.running_vms} - 1`,
          generation: sql`${computeNodes.generation} + 1`,
        })
        .where(eq(computeNodes.id, claim.compute_node_id));
    }
    return claims.length;
  });
}
