import { describe, expect, it } from 'vitest';
import { NetworkError } from '../../functions/network/errors.ts';
import {
  canonicalRuleFields,
  type RuleFieldsInput,
  ruleIdentity,
} from '../../functions/network/security-group-rule-fields.ts';

const rule = (change: Partial<RuleFieldsInput>): RuleFieldsInput => ({
  direction: 'ingress',
  ethertype: 'IPv4',
  protocol: null,
  port_range_min: null,
  port_range_max: null,
  remote_ip_prefix: null,
  remote_group_id: null,
  ...change,
});

function refusal(input: RuleFieldsInput): string | undefined {
  try {
    canonicalRuleFields(input);
    return undefined;
  } catch (error) {
    if (error instanceof NetworkError && error.status === 400) return error.neutronType;
    throw error;
  }
}

describe('security group rule fields', () => {
  it('puts protocols, prefixes and IPv6 ICMP in canonical form', () => {
    expect(canonicalRuleFields(rule({ protocol: 'TCP' })).protocol).toBe('tcp');
    expect(canonicalRuleFields(rule({ protocol: 17 })).protocol).toBe('17');
    expect(canonicalRuleFields(rule({ protocol: '006' })).protocol).toBe('6');
    expect(canonicalRuleFields(rule({ protocol: 'any' })).protocol).toBeNull();
    expect(canonicalRuleFields(rule({ ethertype: 'IPv6', protocol: 'icmp' })).protocol).toBe('ipv6-icmp');
    expect(canonicalRuleFields(rule({ ethertype: 'IPv6', protocol: 1 })).protocol).toBe('58');
    expect(canonicalRuleFields(rule({ remote_ip_prefix: '10.1.2.3/16' })).remote_ip_prefix).toBe(
      '10.1.0.0/16',
    );
    expect(canonicalRuleFields(rule({ remote_ip_prefix: '10.1.2.3' })).remote_ip_prefix).toBe('10.1.2.3/32');
    expect(
      canonicalRuleFields(rule({ ethertype: 'IPv6', remote_ip_prefix: '2001:DB8::1/48' })).remote_ip_prefix,
    ).toBe('2001:db8::/48');
  });

  it('accepts port ranges only where the protocol has ports, and ICMP type and code', () => {
    expect(
      canonicalRuleFields(rule({ protocol: 'sctp', port_range_min: 1, port_range_max: 65_535 })),
    ).toMatchObject({
      port_range_min: 1,
      port_range_max: 65_535,
    });
    expect(canonicalRuleFields(rule({ protocol: 'icmp', port_range_min: 8 }))).toMatchObject({
      port_range_min: 8,
      port_range_max: null,
    });
    expect(refusal(rule({ protocol: 'tcp', port_range_min: 10, port_range_max: 9 }))).toBe(
      'SecurityGroupInvalidPortRange',
    );
    expect(refusal(rule({ protocol: 'tcp', port_range_max: 9 }))).toBe('SecurityGroupInvalidPortRange');
    expect(refusal(rule({ protocol: 'udp', port_range_min: 0, port_range_max: 0 }))).toBe(
      'SecurityGroupInvalidPortValue',
    );
    expect(refusal(rule({ port_range_min: 1, port_range_max: 2 }))).toBe(
      'SecurityGroupProtocolRequiredWithPorts',
    );
    expect(refusal(rule({ protocol: 'icmp', port_range_min: 8, port_range_max: 256 }))).toBe(
      'SecurityGroupInvalidIcmpValue',
    );
    expect(refusal(rule({ protocol: 'icmp', port_range_max: 0 }))).toBe('SecurityGroupMissingIcmpType');
    expect(refusal(rule({ protocol: 'esp', port_range_min: 1, port_range_max: 1 }))).toBe(
      'SecurityGroupInvalidProtocolForPort',
    );
  });

  it('refuses unknown protocols and conflicting families or remotes', () => {
    expect(refusal(rule({ protocol: 'tcpx' }))).toBe('SecurityGroupRuleInvalidProtocol');
    expect(refusal(rule({ protocol: 256 }))).toBe('SecurityGroupRuleInvalidProtocol');
    expect(refusal(rule({ protocol: 'ipv6-frag' }))).toBe('SecurityGroupEthertypeConflictWithProtocol');
    expect(refusal(rule({ remote_ip_prefix: '::/0' }))).toBe('SecurityGroupRuleParameterConflict');
    expect(refusal(rule({ remote_ip_prefix: '10.0.0.0/33' }))).toBe('InvalidInput');
    expect(refusal(rule({ remote_ip_prefix: '10.0.0.0/8', remote_group_id: 'g' }))).toBe(
      'SecurityGroupRemoteGroupAndRemoteIpPrefix',
    );
  });

  it('sees one rule in its spellings, and two rules apart', () => {
    const identity = (input: Partial<RuleFieldsInput>) => ruleIdentity(canonicalRuleFields(rule(input)));
    const ssh = { protocol: 'tcp', port_range_min: 22, port_range_max: 22 };
    expect(identity({ ...ssh, remote_ip_prefix: '0.0.0.0/0' })).toBe(identity(ssh));
    expect(identity({ ...ssh, protocol: 6 })).toBe(identity(ssh));
    expect(identity({ ...ssh, direction: 'egress' })).not.toBe(identity(ssh));
    expect(identity({ ...ssh, remote_ip_prefix: '10.0.0.0/8' })).not.toBe(identity(ssh));
    expect(identity({ ...ssh, port_range_max: 23 })).not.toBe(identity(ssh));
  });
});
