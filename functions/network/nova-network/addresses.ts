import { BadRequest } from '../../shared/errors.ts';
import {
  type Cidr,
  cidrContains,
  formatCidr,
  formatIp,
  hostMask,
  lastAddress,
  parseCidr,
  parseIp,
} from '../ip-math.ts';

// nova-network's address arithmetic (Havana's NetworkManager._do_create_networks and
// _create_fixed_ips), pure: what a network row says about its range, and which of its addresses are
// never leased. Every address of the range becomes a fixed_ips row, so the size of a range is bounded.

/** The widest IPv4 range a network or a floating IP range may have: a /16 is 65,536 rows. */
export const WIDEST_PREFIX = 16;

/** Havana's flat_network_dns: the first DNS server of a network created without one. */
export const DEFAULT_DNS1 = '8.8.4.4';

/** Havana's flat_network_bridge; a VLAN network's bridge is `br<vlan>`. */
export const FLAT_BRIDGE = 'br100';

export function defaultBridge(vlan: number | null): string {
  return vlan === null ? FLAT_BRIDGE : `br${vlan}`;
}

export interface FixedAddress {
  address: string;
  reserved: boolean;
}

/** What a network row records about its IPv4 range, and the fixed IPs it holds. */
export interface Ipv4Plan {
  cidr: string;
  netmask: string;
  gateway: string;
  broadcast: string;
  /** The first address dnsmasq leases: the first one not reserved. */
  dhcp_start: string;
  /** VLAN networks: the cloudpipe VPN's address (the third of the range); null on flat networks. */
  vpn_private_address: string | null;
  /** Every address of the range, in order. */
  addresses: FixedAddress[];
}

export interface Ipv6Plan {
  cidr_v6: string;
  /** Havana stores the prefix length here, not a mask. */
  netmask_v6: string;
  gateway_v6: string;
}

function ipv4(value: bigint): string {
  return formatIp({ version: 4, value });
}

function parseIpv4Cidr(field: string, text: string): Cidr {
  const cidr = parseCidr(text);
  if (!cidr) {
    const loose = parseCidr(text, { strict: false });
    throw new BadRequest(
      loose
        ? `Invalid input for field '${field}': ${text} has host bits set (did you mean ${formatCidr(loose)}?)`
        : `Invalid input for field '${field}': ${text} is not a CIDR`,
    );
  }
  if (cidr.version !== 4) throw new BadRequest(`Invalid input for field '${field}': ${text} is not IPv4`);
  if (cidr.prefix < WIDEST_PREFIX) {
    throw new BadRequest(
      `Invalid input for field '${field}': /${cidr.prefix} is wider than /${WIDEST_PREFIX} (every address becomes a row)`,
    );
  }
  return cidr;
}

/**
 * How many addresses at the bottom of a range are never leased: the network address and the gateway,
 * and on VLAN networks the VPN address too. At the top, the broadcast address (Havana's
 * cnt_vpn_clients adds none by default).
 */
export function reservedAtBottom(vlan: boolean): number {
  return vlan ? 3 : 2;
}

/**
 * Plans a network's IPv4 range: netmask, gateway (the first host unless given), broadcast, DHCP start
 * (after the reserved bottom) and each address with whether it is reserved. A gateway given elsewhere
 * in the range is reserved as well as the bottom positions Havana reserves. 400 naming `cidr` or
 * `gateway` when the range is malformed, too wide, or leaves nothing to lease.
 */
export function planIpv4(cidrText: string, options: { gateway?: string; vlan: boolean }): Ipv4Plan {
  const cidr = parseIpv4Cidr('cidr', cidrText);
  const last = lastAddress(cidr);
  const bottom = BigInt(reservedAtBottom(options.vlan));
  let gateway = cidr.network + 1n;
  if (options.gateway !== undefined) {
    const given = parseIp(options.gateway);
    if (given?.version !== 4 || !cidrContains(cidr, given))
      throw new BadRequest(
        `Invalid input for field 'gateway': ${options.gateway} is not an IPv4 address in ${cidrText}`,
      );
    if (given.value === cidr.network || given.value === last)
      throw new BadRequest(
        `Invalid input for field 'gateway': ${options.gateway} is the network or broadcast address of ${cidrText}`,
      );
    gateway = given.value;
  }
  const isReserved = (value: bigint) => value - cidr.network < bottom || value === last || value === gateway;
  const addresses: FixedAddress[] = [];
  for (let value = cidr.network; value <= last; value += 1n)
    addresses.push({ address: ipv4(value), reserved: isReserved(value) });
  const firstLeasable = addresses.find((address) => !address.reserved);
  if (!firstLeasable) {
    throw new BadRequest(
      `Invalid input for field 'cidr': ${cidrText} leaves no address to lease (a ${options.vlan ? 'VLAN' : 'flat'} network reserves ${bottom} at the bottom and the broadcast address)`,
    );
  }
  return {
    cidr: formatCidr(cidr),
    netmask: ipv4(0xffffffffn ^ hostMask(4, cidr.prefix)),
    gateway: ipv4(gateway),
    broadcast: ipv4(last),
    dhcp_start: firstLeasable.address,
    vpn_private_address: options.vlan ? ipv4(cidr.network + 2n) : null,
    addresses,
  };
}

/** A network's IPv6 range: no fixed_ips rows, only what the row records. */
export function planIpv6(cidrText: string, gatewayText?: string): Ipv6Plan {
  const cidr = parseCidr(cidrText);
  if (cidr?.version !== 6)
    throw new BadRequest(`Invalid input for field 'cidr_v6': ${cidrText} is not an IPv6 CIDR`);
  let gateway = cidr.network + 1n;
  if (gatewayText !== undefined) {
    const given = parseIp(gatewayText);
    if (!given || !cidrContains(cidr, given))
      throw new BadRequest(
        `Invalid input for field 'gateway_v6': ${gatewayText} is not an IPv6 address in ${cidrText}`,
      );
    gateway = given.value;
  }
  return {
    cidr_v6: formatCidr(cidr),
    netmask_v6: String(cidr.prefix),
    gateway_v6: formatIp({ version: 6, value: gateway }),
  };
}

/**
 * The addresses of a floating IP range (os-floating-ips-bulk): one address, or a CIDR's host
 * addresses (without its network and broadcast addresses). Ranges smaller than four addresses must
 * be given address by address, as Havana required.
 */
export function floatingRangeAddresses(range: string): string[] {
  const single = parseIp(range);
  if (single) {
    if (single.version !== 4)
      throw new BadRequest(`Invalid input for field 'ip_range': ${range} is not IPv4`);
    return [formatIp(single)];
  }
  const cidr = parseIpv4Cidr('ip_range', range);
  if (cidr.prefix > 30) {
    throw new BadRequest(
      `Invalid input for field 'ip_range': /${cidr.prefix} should be specified as single address(es) not in cidr format`,
    );
  }
  const addresses: string[] = [];
  for (let value = cidr.network + 1n; value < lastAddress(cidr); value += 1n) addresses.push(ipv4(value));
  return addresses;
}
