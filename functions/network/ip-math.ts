// IPv4 and IPv6 addresses and CIDRs as numbers (bigint), for IPAM and validation. Text forms are
// parsed strictly (a value that does not parse is the caller's 400) and formatted canonically (IPv6 as
// RFC 5952: lower case, the longest run of zero groups compressed), so that the same address always
// has the same text: the unique keys on addresses compare text.

export type IpVersion = 4 | 6;

export interface IpAddress {
  version: IpVersion;
  value: bigint;
}

export interface Cidr {
  version: IpVersion;
  /** The network address (host bits zero). */
  network: bigint;
  prefix: number;
}

const BITS: Record<IpVersion, number> = { 4: 32, 6: 128 };

function parseIpv4(text: string): bigint | undefined {
  const parts = text.split('.');
  if (parts.length !== 4) return undefined;
  let value = 0n;
  for (const part of parts) {
    if (!/^(0|[1-9]\d{0,2})$/.test(part)) return undefined;
    const octet = Number(part);
    if (octet > 255) return undefined;
    value = (value << 8n) | BigInt(octet);
  }
  return value;
}

function parseGroups(text: string, mayEndInIpv4: boolean): bigint[] | undefined {
  if (text === '') return [];
  const groups: bigint[] = [];
  const parts = text.split(':');
  for (const [index, part] of parts.entries()) {
    // An IPv4 tail (::ffff:192.0.2.1) counts as two groups; it can only end the address.
    if (mayEndInIpv4 && index === parts.length - 1 && part.includes('.')) {
      const v4 = parseIpv4(part);
      if (v4 === undefined) return undefined;
      groups.push(v4 >> 16n, v4 & 0xffffn);
      continue;
    }
    if (!/^[0-9a-fA-F]{1,4}$/.test(part)) return undefined;
    groups.push(BigInt(`0x${part}`));
  }
  return groups;
}

function parseIpv6(text: string): bigint | undefined {
  const halves = text.split('::');
  if (halves.length > 2) return undefined;
  const head = parseGroups(halves[0] ?? '', halves.length === 1);
  const tail = halves.length === 2 ? parseGroups(halves[1] ?? '', true) : [];
  if (!head || !tail) return undefined;
  const missing = 8 - head.length - tail.length;
  if (halves.length === 2 ? missing < 1 : missing !== 0) return undefined;
  const groups = [...head, ...Array<bigint>(Math.max(missing, 0)).fill(0n), ...tail];
  return groups.reduce((value, group) => (value << 16n) | group, 0n);
}

/** An address in either family, or undefined when `text` is not one. */
export function parseIp(text: string): IpAddress | undefined {
  if (text.includes(':')) {
    const value = parseIpv6(text);
    return value === undefined ? undefined : { version: 6, value };
  }
  const value = parseIpv4(text);
  return value === undefined ? undefined : { version: 4, value };
}

export function formatIp(address: IpAddress): string {
  if (address.version === 4) {
    return [24n, 16n, 8n, 0n].map((shift) => String((address.value >> shift) & 0xffn)).join('.');
  }
  const groups = [112n, 96n, 80n, 64n, 48n, 32n, 16n, 0n].map((shift) => (address.value >> shift) & 0xffffn);
  // RFC 5952: compress the longest run of two or more zero groups (the first, on a tie).
  let bestStart = -1;
  let bestLength = 1;
  for (let start = 0; start < 8; ) {
    if (groups[start] !== 0n) {
      start += 1;
      continue;
    }
    let end = start;
    while (end < 8 && groups[end] === 0n) end += 1;
    if (end - start > bestLength) {
      bestStart = start;
      bestLength = end - start;
    }
    start = end;
  }
  const hex = groups.map((group) => group.toString(16));
  if (bestStart < 0) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLength).join(':')}`;
}

/** The canonical text of an address given as text, or undefined when it is not an address. */
export function canonicalIp(text: string): string | undefined {
  const address = parseIp(text);
  return address && formatIp(address);
}

export function hostMask(version: IpVersion, prefix: number): bigint {
  return (1n << BigInt(BITS[version] - prefix)) - 1n;
}

/**
 * A CIDR whose host bits are zero (`10.0.0.0/24`), or undefined. `strict: false` accepts host bits
 * and clears them (`10.0.0.5/24` → `10.0.0.0/24`).
 */
export function parseCidr(text: string, options: { strict?: boolean } = {}): Cidr | undefined {
  const slash = text.indexOf('/');
  if (slash < 0) return undefined;
  const address = parseIp(text.slice(0, slash));
  const prefixText = text.slice(slash + 1);
  if (!address || !/^(0|[1-9]\d{0,2})$/.test(prefixText)) return undefined;
  const prefix = Number(prefixText);
  if (prefix > BITS[address.version]) return undefined;
  const mask = hostMask(address.version, prefix);
  if ((options.strict ?? true) && (address.value & mask) !== 0n) return undefined;
  return { version: address.version, network: address.value & ~mask, prefix };
}

export function formatCidr(cidr: Cidr): string {
  return `${formatIp({ version: cidr.version, value: cidr.network })}/${cidr.prefix}`;
}

/** The last address of the CIDR (the IPv4 broadcast address). */
export function lastAddress(cidr: Cidr): bigint {
  return cidr.network | hostMask(cidr.version, cidr.prefix);
}

export function cidrSize(cidr: Cidr): bigint {
  return hostMask(cidr.version, cidr.prefix) + 1n;
}

export function cidrContains(cidr: Cidr, address: IpAddress): boolean {
  return (
    address.version === cidr.version && address.value >= cidr.network && address.value <= lastAddress(cidr)
  );
}

export function cidrsOverlap(a: Cidr, b: Cidr): boolean {
  return a.version === b.version && a.network <= lastAddress(b) && b.network <= lastAddress(a);
}

/**
 * The addresses hosts may hold: IPv4 leaves out the network and broadcast addresses (except in /31 and
 * /32, which have none to spare); IPv6 leaves out the subnet-router anycast address (the first).
 */
export function usableRange(cidr: Cidr): { first: bigint; last: bigint } | undefined {
  const last = lastAddress(cidr);
  if (cidr.version === 4 && cidr.prefix >= 31) return { first: cidr.network, last };
  const range = { first: cidr.network + 1n, last: cidr.version === 4 ? last - 1n : last };
  return range.first <= range.last ? range : undefined;
}
