import { and, eq, inArray, sql } from 'drizzle-orm';
import type { PrimaryDb } from '../../schema/db.ts';
import { computeNodes, resourceClaims } from '../../schema/tables/index.ts';
import { NoValidHost } from '../shared/errors.ts';
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
// round trip to the database, and BEGIN and COMMIT would be two more): the claim row goes in `pending`,
// counting for nothing, then one UPDATE of the node joined with that row adds the row's resources to the
// node's usage and clears `pending`, conditional on the generation the decision read. Both rows change
// or neither; a pending row a crash leaves behind is inert and goes with the instance's other claims.

/** The host, re-checked under its lock, no longer passes the policy (or the pending claim was released). */
class NoLongerFits extends Error {
  override readonly name = 'NoLongerFits';
}

/** The pending claim row of the instance on the node; an existing row (an earlier try's) is kept. */
async function insertPending(db: PrimaryDb, spec: RequestSpec, nodeId: number): Promise<void> {
  await db
    .insert(resourceClaims)
    .values({
      instance_uuid: spec.instance_uuid,
      compute_node_id: nodeId,
      memory_mb: spec.memory_mb,
      vcpus: spec.vcpus,
      disk_gb: spec.disk_gb,
      pending: true,
      created_at: new Date(),
    })
    .onDuplicateKeyUpdate({ set: { instance_uuid: sql`${resourceClaims.instance_uuid}` } });
}

/** Counts the pending claim on the node if its generation is still `generation`; false if it moved on. */
async function applyPending(
  db: Executor,
  spec: RequestSpec,
  nodeId: number,
  generation: number,
): Promise<boolean> {
  const result = await db.execute(sql`UPDATE ${computeNodes} JOIN ${resourceClaims}
      ON ${resourceClaims.compute_node_id} = ${computeNodes.id}
    SET ${computeNodes.memory_mb_used} = ${computeNodes.memory_mb_used} + ${resourceClaims.memory_mb},
      ${computeNodes.vcpus_used} = ${computeNodes.vcpus_used} + ${resourceClaims.vcpus},
      ${computeNodes.local_gb_used} = ${computeNodes.local_gb_used} + ${resourceClaims.disk_gb},
      ${computeNodes.running_vms} = ${computeNodes.running_vms} + 1,
      ${computeNodes.generation} = ${computeNodes.generation} + 1,
      ${resourceClaims.pending} = FALSE
    WHERE ${computeNodes.id} = ${nodeId} AND ${computeNodes.generation} = ${generation}
      AND ${computeNodes.deleted} = 0
      AND ${resourceClaims.instance_uuid} = ${spec.instance_uuid} AND ${resourceClaims.pending} = TRUE`);
  // Changed rows: the node's and the claim's.
  return result.rowsAffected === 2;
}

export type ClaimOutcome = 'claimed' | 'no_longer_fits';

/**
 * Claims `host` for the request. First optimistically, conditional on the generation the decision read.
 * If the host moved on, a transaction locks the node row, re-runs the policy's filters on that host's
 * fresh state and counts the claim at the current generation if it still passes. Under the lock nobody
 * else can change the host, so the second try never loses a race; it only fails when the host really
 * cannot take the request any more, and then the pending row goes.
 */
export async function claimHost(
  db: PrimaryDb,
  spec: RequestSpec,
  host: HostState,
  policy: PolicyChoice,
  options: Pick<SelectOptions, 'now' | 'serviceDownTimeSeconds'>,
): Promise<ClaimOutcome> {
  await insertPending(db, spec, host.id);
  if (await applyPending(db, spec, host.id, host.generation)) return 'claimed';
  try {
    await db.transaction(async (tx) => {
      const [locked] = await tx
        .select({ generation: computeNodes.generation })
        .from(computeNodes)
        .where(and(eq(computeNodes.id, host.id), eq(computeNodes.deleted, 0)))
        .for('update');
      const [claim] = await tx
        .select({ pending: resourceClaims.pending })
        .from(resourceClaims)
        .where(
          and(
            eq(resourceClaims.instance_uuid, spec.instance_uuid),
            eq(resourceClaims.compute_node_id, host.id),
          ),
        )
        .for('update');
      if (!locked || !claim) throw new NoLongerFits();
      // An earlier try of the same step counted it already: that claim stands.
      if (!claim.pending) return;
      const recheck = await selectDestinations(tx, spec, { ...options, limit: 1, policy, nodeId: host.id });
      if (recheck.destinations.length === 0) throw new NoLongerFits();
      if (!(await applyPending(tx, spec, host.id, locked.generation))) throw new NoLongerFits();
    });
    return 'claimed';
  } catch (error) {
    if (!(error instanceof NoLongerFits)) throw error;
    await db
      .delete(resourceClaims)
      .where(
        and(
          eq(resourceClaims.instance_uuid, spec.instance_uuid),
          eq(resourceClaims.compute_node_id, host.id),
          eq(resourceClaims.pending, true),
        ),
      );
    return 'no_longer_fits';
  }
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
 * contends and no policy binding exists, that is three round trips: one read and the claim's two.
 */
export async function scheduleAndClaim(
  db: PrimaryDb,
  spec: RequestSpec,
  options: Pick<SelectOptions, 'now' | 'serviceDownTimeSeconds'>,
): Promise<Placement> {
  const decide: Decide = (choice, probe = false) =>
    selectDestinations(db, spec, { ...options, policy: choice, limit: CANDIDATES_PER_DECISION, probe });
  const start = await firstDecision(db, spec, decide);
  if (start.earlier) return { host: start.earlier, ...start.choice, attempts: 0 };
  let attempts = 0;
  for (let round = 0; round < MAX_DECISIONS && attempts < MAX_CLAIM_ATTEMPTS; round++) {
    const decision = round === 0 ? start.decision : await decide(start.choice);
    if (decision.destinations.length === 0) break;
    for (const { host } of decision.destinations) {
      if (attempts >= MAX_CLAIM_ATTEMPTS) break;
      attempts++;
      if ((await claimHost(db, spec, host, decision.choice, options)) === 'claimed')
        return { host, ...decision.choice, attempts };
    }
  }
  const explained = await selectDestinations(db, spec, {
    ...options,
    policy: start.choice,
    limit: 1,
    explain: true,
  });
  const contended = attempts > 0 ? `${attempts} claim attempts found every candidate taken meanwhile. ` : '';
  throw new NoValidHost(
    `No valid host was found (policy ${start.choice.policy.name}). ${contended}${summariseRejections(
      explained.rejections,
      explained.rejectionsTruncated,
    )}`,
  );
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
  const [host] = await selectHosts(db, eq(computeNodes.id, nodeId));
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
  const hosts = await selectHosts(
    db,
    inArray(
      computeNodes.id,
      claims.map((claim) => claim.node),
    ),
  );
  return hosts.find((host) => !spec.ignore_hosts.includes(host.host));
}

/** Releases every claim the instance holds (or only those on `nodeId`), pending ones included. Safe to call repeatedly. */
export async function releaseClaims(db: PrimaryDb, instanceUuid: string, nodeId?: number): Promise<number> {
  return db.transaction(async (tx) => {
    const claims = await tx
      .select()
      .from(resourceClaims)
      .where(
        and(
          eq(resourceClaims.instance_uuid, instanceUuid),
          nodeId === undefined ? undefined : eq(resourceClaims.compute_node_id, nodeId),
        ),
      )
      .for('update');
    for (const claim of claims) {
      await tx.delete(resourceClaims).where(eq(resourceClaims.id, claim.id));
      // A pending claim never reached the node's usage.
      if (claim.pending) continue;
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
