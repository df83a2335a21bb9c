import { NetworkError } from './errors.ts';
import { formatCidr, parseCidr, parseIp } from './ip-math.ts';

// What a security group rule matches, checked and put in canonical form as Neutron does before it
// stores a rule: protocol names or numbers, port ranges only where the protocol has ports (ICMP's type
// and code in their place), a remote prefix of the rule's address family. The canonical form is also
// what duplicate detection compares, so `tcp` and `6`, or no prefix and `0.0.0.0/0`, are one rule.

export type Direction = 'ingress' | 'egress';
export type Ethertype = 'IPv4' | 'IPv6';

export interface RuleFieldsInput {
  direction: Direction;
  ethertype: Ethertype;
  /** A name, a number 0-255 (as a number or text), `any`, or null for every protocol. */
  protocol: string | number | null;
  port_range_min: number | null;
  port_range_max: number | null;
  remote_ip_prefix: string | null;
  remote_group_id: string | null;
}

export interface RuleFields {
  direction: Direction;
  ethertype: Ethertype;
  protocol: string | null;
  port_range_min: number | null;
  port_range_max: number | null;
  remote_ip_prefix: string | null;
  remote_group_id: string | null;
}

/** IANA protocol numbers of the names Neutron accepts. */
const PROTOCOL_NUMBERS: Readonly<Record<string, number>> = {
  ah: 51,
  dccp: 33,
  egp: 8,
  esp: 50,
  gre: 47,
  hopopt: 0,
  icmp: 1,
  igmp: 2,
  ipip: 4,
  'ipv6-encap': 41,
  'ipv6-frag': 44,
  'ipv6-icmp': 58,
  icmpv6: 58,
  'ipv6-nonxt': 59,
  'ipv6-opts': 60,
  'ipv6-route': 43,
  ospf: 89,
  pgm: 113,
  rsvp: 46,
  sctp: 132,
  tcp: 6,
  udp: 17,
  udplite: 136,
  vrrp: 112,
};

/** Protocols whose rules may name a port range. */
const PORT_PROTOCOLS = new Set([6, 17, 33, 132, 136]);
const ICMP_PROTOCOLS = new Set([1, 58]);
/** Protocols that exist only over IPv6. */
const IPV6_ONLY_PROTOCOLS = new Set([41, 43, 44, 58, 59, 60]);
const MAX_PORT = 65_535;
const MAX_ICMP_VALUE = 255;

const invalid = (type: string, message: string) => new NetworkError(400, type, message);

/** The protocol's number, for the checks; undefined for "every protocol". */
function protocolNumber(protocol: string | null): number | undefined {
  if (protocol === null) return undefined;
  return PROTOCOL_NUMBERS[protocol] ?? Number(protocol);
}

function canonicalProtocol(raw: string | number | null, ethertype: Ethertype): string | null {
  if (raw === null) return null;
  const text = String(raw).trim().toLowerCase();
  if (text === 'any') return null;
  let protocol: string;
  if (text in PROTOCOL_NUMBERS) protocol = text;
  else if (/^\d{1,3}$/.test(text) && Number(text) <= 255) protocol = String(Number(text));
  else {
    throw invalid(
      'SecurityGroupRuleInvalidProtocol',
      `Security group rule protocol ${String(raw)} not supported. Only protocol values ${Object.keys(PROTOCOL_NUMBERS).join(', ')} and integer representations [0 to 255] are supported.`,
    );
  }
  // IPv6 rules name ICMP as ipv6-icmp (58), whichever of the legacy spellings was given.
  if (ethertype === 'IPv6') {
    if (protocol === 'icmp' || protocol === 'icmpv6') return 'ipv6-icmp';
    if (protocol === '1') return '58';
  }
  return protocol;
}

