import { and, eq } from 'drizzle-orm';
import type { PrimaryDb } from '../../schema/db.ts';
import { computeNodes, resourceClaims } from '../../schema/tables/index.ts';
import { NoValidHost } from '../shared/errors.ts';
import {
  claimHost,
  dropPendingClaim,
  insertPendingClaim,
  type Placement,
  scheduleAndClaim,
} from './claims.ts';
import { selectHosts } from './host-query.ts';
import { choosePolicy, DEFAULT_SETTINGS, loadActivePolicies, type PolicyChoice } from './policies.ts';
import type { RequestSpec } from './request-spec.ts';
import { type SelectOptions, selectDestinations, summariseRejections } from './select-destinations.ts';

export interface MoveClaimOptions extends Pick<SelectOptions, 'now' | 'serviceDownTimeSeconds'> {
  /** The host an admin chose: not ranked and exempt from placement rules, but it must be up and have room. */
  forcedHost?: string | null;
  /**
   * The host an admin asked for without forcing it (Nova's requested destination): the policy that
   * would decide the move must accept it like any candidate, placement rules included.
   */
  requestedHost?: string | null;
}

/** How a forced host is checked (the source stays excluded: a move's ignore_hosts always apply). */
const FORCED_HOST: PolicyChoice = {
  policy: {
    id: null,
    name: 'forced-host',
    description: 'An admin chose the host: its service must be up and it must have room, nothing else.',
    filters: ['ComputeFilter', 'RamFilter', 'CoreFilter', 'DiskFilter'],
    weighers: [],
    settings: DEFAULT_SETTINGS,
    bindings: [],
  },
  chosenBy: 'forced host',
};

// A named host can only lose its claim to concurrent claims that filled it; a few tries tell that
// apart from a generation bump by an unrelated release.
const NAMED_HOST_CLAIM_ATTEMPTS = 3;

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
  if (options.forcedHost) return claimNamedHost(db, spec, options.forcedHost, FORCED_HOST, options);
  if (options.requestedHost) {
    const choice = choosePolicy(await loadActivePolicies(db), spec);
    return claimNamedHost(db, spec, options.requestedHost, choice, options);
  }
  return scheduleAndClaim(db, spec, options);
}

/** Claims a node of `host` if `choice`'s policy lets it take the request: the host is not ranked. */
async function claimNamedHost(
  db: PrimaryDb,
  spec: RequestSpec,
  host: string,
  choice: PolicyChoice,
  options: MoveClaimOptions,
): Promise<Placement> {
  if (spec.ignore_hosts.includes(host)) {
    throw new NoValidHost(`No valid host was found: ${host} is the host the server is moving from`);
  }
  const [nodes, held, claimId] = await Promise.all([
    selectHosts(db, { where: eq(computeNodes.host, host) }),
    db
      .select({ node: resourceClaims.compute_node_id })
      .from(resourceClaims)
      .where(and(eq(resourceClaims.instance_uuid, spec.instance_uuid), eq(resourceClaims.pending, false))),
    insertPendingClaim(db, spec),
  ]);
  let placed = false;
  try {
    if (nodes.length === 0) throw new NoValidHost(`No valid host was found: compute host ${host} is unknown`);
    const claimed = nodes.find((node) => held.some((claim) => claim.node === node.id));
    if (claimed) return { host: claimed, ...choice, attempts: 0 };
    const reasons: string[] = [];
    let attempts = 0;
    for (const node of nodes) {
      for (let attempt = 1; attempt <= NAMED_HOST_CLAIM_ATTEMPTS; attempt++) {
        const decision = await selectDestinations(db, spec, {
          ...options,
          policy: choice,
          limit: 1,
          nodeId: node.id,
        });
        const [destination] = decision.destinations;
        if (!destination) {
          const explained = await selectDestinations(db, spec, {
            ...options,
            policy: choice,
            limit: 1,
            nodeId: node.id,
            explain: true,
          });
          reasons.push(summariseRejections(explained.rejections, explained.rejectionsTruncated));
          break;
        }
        attempts++;
        const outcome = await claimHost(db, spec, claimId, destination.host, choice, options);
        if (outcome === 'claimed') {
          placed = true;
          return { host: destination.host, ...choice, attempts };
        }
      }
    }
    if (reasons.length === 0) reasons.push(`${attempts} claim attempts found it taken meanwhile.`);
    throw new NoValidHost(
      `No valid host was found (policy ${choice.policy.name}): the requested host ${host} cannot take the server. ${reasons.join(' ')}`,
    );
  } finally {
    if (!placed) await dropPendingClaim(db, claimId);
  }
}
