import { describe, expect, it } from 'vitest';
import { defaultPools, formatPools, validatePools } from '../../functions/network/allocation-pools.ts';
import { NetworkError } from '../../functions/network/errors.ts';
import {
  type Cidr,
  canonicalIp,
  cidrContains,
  cidrSize,
  cidrsOverlap,
  formatCidr,
  parseCidr,
  parseIp,
  usableRange,
} from '../../functions/network/ip-math.ts';
import { canonicalMac, MAC_BASE, randomMac } from '../../functions/network/mac.ts';
import {
  checkDnsNameservers,
  checkGateway,
  checkHostRoutes,
  checkIpv6Modes,
  checkSubnetCidr,
} from '../../functions/network/subnet-settings.ts';

// Address arithmetic, allocation pools, MACs and subnet settings: the pure parts of IPAM.

function cidr(text: string): Cidr {
  const parsed = parseCidr(text);
  if (!parsed) throw new Error(`bad test cidr ${text}`);
  return parsed;
}

function ip(text: string) {
  const parsed = parseIp(text);
  if (!parsed) throw new Error(`bad test address ${text}`);
  return parsed;
}

/** The Neutron type and status a call throws. */
function thrown(action: () => unknown): { status: number; type: string; message: string } {
  try {
    action();
  } catch (error) {
    if (error instanceof NetworkError)
      return { status: error.status, type: error.neutronType, message: error.message };
    throw error;
  }
  throw new Error('expected a NetworkError');
}

describe('IP addresses', () => {
  it.each([
    ['10.0.0.1', '10.0.0.1'],
    ['0.0.0.0', '0.0.0.0'],
    ['255.255.255.255', '255.255.255.255'],
    ['2001:DB8::1', '2001:db8::1'],
    ['2001:0db8:0000:0000:0000:0000:0000:0001', '2001:db8::1'],
    ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'],
    ['2001:db8:0:1:1:1:1:1', '2001:db8:0:1:1:1:1:1'],
    ['::', '::'],
    ['::1', '::1'],
    ['fe80::', 'fe80::'],
    ['::ffff:192.0.2.1', '::ffff:c000:201'],
    ['1:0:0:2:0:0:0:3', '1:0:0:2::3'],
  ])('reads %s and writes it as %s (RFC 5952)', (text, canonical) => {
    expect(canonicalIp(text)).toBe(canonical);
  });

  it.each([
    '10.0.0',
    '10.0.0.256',
    '10.0.0.01',
    '10.0.0.1.1',
    ' 10.0.0.1',
    '1::2::3',
    '1:2:3:4:5:6:7:8:9',
    '1:2:3:4:5:6:7',
    '12345::',
    'g::1',
    '1.2.3.4::',
    '::1.2.3',
    '',
  ])('refuses %j', (text) => {
    expect(parseIp(text)).toBeUndefined();
  });

  it('knows the family of an address', () => {
    expect(parseIp('10.0.0.1')?.version).toBe(4);
    expect(parseIp('::1')?.version).toBe(6);
  });
});

