import { describe, expect, it } from 'vitest';
import {
  defaultBridge,
  floatingRangeAddresses,
  planIpv4,
  planIpv6,
} from '../../functions/network/nova-network/addresses.ts';
import { BadRequest } from '../../functions/shared/errors.ts';

const reservedOf = (plan: ReturnType<typeof planIpv4>) =>
  plan.addresses.filter((address) => address.reserved).map((address) => address.address);

describe("nova-network's address plan", () => {
  it('plans a flat /24: gateway first host, broadcast last, network + gateway + broadcast reserved', () => {
    const plan = planIpv4('10.0.0.0/24', { vlan: false });
    expect(plan).toMatchObject({
      cidr: '10.0.0.0/24',
      netmask: '255.255.255.0',
      gateway: '10.0.0.1',
      broadcast: '10.0.0.255',
      dhcp_start: '10.0.0.2',
      vpn_private_address: null,
    });
    expect(plan.addresses).toHaveLength(256);
    expect(plan.addresses[0]).toEqual({ address: '10.0.0.0', reserved: true });
    expect(plan.addresses[255]).toEqual({ address: '10.0.0.255', reserved: true });
    expect(reservedOf(plan)).toEqual(['10.0.0.0', '10.0.0.1', '10.0.0.255']);
  });

  it('plans a flat /28 with 13 leasable addresses', () => {
    const plan = planIpv4('192.168.5.16/28', { vlan: false });
    expect(plan).toMatchObject({
      netmask: '255.255.255.240',
      gateway: '192.168.5.17',
      broadcast: '192.168.5.31',
      dhcp_start: '192.168.5.18',
    });
    expect(reservedOf(plan)).toEqual(['192.168.5.16', '192.168.5.17', '192.168.5.31']);
    expect(plan.addresses.filter((address) => !address.reserved)).toHaveLength(13);
  });

  it('plans a flat /30 with exactly one leasable address', () => {
    const plan = planIpv4('172.16.0.4/30', { vlan: false });
    expect(plan).toMatchObject({
      netmask: '255.255.255.252',
      gateway: '172.16.0.5',
      broadcast: '172.16.0.7',
      dhcp_start: '172.16.0.6',
    });
    expect(plan.addresses.filter((address) => !address.reserved).map((address) => address.address)).toEqual([
      '172.16.0.6',
    ]);
  });

  it('reserves the VPN address (third of the range) on VLAN networks and starts DHCP after it', () => {
    const plan = planIpv4('10.1.0.0/28', { vlan: true });
    expect(plan).toMatchObject({
      vpn_private_address: '10.1.0.2',
      dhcp_start: '10.1.0.3',
      gateway: '10.1.0.1',
    });
    expect(reservedOf(plan)).toEqual(['10.1.0.0', '10.1.0.1', '10.1.0.2', '10.1.0.15']);
    expect(plan.addresses.filter((address) => !address.reserved)).toHaveLength(12);
  });

  it('refuses a VLAN /30: its four addresses are all reserved', () => {
    expect(() => planIpv4('10.2.0.0/30', { vlan: true })).toThrow(/field 'cidr'.*leaves no address/);
  });

  it('reserves a given gateway as well as the bottom addresses', () => {
    const plan = planIpv4('10.3.0.0/29', { vlan: false, gateway: '10.3.0.6' });
    expect(plan.gateway).toBe('10.3.0.6');
    expect(reservedOf(plan)).toEqual(['10.3.0.0', '10.3.0.1', '10.3.0.6', '10.3.0.7']);
    expect(() => planIpv4('10.3.0.0/29', { vlan: false, gateway: '10.4.0.1' })).toThrow(/field 'gateway'/);
    expect(() => planIpv4('10.3.0.0/29', { vlan: false, gateway: '10.3.0.7' })).toThrow(/broadcast/);
  });

  it.each([
    ['wider than /16', '10.0.0.0/15', /wider than \/16/],
    ['host bits set', '10.0.0.5/24', /did you mean 10\.0\.0\.0\/24/],
    ['not a CIDR', '10.0.0.0', /is not a CIDR/],
    ['IPv6 as cidr', 'fd00::/64', /is not IPv4/],
    ['/31', '10.0.0.0/31', /leaves no address/],
  ])('refuses a cidr %s with a 400 naming cidr', (_case, cidr, message) => {
    let thrown: unknown;
    try {
      planIpv4(cidr, { vlan: false });
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(BadRequest);
    expect((thrown as Error).message).toContain("'cidr'");
    expect((thrown as Error).message).toMatch(message);
  });

  it('plans an IPv6 range as Havana stores it: prefix length as netmask, first host as gateway', () => {
    expect(planIpv6('FD00:0:0:1::/64')).toEqual({
      cidr_v6: 'fd00:0:0:1::/64',
      netmask_v6: '64',
      gateway_v6: 'fd00:0:0:1::1',
    });
    expect(() => planIpv6('10.0.0.0/24')).toThrow(/field 'cidr_v6'/);
  });

  it('names bridges as Havana did', () => {
    expect(defaultBridge(null)).toBe('br100');
    expect(defaultBridge(102)).toBe('br102');
  });

  it('expands a floating range to its hosts, and refuses ranges under four addresses in CIDR form', () => {
    expect(floatingRangeAddresses('192.168.1.0/29')).toEqual([
      '192.168.1.1',
      '192.168.1.2',
      '192.168.1.3',
      '192.168.1.4',
      '192.168.1.5',
      '192.168.1.6',
    ]);
    expect(floatingRangeAddresses('192.168.1.9')).toEqual(['192.168.1.9']);
    expect(() => floatingRangeAddresses('192.168.1.0/31')).toThrow(/single address/);
    expect(() => floatingRangeAddresses('192.168.0.0/8')).toThrow(/field 'ip_range'/);
  });
});
