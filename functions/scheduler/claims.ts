import { and, eq, inArray, sql } from 'drizzle-orm';
import type { PrimaryDb } from '../../schema/db.ts';
import { computeNodes, resourceClaims } from '../../schema/tables/index.ts';
import { isDuplicateKey, NoValidHost } from '../shared/errors.ts';
import { selectHosts } from './host-query.ts';
import { choosePolicy, loadActivePolicies, type Policy, type PolicyChoice } from './policies.ts';
import type { HostState, RequestSpec } from './request-spec.ts';
import {
  type Decision,
  type SelectOptions,
  selectDestinations,
  summariseRejections,
} from './select-destinations.ts';

type Transaction = Parameters<Parameters<PrimaryDb['transaction']>[0]>[0];

/** The host moved on since the decision read it (another claim, a release, a dedication). */
class GenerationMoved extends Error {
  override readonly name = 'GenerationMoved';
}

/** The host, re-checked under its lock, no longer passes the policy. */
class NoLongerFits extends Error {
  override readonly name = 'NoLongerFits';
}

/** Inside a transaction: reserve the resources, conditional on the generation the decision saw. */
async function reserve(
  tx: Transaction,
  spec: RequestSpec,
  nodeId: number,
  generation: number,
): Promise<void> {
  try {
    await tx.insert(resourceClaims).values({
      instance_uuid: spec.instance_uuid,
      compute_node_id: nodeId,
      memory_mb: spec.memory_mb,
      vcpus: spec.vcpus,
      disk_gb: spec.disk_gb,
      created_at: new Date(),
    });
  } catch (error) {
    // Claimed already by an earlier try of the same step: the reservation stands, nothing to add.
    if (isDuplicateKey(error)) return;
    throw error;
  }
  const updated = await tx
    .update(computeNodes)
    .set({
      memory_mb_used: sql`${computeNodes.memory_mb_used} + ${spec.memory_mb}`,
      vcpus_used: sql`${computeNodes.vcpus_used} + ${spec.vcpus}`,
      local_gb_used: sql`${computeNodes.local_gb_used} + ${spec.disk_gb}`,
      running_vms: sql`${computeNodes.running_vms} + 1`,
      generation: sql`${computeNodes.generation} + 1`,
    })
    .where(
      and(eq(computeNodes.id, nodeId), eq(computeNodes.generation, generation), eq(computeNodes.deleted, 0)),
    );
  if (updated.rowsAffected !== 1) throw new GenerationMoved();
}

export type ClaimOutcome = 'claimed' | 'no_longer_fits';

/**
 * Claims `host` for the request. First optimistically: one transaction whose UPDATE is conditional on
 * the generation the decision read. If the host moved on, it locks the node row, re-runs the policy's
 * filters on that host's fresh state inside the same transaction and claims at the current generation
 * if it still passes. Under the lock nobody else can change the host, so the second try never loses a
 * race; it only fails when the host really cannot take the request any more.
 */
export async function claimHost(
  db: PrimaryDb,
  spec: RequestSpec,
  host: HostState,
  policy: PolicyChoice,
  options: Pick<SelectOptions, 'now' | 'serviceDownTimeSeconds'>,
): Promise<ClaimOutcome> {
  try {
    await db.transaction((tx) => reserve(tx, spec, host.id, host.generation));
    return 'claimed';
  } catch (error) {
    if (!(error instanceof GenerationMoved)) throw error;
  }
  try {
    await db.transaction(async (tx) => {
      const [locked] = await tx
        .select({ generation: computeNodes.generation })
        .from(computeNodes)
        .where(and(eq(computeNodes.id, host.id), eq(computeNodes.deleted, 0)))
        .for('update');
      if (!locked) throw new NoLongerFits();
      const recheck = await selectDestinations(tx, spec, { ...options, limit: 1, policy, nodeId: host.id });
      if (recheck.destinations.length === 0) throw new NoLongerFits();
      await reserve(tx, spec, host.id, locked.generation);
    });
    return 'claimed';
  } catch (error) {
    if (error instanceof NoLongerFits) return 'no_longer_fits';
    throw error;
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
const MAX_DECISIONS = 3;
const CANDIDATES_PER_DECISION = 10;

/**
 * Decides and claims: walks the ranked destinations, moving to the next one when a host can no longer
 * take the request, and decides afresh (bounded) when every candidate filled up meanwhile. When nothing
 * contends that is two round trips of reads (policies with earlier claims, then candidates) and the
 * claim's transaction.
 */
export async function scheduleAndClaim(
  db: PrimaryDb,
  spec: RequestSpec,
  options: Pick<SelectOptions, 'now' | 'serviceDownTimeSeconds'>,
): Promise<Placement> {
  // Independent reads, so one round trip's wait.
  const [active, earlier] = await Promise.all([loadActivePolicies(db), earlierClaim(db, spec)]);
  if (earlier) return { host: earlier, ...choosePolicy(active, spec), attempts: 0 };
  let attempts = 0;
  let last: Decision | undefined;
  for (let round = 0; round < MAX_DECISIONS && attempts < MAX_CLAIM_ATTEMPTS; round++) {
    const decision = await selectDestinations(db, spec, {
      ...options,
      active,
      limit: CANDIDATES_PER_DECISION,
    });
    last = decision;
    if (decision.destinations.length === 0) break;
    for (const { host } of decision.destinations) {
      if (attempts >= MAX_CLAIM_ATTEMPTS) break;
      attempts++;
      if ((await claimHost(db, spec, host, decision.choice, options)) === 'claimed')
        return { host, ...decision.choice, attempts };
    }
  }
  const explained = await selectDestinations(db, spec, { ...options, active, limit: 1, explain: true });
  const contended = attempts > 0 ? `${attempts} claim attempts found every candidate taken meanwhile. ` : '';
  throw new NoValidHost(
    `No valid host was found (policy ${(last ?? explained).choice.policy.name}). ${contended}${summariseRejections(
      explained.rejections,
      explained.rejectionsTruncated,
    )}`,
  );
}

/**
 * A claim this instance already holds on a host the request may use: an earlier try of the same step
 * committed it before failing to answer, so that try's placement stands (a move's source is ignored).
 */
async function earlierClaim(db: PrimaryDb, spec: RequestSpec): Promise<HostState | undefined> {
  const claims = await db
    .select({ node: resourceClaims.compute_node_id })
    .from(resourceClaims)
    .where(eq(resourceClaims.instance_uuid, spec.instance_uuid));
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

/** Releases every claim the instance holds (or only those on `nodeId`). Safe to call repeatedly. */
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
