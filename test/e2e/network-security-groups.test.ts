import { and, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { neutronSecurityGroupRules, neutronSecurityGroups, quotaUsages } from '../../schema/tables/index.ts';
import { call, login, primaryDb } from '../helpers/api.ts';
import { createMember } from '../helpers/identity.ts';
import { removeNetworkingNamed } from '../helpers/networks.ts';

// Security groups, their rules and the networking quotas through /network/v2.0 against the stack.

type Body = Record<string, unknown>;
interface Rule {
  id: string;
  security_group_id: string;
  direction: string;
  ethertype: string;
  protocol: string | null;
  port_range_min: number | null;
  port_range_max: number | null;
  remote_ip_prefix: string | null;
  remote_group_id: string | null;
  [key: string]: unknown;
}
interface Group {
  id: string;
  name: string;
  project_id: string;
  security_group_rules: Rule[];
  [key: string]: unknown;
}
interface NeutronError {
  NeutronError: { type: string; message: string; detail: string };
}

const suffix = crypto.randomUUID().slice(0, 8);
const errorType = (body: unknown) => (body as NeutronError).NeutronError?.type;
const errorMessage = (body: unknown) => (body as NeutronError).NeutronError?.message ?? '';

async function newProject(name: string): Promise<{ projectId: string; token: string }> {
  const { projectId } = await createMember(`${name}-${suffix}`, 'secret-password');
  return { projectId, token: await login(`${name}-${suffix}`, 'secret-password') };
}

async function createGroup(token: string, name: string, extra: Body = {}) {
  return call<{ security_group: Group }>('POST', '/network/v2.0/security-groups', {
    token,
    body: { security_group: { name, ...extra } },
  });
}

async function createRule(token: string, rule: Body) {
  return call<{ security_group_rule: Rule }>('POST', '/network/v2.0/security-group-rules', {
    token,
    body: { security_group_rule: rule },
  });
}

async function usage(projectId: string, resource: string): Promise<number> {
  const [row] = await primaryDb()
    .select({ in_use: quotaUsages.in_use })
    .from(quotaUsages)
    .where(and(eq(quotaUsages.project_id, projectId), eq(quotaUsages.resource, resource)));
  return row?.in_use ?? 0;
}

describe('security groups, rules and networking quotas', () => {
  let admin: string;
  let member: string;
  let memberProject: string;
  let other: string;

  afterAll(() => removeNetworkingNamed(admin, suffix));

  beforeAll(async () => {
    admin = await login();
    ({ projectId: memberProject, token: member } = await newProject('sg-member'));
    ({ token: other } = await newProject('sg-other'));
  });

  it("makes a new project's default group once, even under 10 concurrent first lists", async () => {
    const { projectId, token } = await newProject('sg-fresh');
    const lists = await Promise.all(
      Array.from({ length: 10 }, () =>
        call<{ security_groups: Group[] }>('GET', '/network/v2.0/security-groups', { token }),
      ),
    );
    const defaults = lists.map((list) => {
      expect(list.status).toBe(200);
      const found = list.body.security_groups.filter((group) => group.name === 'default');
      expect(found).toHaveLength(1);
      return found[0]?.id;
    });
    expect(new Set(defaults).size).toBe(1);
    const groups = await primaryDb()
      .select()
      .from(neutronSecurityGroups)
      .where(eq(neutronSecurityGroups.project_id, projectId));
    expect(groups.map((group) => group.name)).toEqual(['default']);
    const rules = await primaryDb()
      .select()
      .from(neutronSecurityGroupRules)
      .where(eq(neutronSecurityGroupRules.project_id, projectId));
    expect(rules).toHaveLength(4);
    // Ingress only from the group itself; egress anywhere; IPv4 and IPv6.
    expect(
      rules
        .map((rule) => [rule.direction, rule.ethertype, rule.remote_group_uuid === groups[0]?.uuid])
        .sort(),
    ).toEqual([
      ['egress', 'IPv4', false],
      ['egress', 'IPv6', false],
      ['ingress', 'IPv4', true],
      ['ingress', 'IPv6', true],
    ]);
    expect(await usage(projectId, 'security_group')).toBe(1);
    expect(await usage(projectId, 'security_group_rule')).toBe(4);
  });

  it('creates, shows, updates and deletes a group with its egress rules', async () => {
    const made = await createGroup(member, `web-${suffix}`, { description: 'web servers' });
    expect(made.status).toBe(201);
    const group = made.body.security_group;
    expect(group).toMatchObject({
      name: `web-${suffix}`,
      description: 'web servers',
      project_id: memberProject,
      tenant_id: memberProject,
      stateful: true,
      tags: [],
      revision_number: 1,
    });
    expect(
      group.security_group_rules.map((rule) => [rule.direction, rule.ethertype, rule.protocol]).sort(),
    ).toEqual([
      ['egress', 'IPv4', null],
      ['egress', 'IPv6', null],
    ]);
    const renamed = await call<{ security_group: Group }>(
      'PUT',
      `/network/v2.0/security-groups/${group.id}`,
      {
        token: member,
        body: { security_group: { name: `www-${suffix}` } },
      },
    );
    expect(renamed.status).toBe(200);
    expect(renamed.body.security_group.name).toBe(`www-${suffix}`);
    const shown = await call<{ security_group: Group }>(
      'GET',
      `/network/v2.0/security-groups/${group.id}?fields=id&fields=name`,
      { token: member },
    );
    expect(shown.body.security_group).toEqual({ id: group.id, name: `www-${suffix}` });
    expect((await call('GET', `/network/v2.0/security-groups/${group.id}`, { token: other })).status).toBe(
      404,
    );
    expect((await call('DELETE', `/network/v2.0/security-groups/${group.id}`, { token: other })).status).toBe(
      404,
    );
    const defaultName = await createGroup(member, 'default');
    expect(defaultName.status).toBe(409);
    expect(errorType(defaultName.body)).toBe('SecurityGroupDefaultAlreadyExists');
    expect(
      (await call('DELETE', `/network/v2.0/security-groups/${group.id}`, { token: member })).status,
    ).toBe(204);
    expect((await call('GET', `/network/v2.0/security-groups/${group.id}`, { token: member })).status).toBe(
      404,
    );
  });

  it('keeps the default group: it cannot be renamed or deleted', async () => {
    const list = await call<{ security_groups: Group[] }>(
      'GET',
      '/network/v2.0/security-groups?name=default',
      {
        token: member,
      },
    );
    const id = list.body.security_groups[0]?.id;
    expect(list.body.security_groups).toHaveLength(1);
    const rename = await call('PUT', `/network/v2.0/security-groups/${id}`, {
      token: member,
      body: { security_group: { name: 'not-default' } },
    });
    expect(rename.status).toBe(409);
    expect(errorType(rename.body)).toBe('SecurityGroupCannotUpdateDefault');
    const described = await call<{ security_group: Group }>('PUT', `/network/v2.0/security-groups/${id}`, {
      token: member,
      body: { security_group: { description: 'still the default' } },
    });
    expect(described.status).toBe(200);
    const removal = await call('DELETE', `/network/v2.0/security-groups/${id}`, { token: member });
    expect(removal.status).toBe(409);
    expect(errorType(removal.body)).toBe('SecurityGroupCannotRemoveDefault');
  });

  it('creates, lists, shows and deletes rules, in canonical form, refusing duplicates', async () => {
    const group = (await createGroup(member, `ssh-${suffix}`)).body.security_group;
    const ssh = await createRule(member, {
      security_group_id: group.id,
      direction: 'ingress',
      protocol: 'tcp',
      port_range_min: 22,
      port_range_max: 22,
      remote_ip_prefix: '0.0.0.0/0',
      description: 'ssh',
    });
    expect(ssh.status).toBe(201);
    const rule = ssh.body.security_group_rule;
    expect(rule).toMatchObject({
      security_group_id: group.id,
      direction: 'ingress',
      ethertype: 'IPv4',
      protocol: 'tcp',
      port_range_min: 22,
      port_range_max: 22,
      remote_ip_prefix: '0.0.0.0/0',
      remote_group_id: null,
      description: 'ssh',
      project_id: memberProject,
    });

    // The same rule however spelled: protocol by number, the all-addresses prefix as none.
    for (const duplicate of [
      { protocol: 'tcp', remote_ip_prefix: '0.0.0.0/0' },
      { protocol: '6', remote_ip_prefix: null },
      { protocol: 6 },
    ]) {
      const refused = await createRule(member, {
        security_group_id: group.id,
        direction: 'ingress',
        port_range_min: 22,
        port_range_max: 22,
        ...duplicate,
      });
      expect(refused.status).toBe(409);
      expect(errorType(refused.body)).toBe('SecurityGroupRuleExists');
      expect(errorMessage(refused.body)).toContain(rule.id);
    }

    const host = await createRule(member, {
      security_group_id: group.id,
      direction: 'ingress',
      ethertype: 'IPv4',
      protocol: 'udp',
      port_range_min: 53,
      port_range_max: 53,
      remote_ip_prefix: '10.0.0.5/24',
    });
    expect(host.body.security_group_rule.remote_ip_prefix).toBe('10.0.0.0/24');
    const ping6 = await createRule(member, {
      security_group_id: group.id,
      direction: 'ingress',
      ethertype: 'IPv6',
      protocol: 'icmp',
      port_range_min: 128,
      port_range_max: 0,
    });
    expect(ping6.status).toBe(201);
    expect(ping6.body.security_group_rule.protocol).toBe('ipv6-icmp');
    const fromGroup = await createRule(member, {
      security_group_id: group.id,
      direction: 'ingress',
      remote_group_id: group.id,
    });
    expect(fromGroup.status).toBe(201);

    const listed = await call<{ security_group_rules: Rule[] }>(
      'GET',
      `/network/v2.0/security-group-rules?security_group_id=${group.id}&direction=ingress`,
      { token: member },
    );
    expect(listed.body.security_group_rules.map((item) => item.id).sort()).toEqual(
      [
        rule.id,
        host.body.security_group_rule.id,
        ping6.body.security_group_rule.id,
        fromGroup.body.security_group_rule.id,
      ].sort(),
    );
    const shown = await call<{ security_group_rule: Rule }>(
      'GET',
      `/network/v2.0/security-group-rules/${rule.id}`,
      {
        token: member,
      },
    );
    expect(shown.body.security_group_rule).toEqual(rule);
    const inGroup = await call<{ security_group: Group }>(
      'GET',
      `/network/v2.0/security-groups/${group.id}`,
      {
        token: member,
      },
    );
    expect(inGroup.body.security_group.security_group_rules.map((item) => item.id)).toContain(rule.id);

    expect(
      (await call('GET', `/network/v2.0/security-group-rules/${rule.id}`, { token: other })).status,
    ).toBe(404);
    expect(
      (await call('DELETE', `/network/v2.0/security-group-rules/${rule.id}`, { token: other })).status,
    ).toBe(404);
    const theirs = await call<{ security_group_rules: Rule[] }>('GET', '/network/v2.0/security-group-rules', {
      token: other,
    });
    expect(theirs.body.security_group_rules.map((item) => item.id)).not.toContain(rule.id);

    const rulesBefore = await usage(memberProject, 'security_group_rule');
    expect(
      (await call('DELETE', `/network/v2.0/security-group-rules/${rule.id}`, { token: member })).status,
    ).toBe(204);
    expect(
      (await call('GET', `/network/v2.0/security-group-rules/${rule.id}`, { token: member })).status,
    ).toBe(404);
    expect(await usage(memberProject, 'security_group_rule')).toBe(rulesBefore - 1);
    // Deleting the group takes its rules with it, and gives their quota back.
    const groupsBefore = await usage(memberProject, 'security_group');
    expect(
      (await call('DELETE', `/network/v2.0/security-groups/${group.id}`, { token: member })).status,
    ).toBe(204);
    expect(await usage(memberProject, 'security_group')).toBe(groupsBefore - 1);
    expect(await usage(memberProject, 'security_group_rule')).toBe(rulesBefore - 1 - 5);
  });

  it('makes one rule of identical concurrent creates, the others naming it', async () => {
    const group = (await createGroup(member, `race-${suffix}`)).body.security_group;
    const answers = await Promise.all(
      Array.from({ length: 6 }, () =>
        createRule(member, {
          security_group_id: group.id,
          direction: 'ingress',
          protocol: 'tcp',
          port_range_min: 443,
          port_range_max: 443,
        }),
      ),
    );
    const made = answers.filter((answer) => answer.status === 201);
    expect(made).toHaveLength(1);
    const id = made[0]?.body.security_group_rule.id ?? '';
    for (const answer of answers.filter((candidate) => candidate.status !== 201)) {
      expect(answer.status).toBe(409);
      expect(errorMessage(answer.body)).toContain(id);
    }
    const rules = await primaryDb()
      .select()
      .from(neutronSecurityGroupRules)
      .where(eq(neutronSecurityGroupRules.security_group_uuid, group.id));
    expect(rules).toHaveLength(3);
  });

  it('refuses rules Neutron refuses, each with its reason', async () => {
    const group = (await createGroup(member, `strict-${suffix}`)).body.security_group;
    const theirGroup = (await createGroup(other, `theirs-${suffix}`)).body.security_group;
    const base = { security_group_id: group.id, direction: 'ingress' };
    const cases: Array<[Body, number, string | undefined]> = [
      [{ protocol: 'carrier-pigeon' }, 400, 'SecurityGroupRuleInvalidProtocol'],
      [{ protocol: 256 }, 400, 'SecurityGroupRuleInvalidProtocol'],
      [{ protocol: 'tcp', port_range_min: 80, port_range_max: 79 }, 400, 'SecurityGroupInvalidPortRange'],
      [{ protocol: 'tcp', port_range_min: 80 }, 400, 'SecurityGroupInvalidPortRange'],
      [{ protocol: 'udp', port_range_min: 0, port_range_max: 10 }, 400, 'SecurityGroupInvalidPortValue'],
      [{ protocol: 'tcp', port_range_min: 1, port_range_max: 65_536 }, 400, undefined],
      [{ port_range_min: 22, port_range_max: 22 }, 400, 'SecurityGroupProtocolRequiredWithPorts'],
      [{ protocol: 'icmp', port_range_min: 256 }, 400, 'SecurityGroupInvalidIcmpValue'],
      [{ protocol: 'icmp', port_range_max: 0 }, 400, 'SecurityGroupMissingIcmpType'],
      [{ protocol: 'gre', port_range_min: 1, port_range_max: 2 }, 400, 'SecurityGroupInvalidProtocolForPort'],
      [{ ethertype: 'IPv4', remote_ip_prefix: '::/0' }, 400, 'SecurityGroupRuleParameterConflict'],
      [{ ethertype: 'IPv6', remote_ip_prefix: '10.0.0.0/8' }, 400, 'SecurityGroupRuleParameterConflict'],
      [{ ethertype: 'IPv4', protocol: 'ipv6-icmp' }, 400, 'SecurityGroupEthertypeConflictWithProtocol'],
      [{ remote_ip_prefix: 'not-a-prefix' }, 400, undefined],
      [
        { remote_ip_prefix: '10.0.0.0/8', remote_group_id: group.id },
        400,
        'SecurityGroupRemoteGroupAndRemoteIpPrefix',
      ],
      [{ direction: 'sideways' }, 400, undefined],
      [{ ethertype: 'IPX' }, 400, undefined],
      [{ colour: 'red' }, 400, undefined],
      [{ remote_group_id: theirGroup.id }, 404, 'SecurityGroupNotFound'],
      [{ security_group_id: theirGroup.id }, 404, 'SecurityGroupNotFound'],
    ];
    for (const [change, status, type] of cases) {
      const response = await createRule(member, { ...base, ...change });
      expect({ change, status: response.status }).toEqual({ change, status });
      if (type) expect({ change, type: errorType(response.body) }).toEqual({ change, type });
    }
    const rules = await call<{ security_group_rules: Rule[] }>(
      'GET',
      `/network/v2.0/security-group-rules?security_group_id=${group.id}`,
      { token: member },
    );
    expect(rules.body.security_group_rules).toHaveLength(2);
  });

  it('refuses to delete a group a port uses, and deletes it once the port is gone', async () => {
    const group = (await createGroup(member, `in-use-${suffix}`)).body.security_group;
    const net = (
      await call<{ network: { id: string } }>('POST', '/network/v2.0/networks', {
        token: member,
        body: { network: { name: `sg-net-${suffix}` } },
      })
    ).body.network.id;
    const port = await call<{ port: { id: string; security_groups: string[] } }>(
      'POST',
      '/network/v2.0/ports',
      {
        token: member,
        body: { port: { network_id: net, security_groups: [group.id] } },
      },
    );
    expect(port.status).toBe(201);
    expect(port.body.port.security_groups).toEqual([group.id]);
    const refused = await call('DELETE', `/network/v2.0/security-groups/${group.id}`, { token: member });
    expect(refused.status).toBe(409);
    expect(errorType(refused.body)).toBe('SecurityGroupInUse');
    expect((await call('DELETE', `/network/v2.0/ports/${port.body.port.id}`, { token: member })).status).toBe(
      204,
    );
    expect(
      (await call('DELETE', `/network/v2.0/security-groups/${group.id}`, { token: member })).status,
    ).toBe(204);
  });

  it('serves the quotas: show, defaults, details, set and delete, members reading only their own', async () => {
    const { projectId, token } = await newProject('sg-quota');
    const defaults = {
      network: 100,
      subnet: 100,
      port: 500,
      router: 10,
      floatingip: 50,
      security_group: 10,
      security_group_rule: 100,
    };
    const shown = await call<{ quota: Body }>('GET', `/network/v2.0/quotas/${projectId}`, { token });
    expect(shown.status).toBe(200);
    expect(shown.body.quota).toEqual(defaults);
    const defaulted = await call<{ quota: Body }>('GET', `/network/v2.0/quotas/${projectId}/default`, {
      token,
    });
    expect(defaulted.body.quota).toEqual(defaults);
    expect((await call('GET', `/network/v2.0/quotas/${memberProject}`, { token })).status).toBe(403);
    expect((await call('GET', '/network/v2.0/quotas', { token })).status).toBe(403);

    await call('GET', '/network/v2.0/security-groups', { token });
    const details = await call<{ quota: Record<string, Body> }>(
      'GET',
      `/network/v2.0/quotas/${projectId}/details`,
      {
        token,
      },
    );
    expect(details.body.quota.security_group).toEqual({ limit: 10, used: 1, reserved: 0 });
    expect(details.body.quota.security_group_rule).toEqual({ limit: 100, used: 4, reserved: 0 });
    expect(details.body.quota.network).toEqual({ limit: 100, used: 0, reserved: 0 });

    const byMember = await call('PUT', `/network/v2.0/quotas/${projectId}`, {
      token,
      body: { quota: { network: 5 } },
    });
    expect(byMember.status).toBe(403);
    for (const bad of [{ network: -2 }, { network: 'many' }, { network: 1.5 }, { widgets: 3 }]) {
      const refused = await call('PUT', `/network/v2.0/quotas/${projectId}`, {
        token: admin,
        body: { quota: bad },
      });
      expect({ bad, status: refused.status }).toEqual({ bad, status: 400 });
    }
    const belowUse = await call('PUT', `/network/v2.0/quotas/${projectId}`, {
      token: admin,
      body: { quota: { security_group: 0, check_limit: true } },
    });
    expect(belowUse.status).toBe(400);

    const set = await call<{ quota: Body }>('PUT', `/network/v2.0/quotas/${projectId}`, {
      token: admin,
      body: { quota: { network: 5, port: '20', security_group: 1 } },
    });
    expect(set.status).toBe(200);
    expect(set.body.quota).toEqual({ ...defaults, network: 5, port: 20, security_group: 1 });
    expect(
      (await call<{ quota: Body }>('GET', `/network/v2.0/quotas/${projectId}`, { token })).body.quota,
    ).toEqual(set.body.quota);
    const listed = await call<{ quotas: Body[] }>('GET', '/network/v2.0/quotas', { token: admin });
    expect(listed.body.quotas.find((quota) => quota.project_id === projectId)).toEqual({
      ...set.body.quota,
      project_id: projectId,
      tenant_id: projectId,
    });

    // The default group already takes the one group allowed.
    const over = await createGroup(token, 'one-too-many');
    expect(over.status).toBe(409);
    expect(errorType(over.body)).toBe('OverQuota');

    expect((await call('DELETE', `/network/v2.0/quotas/${projectId}`, { token })).status).toBe(403);
    expect((await call('DELETE', `/network/v2.0/quotas/${projectId}`, { token: admin })).status).toBe(204);
    const reset = await call<{ quota: Body }>('GET', `/network/v2.0/quotas/${projectId}`, { token });
    expect(reset.body.quota).toEqual(defaults);
    const after = await call<{ quotas: Body[] }>('GET', '/network/v2.0/quotas', { token: admin });
    expect(after.body.quotas.map((quota) => quota.project_id)).not.toContain(projectId);
    expect((await createGroup(token, 'fits-now')).status).toBe(201);
  });
});
