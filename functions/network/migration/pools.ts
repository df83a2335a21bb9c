import type { NumericPool } from '../allocation-pools.ts';
import { type Cidr, hostMask, usableRange } from '../ip-math.ts';

// The address arithmetic of the migration, on IPv4 numbers: which addresses of a nova network the new
// subnet may hand out, and which subnet carries a floating pool's addresses.

/**
 * A nova network's allocation pools: from its dhcp_start (the first address nova-network leased) up to
 * the address below the broadcast, without the gateway and without every address nova-network held
 * back (its `reserved` fixed IPs: the VPN address, addresses an admin reserved), which become holes.
 * Addresses in use stay inside the pools: their ports hold them, so IPAM never hands them out again.
 */
export function fixedSubnetPools(
  cidr: Cidr,
  dhcpStart: bigint | undefined,
  gateway: bigint | undefined,
  reserved: Iterable<bigint>,
): NumericPool[] {
  const usable = usableRange(cidr);
  if (!usable) return [];
  const first = dhcpStart !== undefined && dhcpStart > usable.first ? dhcpStart : usable.first;
  const holes = new Set(reserved);
  if (gateway !== undefined) holes.add(gateway);
  return removeHoles({ first, last: usable.last }, holes);
}

/** The range split around each hole inside it. */
export function removeHoles(range: NumericPool, holes: ReadonlySet<bigint>): NumericPool[] {
  const inside = [...holes].filter((hole) => hole >= range.first && hole <= range.last).sort(compare);
  const pools: NumericPool[] = [];
  let start = range.first;
  for (const hole of inside) {
    if (hole > start) pools.push({ first: start, last: hole - 1n });
    start = hole + 1n;
  }
  if (start <= range.last) pools.push({ first: start, last: range.last });
  return pools;
}

/** The addresses as runs of consecutive addresses, ascending: a floating pool's allocation pools. */
export function consecutiveRuns(addresses: Iterable<bigint>): NumericPool[] {
  const sorted = [...new Set(addresses)].sort(compare);
  const runs: NumericPool[] = [];
  for (const address of sorted) {
    const last = runs.at(-1);
    if (last && address === last.last + 1n) last.last = address;
    else runs.push({ first: address, last: address });
  }
  return runs;
}

/**
 * The smallest IPv4 CIDR holding every address as a host address (never as its network or broadcast
 * address, which a subnet cannot hand out): the subnet of a floating pool's external network. nova
 * kept no CIDR for a floating range, only its addresses.
 */
export function coveringCidr(addresses: readonly bigint[]): Cidr | undefined {
  const sorted = [...addresses].sort(compare);
  const low = sorted[0];
  const high = sorted.at(-1);
  if (low === undefined || high === undefined) return undefined;
  let prefix = 32 - (low ^ high).toString(2).replace(/^0$/, '').length;
  for (; prefix >= 0; prefix--) {
    const cidr: Cidr = { version: 4, network: low & ~hostMask(4, prefix), prefix };
    const usable = usableRange(cidr);
    if (usable && usable.first <= low && high <= usable.last) return cidr;
  }
  return undefined;
}

function compare(a: bigint, b: bigint): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
