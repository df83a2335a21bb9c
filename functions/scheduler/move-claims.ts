import { and, eq } from 'drizzle-orm';
import type { PrimaryDb } from '../../schema/db.ts';
import { computeNodes, resourceClaims } from '../../schema/tables/index.ts';
import { NoValidHost } from '../shared/errors.ts';
import { claimHost, type Placement, scheduleAndClaim } from './claims.ts';
import { selectHosts } from './host-query.ts';
import { loadActivePolicies } from './policies.ts';
import type { RequestSpec } from './request-spec.ts';
import { type SelectOptions, selectDestinations, summariseRejections } from './select-destinations.ts';

export interface MoveClaimOptions extends Pick<SelectOptions, 'now' | 'serviceDownTimeSeconds'> {
  /** The host an admin chose: not ranked, but still run through the policy's filters and claimed. */
  forcedHost?: string | null;
}

// A forced host can only lose its claim to concurrent claims that filled it; a few tries tell that
// apart from a generation bump by an unrelated release.
const FORCED_CLAIM_ATTEMPTS = 3;

/**
 * Decides and claims the destination of a move (cold migrate, resize, live migrate, evacuate). The
 * source is in `spec.ignore_hosts`, so the claim the instance holds there is never taken for the
 * destination: the instance holds both until the move ends and one of them is released. A retried
 * step finds the destination claim its earlier try made and keeps it.
 */
export async function claimForMove(
  db: PrimaryDb,
  spec: RequestSpec,
  options: MoveClaimOptions,
): Promise<Placement> {
  if (!options.forcedHost) return scheduleAndClaim(db, spec, options);
  const host = options.forcedHost;
  if (spec.ignore_hosts.includes(host)) {
    throw new NoValidHost(`No valid host was found: ${host} is the host the server is moving from`);
  }
  const nodes = await selectHosts(db, and(eq(computeNodes.host, host), eq(computeNodes.deleted, 0)));
  if (nodes.length === 0) throw new NoValidHost(`No valid host was found: compute host ${host} is unknown`);
  const active = await loadActivePolicies(db);
  const held = await db
    .select({ node: resourceClaims.compute_node_id })
    .from(resourceClaims)
    .where(and(eq(resourceClaims.instance_uuid, spec.instance_uuid), eq(resourceClaims.pending, false)));
  for (const node of nodes) {
    if (held.some((claim) => claim.node === node.id)) {
      const decision = await selectDestinations(db, spec, { ...options, active, limit: 1, nodeId: node.id });
      return { host: node, ...decision.choice, attempts: 0 };
    }
  }
  const reasons: string[] = [];
  for (const node of nodes) {
    for (let attempt = 1; attempt <= FORCED_CLAIM_ATTEMPTS; attempt++) {
      const decision = await selectDestinations(db, spec, {
        ...options,
        active,
        limit: 1,
        nodeId: node.id,
        explain: true,
      });
      const [destination] = decision.destinations;
      if (!destination) {
        reasons.push(summariseRejections(decision.rejections, decision.rejectionsTruncated));
        break;
      }
      const outcome = await claimHost(db, spec, destination.host, decision.choice, options);
      if (outcome === 'claimed') return { host: destination.host, ...decision.choice, attempts: attempt };
    }
  }
  throw new NoValidHost(
    `No valid host was found: the requested host ${host} cannot take the server. ${reasons.join(' ')}`.trim(),
  );
}
