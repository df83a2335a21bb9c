import type { HostRoute } from '../../schema/tables/networking.ts';
import { invalidInput, NetworkError } from './errors.ts';
import {
  type Cidr,
  cidrContains,
  formatCidr,
  formatIp,
  type IpAddress,
  type IpVersion,
  lastAddress,
  parseCidr,
  parseIp,
  usableRange,
} from './ip-math.ts';

// A subnet's settings checked as Neutron checks them, with Neutron's messages: the CIDR, the gateway,
// DNS servers, host routes and the IPv6 modes. Pure: the database checks (overlaps, addresses in use)
// are functions/network/subnets.ts's.

/** Neutron's max_dns_nameservers and max_subnet_host_routes. */
export const MAX_DNS_NAMESERVERS = 5;
export const MAX_HOST_ROUTES = 20;
export const IPV6_MODES = ['slaac', 'dhcpv6-stateful', 'dhcpv6-stateless'] as const;
export type Ipv6Mode = (typeof IPV6_MODES)[number];
/** Modes where hosts make their own addresses from the prefix (EUI-64), which needs a /64. */
const AUTO_ADDRESS_MODES: readonly Ipv6Mode[] = ['slaac', 'dhcpv6-stateless'];

/** A malformed attribute, as Neutron's attribute validators answer it. */
export function invalidAttribute(name: string, reason: string): NetworkError {
  return new NetworkError(400, 'HTTPBadRequest', `Invalid input for ${name}. Reason: ${reason}`);
}

function versionMismatch(name: string, text: string, version: IpVersion): NetworkError {
  return invalidInput(`${name} '${text}' does not match the ip_version '${version}'`);
}

/** The subnet's CIDR: a network address (no host bits) of the subnet's IP version. */
export function checkSubnetCidr(text: string, version: IpVersion): Cidr {
  const cidr = parseCidr(text);
  if (!cidr) {
    const loose = parseCidr(text, { strict: false });
    if (!loose) throw invalidAttribute('cidr', `'${text}' is not a valid IP subnet.`);
    throw invalidAttribute(
      'cidr',
      `'${text}' isn't a recognized IP subnet cidr, '${formatCidr(loose)}' is recommended.`,
    );
  }
  if (cidr.version !== version) throw versionMismatch('cidr', text, version);
  if (cidr.prefix === 0)
    throw invalidInput(`${formatCidr(cidr)} is not allowed as a subnet: it is every address.`);
  return cidr;
}

const IPV6_LINK_LOCAL = parseCidr('fe80::/10') as Cidr;

/**
 * The gateway: the first address hosts may hold when not given, none when null. A given one must be
 * in the subnet (an IPv6 link-local router address is also fine, as Neutron allows) and, in IPv4,
 * neither the network nor the broadcast address.
 */
export function checkGateway(cidr: Cidr, given: string | null | undefined): IpAddress | undefined {
  if (given === null) return undefined;
  if (given === undefined) {
    const range = usableRange(cidr);
    return range && { version: cidr.version, value: range.first };
  }
  const gateway = parseIp(given);
  if (!gateway) throw invalidAttribute('gateway_ip', `'${given}' is not a valid IP address.`);
  if (gateway.version !== cidr.version) throw versionMismatch('gateway_ip', given, cidr.version);
  const linkLocal = gateway.version === 6 && cidrContains(IPV6_LINK_LOCAL, gateway);
  const reserved =
    cidr.version === 4 &&
    cidr.prefix < 31 &&
    (gateway.value === cidr.network || gateway.value === lastAddress(cidr));
  if ((!cidrContains(cidr, gateway) && !linkLocal) || reserved) {
    throw invalidInput('Gateway is not valid on subnet');
  }
  return gateway;
}

/** DNS servers: addresses, at most MAX_DNS_NAMESERVERS, none twice; canonical. */
export function checkDnsNameservers(servers: readonly string[], subnet: string): string[] {
  if (servers.length > MAX_DNS_NAMESERVERS) {
    throw new NetworkError(
      400,
      'DNSNameServersExhausted',
      `Unable to complete operation for ${subnet}. The number of DNS nameservers exceeds the limit ${MAX_DNS_NAMESERVERS}.`,
    );
  }
  const canonical: string[] = [];
  for (const server of servers) {
    const address = parseIp(server);
    if (!address) throw invalidAttribute('dns_nameservers', `'${server}' is not a valid nameserver.`);
    const text = formatIp(address);
    if (canonical.includes(text))
      throw invalidAttribute('dns_nameservers', `Duplicate nameserver '${server}'.`);
    canonical.push(text);
  }
  return canonical;
}

/** Host routes: a destination CIDR and a next hop of the subnet's version, at most MAX_HOST_ROUTES, none twice. */
export function checkHostRoutes(
  routes: readonly HostRoute[],
  version: IpVersion,
  subnet: string,
): HostRoute[] {
  if (routes.length > MAX_HOST_ROUTES) {
    throw new NetworkError(
      400,
      'HostRoutesExhausted',
      `Unable to complete operation for ${subnet}. The number of host routes exceeds the limit ${MAX_HOST_ROUTES}.`,
    );
  }
  const canonical: HostRoute[] = [];
  for (const route of routes) {
    const destination = parseCidr(route.destination);
    const nexthop = parseIp(route.nexthop);
    if (!destination || !nexthop) {
      throw invalidInput(
        `Invalid route: {'destination': '${route.destination}', 'nexthop': '${route.nexthop}'}`,
      );
    }
    if (nexthop.version !== version) throw versionMismatch('nexthop', route.nexthop, version);
    if (destination.version !== version) throw versionMismatch('destination', route.destination, version);
    const text = { destination: formatCidr(destination), nexthop: formatIp(nexthop) };
    if (canonical.some((seen) => seen.destination === text.destination && seen.nexthop === text.nexthop)) {
      throw invalidAttribute('host_routes', `Duplicate hostroute '${route.destination}'.`);
    }
    canonical.push(text);
  }
  return canonical;
}

/** The IPv6 modes: IPv6 only, with DHCP on, the same when both are given, a /64 for the auto-address ones. */
export function checkIpv6Modes(
  cidr: Cidr,
  modes: { ipv6_ra_mode: Ipv6Mode | null; ipv6_address_mode: Ipv6Mode | null },
  enableDhcp: boolean,
): void {
  const { ipv6_ra_mode: ra, ipv6_address_mode: address } = modes;
  if (ra === null && address === null) return;
  if (cidr.version === 4) {
    throw invalidInput('ipv6_ra_mode or ipv6_address_mode cannot be set when ip_version is 4');
  }
  if (!enableDhcp) {
    throw invalidInput('ipv6_ra_mode or ipv6_address_mode cannot be set when enable_dhcp is set to False.');
  }
  if (ra !== null && address !== null && ra !== address) {
    throw invalidInput(
      `ipv6_ra_mode set to '${ra}' with ipv6_address_mode set to '${address}' is not valid. If both attributes are set, they must be the same value`,
    );
  }
  const mode = address ?? ra;
  if (mode && AUTO_ADDRESS_MODES.includes(mode) && cidr.prefix !== 64) {
    throw invalidInput(
      `Invalid CIDR ${formatCidr(cidr)} for IPv6 address mode. OpenStack uses the EUI-64 address format, which requires the prefix to be /64`,
    );
  }
}
