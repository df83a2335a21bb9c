import { and, desc, type SQL } from 'drizzle-orm';
import { eqIfGiven } from '../../../schema/conditions.ts';
import { computeNodes } from '../../../schema/tables/index.ts';
import type { RequestSpec } from '../request-spec.ts';
import type { HostFilter } from './filter.ts';

// A boot that named its host and/or node (compute 2.74) may land only there, and every other filter
// still applies: Nova narrows the host list to the requested destination before filtering. No policy
// can drop it, so it is not in the list policies name (filters/index.ts).

function condition(spec: RequestSpec): SQL | undefined {
  const destination = spec.requested_destination;
  if (!destination) return undefined;
  return and(
    eqIfGiven(computeNodes.host, destination.host),
    eqIfGiven(computeNodes.hypervisor_hostname, destination.node),
  );
}

// The columns compare under utf8mb4_unicode_ci, ignoring case and accents; so does the in-memory
// answer, or an explanation would reject the very host the query chose.
function sameName(requested: string | undefined, actual: string): boolean {
  return requested === undefined || requested.localeCompare(actual, 'en', { sensitivity: 'base' }) === 0;
}

export const requestedDestinationFilter: HostFilter = {
  name: 'RequestedDestinationFilter',
  description:
    'The host (and node) is the one the boot request named (compute 2.74 host, hypervisor_hostname).',
  hints: [],
  sql: condition,
  passes(host, spec) {
    const destination = spec.requested_destination;
    if (!destination) return null;
    if (sameName(destination.host, host.host) && sameName(destination.node, host.hypervisor_hostname))
      return null;
    const named = [
      ...(destination.host === undefined ? [] : [`host ${destination.host}`]),
      ...(destination.node === undefined ? [] : [`node ${destination.node}`]),
    ];
    return `the request named ${named.join(', ')}`;
  },
};

/**
 * The requested destination's hosts before any other, for an explanation that examines a bounded number
 * of hosts: the reason the named host failed is the one worth reading, however large the fleet.
 */
export function requestedDestinationFirst(spec: RequestSpec): SQL[] {
  const requested = condition(spec);
  return requested ? [desc(requested)] : [];
}
