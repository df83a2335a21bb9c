import { eq } from 'drizzle-orm';
import type { PrimaryDb } from '../../schema/db.ts';
import { neutronIpAllocations, type neutronSubnets } from '../../schema/tables/index.ts';
import { type NumericPool, numericPools, poolSize } from './allocation-pools.ts';
import { invalidInput, invalidIpForSubnet, ipAddressGenerationFailure } from './errors.ts';
import {
  type Cidr,
  cidrContains,
  formatIp,
  type IpAddress,
  parseCidr,
  parseIp,
  usableRange,
} from './ip-math.ts';

// Address management. An address is held by one row of neutron_ip_allocations, unique per (subnet,
// address): choosing an address is only a proposal, and the INSERT of the port's transaction is the
// claim. Two concurrent creates that propose the same address cannot both commit it; the loser
// proposes again from a fresh read (functions/network/ports.ts retries). Proposals are random among
// the free addresses, so that concurrent creates rarely propose the same one.

export type SubnetRow = typeof neutronSubnets.$inferSelect;

/** What a port asked for on one subnet: a given address, or any free one. */
export interface AddressRequest {
  subnet: SubnetRow;
  /** Canonical text of the address asked for; undefined for any free address. */
  address?: string;
  /** For any free address: subnets to take it from, in order, when `subnet` has none free. */
  fallbacks?: SubnetRow[];
}

/** Above this many addresses a pool is probed at random instead of read whole (IPv6, big IPv4 ranges). */
const READ_WHOLE_POOL_LIMIT = 65_536n;

export function subnetCidr(subnet: SubnetRow): Cidr {
  const cidr = parseCidr(subnet.cidr);
  if (!cidr) throw new Error(`subnet ${subnet.uuid} has an unreadable cidr ${subnet.cidr}`);
  return cidr;
}

/**
 * Checks an address a port asks for on a subnet: inside the subnet's CIDR, not its network or
 * broadcast address, and not its gateway unless the port is the router's interface there.
 */
export function checkRequestedAddress(subnet: SubnetRow, text: string, deviceOwner: string): string {
  const address = parseIp(text);
  if (!address) throw invalidInput(`'${text}' is not a valid IP address`);
  const cidr = subnetCidr(subnet);
  const usable = usableRange(cidr);
  if (
    !cidrContains(cidr, address) ||
    !usable ||
    address.value < usable.first ||
    address.value > usable.last
  ) {
    throw invalidIpForSubnet(text);
  }
  const canonical = formatIp(address);
  if (canonical === subnet.gateway_ip && !deviceOwner.startsWith('network:router')) {
    throw invalidInput(`IP address ${canonical} is the gateway of subnet ${subnet.uuid}`);
  }
  return canonical;
}

/** The subnet of `subnets` that contains `text`, for a fixed IP given without its subnet. */
export function subnetContaining(subnets: readonly SubnetRow[], text: string): SubnetRow {
  const address = parseIp(text);
  if (!address) throw invalidInput(`'${text}' is not a valid IP address`);
  const subnet = subnets.find((candidate) => cidrContains(subnetCidr(candidate), address));
  if (!subnet) throw invalidIpForSubnet(text);
  return subnet;
}

function randomBelow(bound: bigint, random: () => number): bigint {
  // Two draws give 53 + 53 bits: plenty for any pool, and uniform enough for spreading proposals.
  const high = BigInt(Math.floor(random() * 2 ** 53));
  const low = BigInt(Math.floor(random() * 2 ** 53));
  return ((high << 53n) | low) % bound;
}

function pickFromPools(pools: readonly NumericPool[], random: () => number): bigint | undefined {
  const total = pools.reduce((sum, pool) => sum + poolSize(pool), 0n);
  if (total === 0n) return undefined;
  let index = randomBelow(total, random);
  for (const pool of pools) {
    const size = poolSize(pool);
    if (index < size) return pool.first + index;
    index -= size;
  }
  return undefined;
}

/** The subnet's pools without its gateway (a pool never holds it, but an admin may move the gateway). */
function poolsOf(subnet: SubnetRow): NumericPool[] {
  return numericPools(subnet.allocation_pools);
}

/**
 * Proposes a free address of the subnet, or undefined when every address of its pools is taken.
 * Small pools are read whole from the primary (the index on (subnet, address) answers it); big ones
 * are probed at random, where a taken address is unlikely and the claim catches it anyway.
 */
export async function proposeAddress(
  db: Pick<PrimaryDb, 'select'>,
  subnet: SubnetRow,
  random: () => number = Math.random,
): Promise<string | undefined> {
  const cidr = subnetCidr(subnet);
  const gateway = subnet.gateway_ip ? parseIp(subnet.gateway_ip) : undefined;
  const pools = poolsOf(subnet);
  const total = pools.reduce((sum, pool) => sum + poolSize(pool), 0n);
  const format = (value: bigint) => formatIp({ version: cidr.version, value } satisfies IpAddress);
  if (total > READ_WHOLE_POOL_LIMIT) {
    const value = pickFromPools(pools, random);
    return value === undefined || value === gateway?.value ? undefined : format(value);
  }
  const inPools = (value: bigint) => pools.some((pool) => value >= pool.first && value <= pool.last);
  const taken = new Set<bigint>();
  for (const row of await db
    .select({ ip_address: neutronIpAllocations.ip_address })
    .from(neutronIpAllocations)
    .where(eq(neutronIpAllocations.subnet_uuid, subnet.uuid))) {
    const address = parseIp(row.ip_address);
    if (address && inPools(address.value)) taken.add(address.value);
  }
  if (gateway && inPools(gateway.value)) taken.add(gateway.value);
  const free = total - BigInt(taken.size);
  if (free <= 0n) return undefined;
  // While at least one address in eight is free, a few random draws find one without walking the
  // pools; a nearly full subnet is walked once for its free addresses.
  if (free * 8n >= total) {
    for (let draw = 0; draw < 32; draw += 1) {
      const value = pickFromPools(pools, random);
      if (value !== undefined && !taken.has(value)) return format(value);
    }
  }
  const freeValues: bigint[] = [];
  for (const pool of pools) {
    for (let value = pool.first; value <= pool.last; value += 1n) {
      if (!taken.has(value)) freeValues.push(value);
    }
  }
  const chosen = freeValues[Math.floor(random() * freeValues.length)];
  return chosen === undefined ? undefined : format(chosen);
}

/** Proposes the addresses of every request; a subnet with nothing free is IpAddressGenerationFailure. */
export async function proposeAddresses(
  db: Pick<PrimaryDb, 'select'>,
  networkUuid: string,
  requests: readonly AddressRequest[],
): Promise<Array<{ subnet: SubnetRow; address: string; requested: boolean }>> {
  return Promise.all(
    requests.map(async (request) => {
      if (request.address) return { subnet: request.subnet, address: request.address, requested: true };
      for (const subnet of [request.subnet, ...(request.fallbacks ?? [])]) {
        const address = await proposeAddress(db, subnet);
        if (address) return { subnet, address, requested: false };
      }
      throw ipAddressGenerationFailure(networkUuid);
    }),
  );
}