describe('CIDRs', () => {
  it('reads strict CIDRs and, when asked, clears host bits', () => {
    expect(formatCidr(cidr('10.1.0.0/16'))).toBe('10.1.0.0/16');
    expect(parseCidr('10.1.0.5/16')).toBeUndefined();
    const loose = parseCidr('10.1.0.5/16', { strict: false });
    expect(loose && formatCidr(loose)).toBe('10.1.0.0/16');
    expect(formatCidr(cidr('2001:DB8:0:0::/64'))).toBe('2001:db8::/64');
    for (const bad of ['10.0.0.0/33', '10.0.0.0', '10.0.0.0/', '10.0.0.0/024', '::/129', 'x/8']) {
      expect(parseCidr(bad), bad).toBeUndefined();
    }
  });

  it('counts, contains and overlaps', () => {
    expect(cidrSize(cidr('10.0.0.0/28'))).toBe(16n);
    expect(cidrSize(cidr('2001:db8::/64'))).toBe(2n ** 64n);
    expect(cidrContains(cidr('10.0.0.0/28'), ip('10.0.0.15'))).toBe(true);
    expect(cidrContains(cidr('10.0.0.0/28'), ip('10.0.0.16'))).toBe(false);
    expect(cidrContains(cidr('10.0.0.0/28'), ip('::a00:1'))).toBe(false);
    expect(cidrsOverlap(cidr('10.0.0.0/24'), cidr('10.0.0.128/25'))).toBe(true);
    expect(cidrsOverlap(cidr('10.0.0.0/25'), cidr('10.0.0.128/25'))).toBe(false);
    expect(cidrsOverlap(cidr('10.0.0.0/8'), cidr('::/0'))).toBe(false);
  });

  it('leaves network and broadcast out of the usable IPv4 range, except in /31 and /32', () => {
    expect(usableRange(cidr('10.0.0.0/24'))).toEqual({
      first: ip('10.0.0.1').value,
      last: ip('10.0.0.254').value,
    });
    expect(usableRange(cidr('10.0.0.0/31'))).toEqual({
      first: ip('10.0.0.0').value,
      last: ip('10.0.0.1').value,
    });
    expect(usableRange(cidr('10.0.0.7/32'))).toEqual({
      first: ip('10.0.0.7').value,
      last: ip('10.0.0.7').value,
    });
    // IPv6 has no broadcast: only the subnet-router anycast address (the first) is left out.
    expect(usableRange(cidr('2001:db8::/126'))).toEqual({
      first: ip('2001:db8::1').value,
      last: ip('2001:db8::3').value,
    });
  });
});

describe('allocation pools', () => {
  const pools = (text: string, gateway?: string) =>
    formatPools(
      cidr(text).version,
      defaultPools(cidr(text), gateway === undefined ? undefined : ip(gateway)),
    );

  it('splits the usable range around the gateway', () => {
    expect(pools('10.0.0.0/24', '10.0.0.1')).toEqual([{ start: '10.0.0.2', end: '10.0.0.254' }]);
    expect(pools('10.0.0.0/24', '10.0.0.100')).toEqual([
      { start: '10.0.0.1', end: '10.0.0.99' },
      { start: '10.0.0.101', end: '10.0.0.254' },
    ]);
    expect(pools('10.0.0.0/24', '10.0.0.254')).toEqual([{ start: '10.0.0.1', end: '10.0.0.253' }]);
    expect(pools('10.0.0.0/24')).toEqual([{ start: '10.0.0.1', end: '10.0.0.254' }]);
    expect(pools('2001:db8::/64', '2001:db8::1')).toEqual([
      { start: '2001:db8::2', end: '2001:db8::ffff:ffff:ffff:ffff' },
    ]);
  });

  it('gives /31 and /32 subnets their every address', () => {
    expect(pools('10.0.0.0/31')).toEqual([{ start: '10.0.0.0', end: '10.0.0.1' }]);
    expect(pools('10.0.0.0/31', '10.0.0.0')).toEqual([{ start: '10.0.0.1', end: '10.0.0.1' }]);
    expect(pools('10.0.0.9/32')).toEqual([{ start: '10.0.0.9', end: '10.0.0.9' }]);
    expect(pools('10.0.0.9/32', '10.0.0.9')).toEqual([]);
  });

  it('accepts pools inside the usable range, sorted', () => {
    const given = [
      { start: '10.0.0.100', end: '10.0.0.200' },
      { start: '10.0.0.10', end: '10.0.0.20' },
    ];
    expect(formatPools(4, validatePools(cidr('10.0.0.0/24'), given, ip('10.0.0.1')))).toEqual([
      { start: '10.0.0.10', end: '10.0.0.20' },
      { start: '10.0.0.100', end: '10.0.0.200' },
    ]);
  });

  it('refuses pools outside the subnet, reversed, overlapping or holding the gateway', () => {
    const subnet = cidr('10.0.0.0/24');
    const gateway = ip('10.0.0.1');
    const check = (pools: Array<{ start: string; end: string }>) => () =>
      validatePools(subnet, pools, gateway);
    expect(thrown(check([{ start: '10.0.0.200', end: '10.0.1.5' }]))).toEqual({
      status: 400,
      type: 'OutOfBoundsAllocationPool',
      message: 'The allocation pool 10.0.0.200-10.0.1.5 spans beyond the subnet cidr.',
    });
    expect(thrown(check([{ start: '10.0.0.0', end: '10.0.0.5' }])).type).toBe('OutOfBoundsAllocationPool');
    expect(thrown(check([{ start: '10.0.0.250', end: '10.0.0.255' }])).type).toBe(
      'OutOfBoundsAllocationPool',
    );
    expect(thrown(check([{ start: '10.0.0.9', end: '10.0.0.5' }])).type).toBe('InvalidAllocationPool');
    expect(thrown(check([{ start: 'ten', end: '10.0.0.5' }])).type).toBe('InvalidAllocationPool');
    expect(thrown(check([{ start: '::5', end: '::9' }])).type).toBe('InvalidAllocationPool');
    expect(
      thrown(
        check([
          { start: '10.0.0.50', end: '10.0.0.60' },
          { start: '10.0.0.10', end: '10.0.0.50' },
        ]),
      ),
    ).toEqual({
      status: 409,
      type: 'OverlappingAllocationPools',
      message: 'Found overlapping allocation pools: 10.0.0.10-10.0.0.50 and 10.0.0.50-10.0.0.60.',
    });
    expect(thrown(check([{ start: '10.0.0.1', end: '10.0.0.5' }]))).toEqual({
      status: 409,
      type: 'GatewayConflictWithAllocationPools',
      message: 'Gateway ip 10.0.0.1 conflicts with allocation pool 10.0.0.1-10.0.0.5.',
    });
  });
});

