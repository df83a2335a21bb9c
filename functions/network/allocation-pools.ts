import type { AllocationPool } from '../../schema/tables/networking.ts';
import { NetworkError } from './errors.ts';
import { type Cidr, formatIp, type IpAddress, parseIp, usableRange } from './ip-math.ts';

// A subnet's allocation pools: the ranges IPAM hands addresses out from. By default the subnet's
// usable range split around the gateway, as Neutron does; given pools must lie in the subnet, must not
// overlap each other and must not contain the gateway.

export interface NumericPool {
  first: bigint;
  last: bigint;
}

export function poolSize(pool: NumericPool): bigint {
  return pool.last - pool.first + 1n;
}

export function defaultPools(cidr: Cidr, gateway: IpAddress | undefined): NumericPool[] {
  const range = usableRange(cidr);
  if (!range) return [];
  if (!gateway || gateway.value < range.first || gateway.value > range.last) return [range];
  return [
    { first: range.first, last: gateway.value - 1n },
    { first: gateway.value + 1n, last: range.last },
  ].filter((pool) => pool.first <= pool.last);
}

export function formatPools(version: Cidr['version'], pools: NumericPool[]): AllocationPool[] {
  return pools.map((pool) => ({
    start: formatIp({ version, value: pool.first }),
    end: formatIp({ version, value: pool.last }),
  }));
}

/** Pools as stored (text) back to numbers; the stored text was validated when the subnet was written. */
export function numericPools(pools: readonly AllocationPool[]): NumericPool[] {
  return pools.flatMap((pool) => {
    const first = parseIp(pool.start);
    const last = parseIp(pool.end);
    return first && last ? [{ first: first.value, last: last.value }] : [];
  });
}

/** Validates pools given for a subnet; the errors are Neutron's. */
export function validatePools(
  cidr: Cidr,
  pools: readonly AllocationPool[],
  gateway: IpAddress | undefined,
): NumericPool[] {
  const numeric = pools.map((pool) => {
    const first = parseIp(pool.start);
    const last = parseIp(pool.end);
    if (
      !first ||
      !last ||
      first.version !== cidr.version ||
      last.version !== cidr.version ||
      first.value > last.value
    ) {
      throw new NetworkError(
        400,
        'InvalidAllocationPool',
        `The allocation pool ${pool.start}-${pool.end} is not valid.`,
      );
    }
    // Inside the addresses hosts may hold: a pool with the IPv4 network or broadcast address (or the
    // IPv6 subnet-router anycast address) would hand it to a port, as Neutron refuses too.
    const usable = usableRange(cidr);
    if (!usable || first.value < usable.first || last.value > usable.last) {
      throw new NetworkError(
        400,
        'OutOfBoundsAllocationPool',
        `The allocation pool ${pool.start}-${pool.end} spans beyond the subnet cidr.`,
      );
    }
    return { first: first.value, last: last.value, text: `${pool.start}-${pool.end}` };
  });
  const sorted = [...numeric].sort((a, b) => (a.first < b.first ? -1 : a.first > b.first ? 1 : 0));
  for (const [index, pool] of sorted.entries()) {
    const next = sorted[index + 1];
    if (next && next.first <= pool.last) {
      throw new NetworkError(
        409,
        'OverlappingAllocationPools',
        `Found overlapping allocation pools: ${pool.text} and ${next.text}.`,
      );
    }
    if (gateway && gateway.value >= pool.first && gateway.value <= pool.last) {
      throw new NetworkError(
        409,
        'GatewayConflictWithAllocationPools',
        `Gateway ip ${formatIp(gateway)} conflicts with allocation pool ${pool.text}.`,
      );
    }
  }
  return sorted.map(({ first, last }) => ({ first, last }));
}