function checkPortRange(protocol: string | null, min: number | null, max: number | null): void {
  if (min === null && max === null) return;
  const number = protocolNumber(protocol);
  if (number === undefined) {
    throw invalid(
      'SecurityGroupProtocolRequiredWithPorts',
      'Must also specify protocol if port range is given.',
    );
  }
  if (PORT_PROTOCOLS.has(number)) {
    if (min === 0 || max === 0) throw invalid('SecurityGroupInvalidPortValue', 'Invalid value for port 0.');
    const outside = [min, max].find((port) => port !== null && port > MAX_PORT);
    if (outside !== undefined) {
      throw invalid('SecurityGroupInvalidPortValue', `Invalid value for port ${outside}.`);
    }
    if (min === null || max === null || min > max) {
      throw invalid(
        'SecurityGroupInvalidPortRange',
        'For TCP/UDP protocols, port_range_min must be <= port_range_max',
      );
    }
    return;
  }
  if (ICMP_PROTOCOLS.has(number)) {
    for (const [attribute, field, value] of [
      ['port_range_min', 'type', min],
      ['port_range_max', 'code', max],
    ] as const) {
      if (value !== null && (value < 0 || value > MAX_ICMP_VALUE)) {
        throw invalid(
          'SecurityGroupInvalidIcmpValue',
          `Invalid value for ICMP ${field} (${attribute}): ${value}. It must be 0 to 255.`,
        );
      }
    }
    if (min === null && max !== null) {
      throw invalid(
        'SecurityGroupMissingIcmpType',
        `ICMP code (port-range-max) ${max} is provided but ICMP type (port-range-min) is missing.`,
      );
    }
    return;
  }
  throw invalid(
    'SecurityGroupInvalidProtocolForPort',
    `Invalid protocol ${protocol} for port range, only supported for TCP, UDP, UDPLITE, SCTP and DCCP protocols.`,
  );
}

/** The prefix in canonical CIDR form (host bits cleared, /32 or /128 for a bare address). */
function canonicalPrefix(text: string | null, ethertype: Ethertype): string | null {
  if (text === null) return null;
  const bare = parseIp(text);
  const cidr = bare
    ? { version: bare.version, network: bare.value, prefix: bare.version === 4 ? 32 : 128 }
    : parseCidr(text, { strict: false });
  if (!cidr) {
    throw invalid('InvalidInput', `Invalid input for operation: '${text}' is not a valid IP prefix.`);
  }
  if (ethertype !== `IPv${cidr.version}`) {
    throw invalid(
      'SecurityGroupRuleParameterConflict',
      `Conflicting value ethertype ${ethertype} for CIDR ${text}`,
    );
  }
  return formatCidr(cidr);
}

/** Checks a rule's fields and returns them in canonical form; 400 with Neutron's type otherwise. */
export function canonicalRuleFields(input: RuleFieldsInput): RuleFields {
  const protocol = canonicalProtocol(input.protocol, input.ethertype);
  checkPortRange(protocol, input.port_range_min, input.port_range_max);
  const number = protocolNumber(protocol);
  if (input.ethertype === 'IPv4' && number !== undefined && IPV6_ONLY_PROTOCOLS.has(number)) {
    throw invalid(
      'SecurityGroupEthertypeConflictWithProtocol',
      `Invalid ethertype IPv4 for protocol ${protocol}.`,
    );
  }
  const remotePrefix = canonicalPrefix(input.remote_ip_prefix, input.ethertype);
  if (remotePrefix !== null && input.remote_group_id !== null) {
    throw invalid(
      'SecurityGroupRemoteGroupAndRemoteIpPrefix',
      'Only remote_ip_prefix or remote_group_id may be provided.',
    );
  }
  return {
    direction: input.direction,
    ethertype: input.ethertype,
    protocol,
    port_range_min: input.port_range_min,
    port_range_max: input.port_range_max,
    remote_ip_prefix: remotePrefix,
    remote_group_id: input.remote_group_id,
  };
}

/**
 * What makes two rules of a group the same rule: the protocol by number, and an all-addresses prefix
 * the same as none.
 */
export function ruleIdentity(fields: RuleFields): string {
  const allAddresses = fields.remote_ip_prefix === '0.0.0.0/0' || fields.remote_ip_prefix === '::/0';
  return JSON.stringify([
    fields.direction,
    fields.ethertype,
    protocolNumber(fields.protocol) ?? null,
    fields.port_range_min,
    fields.port_range_max,
    allAddresses ? null : fields.remote_ip_prefix,
    fields.remote_group_id,
  ]);
}