describe('MAC addresses', () => {
  it('generates unicast fa:16:3e addresses', () => {
    const values = [0, 0.5, 0.999_999];
    let next = 0;
    expect(randomMac(() => values[next++ % 3] as number)).toBe(`${MAC_BASE}:00:80:ff`);
    for (let i = 0; i < 100; i += 1) expect(canonicalMac(randomMac())).toMatch(/^fa:16:3e(:[0-9a-f]{2}){3}$/);
  });

  it('reads colon or dash separated MACs in lower case', () => {
    expect(canonicalMac('FA:16:3E:0A:0B:0C')).toBe('fa:16:3e:0a:0b:0c');
    expect(canonicalMac('fa-16-3e-0a-0b-0c')).toBe('fa:16:3e:0a:0b:0c');
  });

  it.each([
    '01:00:5e:00:00:01',
    'ff:ff:ff:ff:ff:ff',
    '00:00:00:00:00:00',
    'fa:16:3e:0a:0b',
    'fa:16:3e-0a:0b:0c',
    'fa163e0a0b0c',
    'fa:16:3e:0a:0b:0g',
  ])('refuses %s (multicast, all zeros or malformed)', (text) => {
    expect(canonicalMac(text)).toBeUndefined();
  });
});

describe('subnet settings', () => {
  it('refuses CIDRs with host bits, of the other version, or of every address', () => {
    expect(thrown(() => checkSubnetCidr('10.0.0.5/24', 4)).message).toBe(
      "Invalid input for cidr. Reason: '10.0.0.5/24' isn't a recognized IP subnet cidr, '10.0.0.0/24' is recommended.",
    );
    expect(thrown(() => checkSubnetCidr('10.0.0.0/24', 6)).type).toBe('InvalidInput');
    expect(thrown(() => checkSubnetCidr('0.0.0.0/0', 4)).status).toBe(400);
    expect(formatCidr(checkSubnetCidr('2001:DB8::/64', 6))).toBe('2001:db8::/64');
  });

  it('defaults the gateway to the first usable address and checks a given one', () => {
    expect(checkGateway(cidr('10.0.0.0/24'), undefined)).toEqual(ip('10.0.0.1'));
    expect(checkGateway(cidr('10.0.0.0/24'), null)).toBeUndefined();
    expect(checkGateway(cidr('2001:db8::/64'), 'fe80::1')).toEqual(ip('fe80::1'));
    for (const bad of ['10.0.1.1', '10.0.0.0', '10.0.0.255']) {
      expect(thrown(() => checkGateway(cidr('10.0.0.0/24'), bad)).message).toBe(
        'Invalid input for operation: Gateway is not valid on subnet',
      );
    }
    expect(thrown(() => checkGateway(cidr('10.0.0.0/24'), '::1')).type).toBe('InvalidInput');
  });

  it('checks DNS servers and host routes', () => {
    expect(checkDnsNameservers(['8.8.8.8', '2001:4860:4860:0:0:0:0:8888'], 's')).toEqual([
      '8.8.8.8',
      '2001:4860:4860::8888',
    ]);
    expect(thrown(() => checkDnsNameservers(['1.1.1.1', '1.1.1.1'], 's')).status).toBe(400);
    expect(thrown(() => checkDnsNameservers(Array(6).fill('1.1.1.1'), 's')).type).toBe(
      'DNSNameServersExhausted',
    );
    expect(checkHostRoutes([{ destination: '0.0.0.0/0', nexthop: '10.0.0.1' }], 4, 's')).toEqual([
      { destination: '0.0.0.0/0', nexthop: '10.0.0.1' },
    ]);
    expect(
      thrown(() => checkHostRoutes([{ destination: '10.0.0.1/8', nexthop: '10.0.0.1' }], 4, 's')).type,
    ).toBe('InvalidInput');
    expect(thrown(() => checkHostRoutes([{ destination: '::/0', nexthop: '10.0.0.1' }], 4, 's')).type).toBe(
      'InvalidInput',
    );
    const many = Array.from({ length: 21 }, (_, i) => ({
      destination: `10.${i}.0.0/16`,
      nexthop: '10.0.0.1',
    }));
    expect(thrown(() => checkHostRoutes(many, 4, 's')).type).toBe('HostRoutesExhausted');
  });

  it('checks the IPv6 modes', () => {
    const none = { ipv6_ra_mode: null, ipv6_address_mode: null };
    expect(() => checkIpv6Modes(cidr('10.0.0.0/24'), none, true)).not.toThrow();
    expect(() =>
      checkIpv6Modes(cidr('2001:db8::/64'), { ipv6_ra_mode: 'slaac', ipv6_address_mode: 'slaac' }, true),
    ).not.toThrow();
    expect(
      thrown(() => checkIpv6Modes(cidr('10.0.0.0/24'), { ...none, ipv6_address_mode: 'slaac' }, true)).status,
    ).toBe(400);
    expect(
      thrown(() => checkIpv6Modes(cidr('2001:db8::/64'), { ...none, ipv6_address_mode: 'slaac' }, false))
        .status,
    ).toBe(400);
    expect(
      thrown(() =>
        checkIpv6Modes(
          cidr('2001:db8::/64'),
          { ipv6_ra_mode: 'slaac', ipv6_address_mode: 'dhcpv6-stateful' },
          true,
        ),
      ).status,
    ).toBe(400);
    expect(
      thrown(() =>
        checkIpv6Modes(cidr('2001:db8::/80'), { ...none, ipv6_address_mode: 'dhcpv6-stateless' }, true),
      ).message,
    ).toContain('requires the prefix to be /64');
    expect(() =>
      checkIpv6Modes(cidr('2001:db8::/80'), { ...none, ipv6_address_mode: 'dhcpv6-stateful' }, true),
    ).not.toThrow();
  });
});
