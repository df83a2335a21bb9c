import { describe, expect, it } from 'vitest';
import { matchesRequirement } from '../../functions/scheduler/extra-specs-ops.ts';
import { agentCommandsFilter } from '../../functions/scheduler/filters/agent-commands.ts';
import { aggregateInstanceExtraSpecsFilter } from '../../functions/scheduler/filters/aggregate-instance-extra-specs.ts';
import { aggregateMultiTenancyIsolation } from '../../functions/scheduler/filters/aggregate-multi-tenancy-isolation.ts';
import { availabilityZoneFilter } from '../../functions/scheduler/filters/availability-zone.ts';
import { computeFilter } from '../../functions/scheduler/filters/compute.ts';
import { computeCapabilitiesFilter } from '../../functions/scheduler/filters/compute-capabilities.ts';
import { coreFilter } from '../../functions/scheduler/filters/core.ts';
import { dedicatedHostsFilter } from '../../functions/scheduler/filters/dedicated-hosts.ts';
import { differentHostFilter } from '../../functions/scheduler/filters/different-host.ts';
import { diskFilter } from '../../functions/scheduler/filters/disk.ts';
import type { FilterContext, HostFilter } from '../../functions/scheduler/filters/filter.ts';
import { imagePropertiesFilter } from '../../functions/scheduler/filters/image-properties.ts';
import { FILTERS } from '../../functions/scheduler/filters/index.ts';
import { ioOpsFilter } from '../../functions/scheduler/filters/io-ops.ts';
import { jsonQueryFilter } from '../../functions/scheduler/filters/json-query.ts';
import { metricsFilter } from '../../functions/scheduler/filters/metrics.ts';
import { numInstancesFilter } from '../../functions/scheduler/filters/num-instances.ts';
import { ramFilter } from '../../functions/scheduler/filters/ram.ts';
import { retryFilter } from '../../functions/scheduler/filters/retry.ts';
import { sameHostFilter } from '../../functions/scheduler/filters/same-host.ts';
import { serverGroupAffinityFilter } from '../../functions/scheduler/filters/server-group-affinity.ts';
import { serverGroupAntiAffinityFilter } from '../../functions/scheduler/filters/server-group-anti-affinity.ts';
import type { HostFacts } from '../../functions/scheduler/host-facts.ts';
import type { HostState, RequestSpec } from '../../functions/scheduler/request-spec.ts';
import { context, facts, host, secondsAgo, spec } from './scheduler-fixtures.ts';

function verdict(
  filter: HostFilter,
  hostOverrides: Partial<HostState> = {},
  specOverrides: Partial<RequestSpec> = {},
  options: { context?: FilterContext; facts?: HostFacts } = {},
): string | null {
  return filter.passes(
    host(hostOverrides),
    spec(specOverrides),
    options.context ?? context(),
    options.facts ?? facts(),
  );
}

const OTHER_SERVER = '22222222-2222-4222-8222-222222222222';
const THIRD_SERVER = '33333333-3333-4333-8333-333333333333';

describe('the filter list', () => {
  it('passes the reference host and request through every filter', () => {
    for (const filter of FILTERS) expect(verdict(filter), filter.name).toBeNull();
  });

  it('names each filter once and lists only hints that exist', () => {
    const names = FILTERS.map((filter) => filter.name);
    expect(new Set(names).size).toBe(names.length);
    expect(FILTERS.flatMap((filter) => filter.hints).sort()).toEqual([
      'different_host',
      'group',
      'group',
      'group_policy',
      'group_policy',
      'query',
      'same_host',
    ]);
  });
});

describe('ComputeFilter', () => {
  it('rejects a disabled, forced-down or silent service and says which', () => {
    expect(verdict(computeFilter, { disabled: true })).toBe('the compute service is disabled');
    expect(verdict(computeFilter, { forced_down: true })).toBe('the compute service is forced down');
    expect(verdict(computeFilter, { last_seen_at: secondsAgo(61) })).toBe(
      'the compute service has not reported for more than 60 s',
    );
    expect(verdict(computeFilter, { last_seen_at: null })).toBe(
      'the compute service has not reported for more than 60 s',
    );
  });

  it('passes a service that reported within the down time', () => {
    expect(verdict(computeFilter, { last_seen_at: secondsAgo(59) })).toBeNull();
  });
});

describe('AvailabilityZoneFilter', () => {
  it('passes any host when no zone is asked, and only the zone asked otherwise', () => {
    expect(verdict(availabilityZoneFilter, { availability_zone: 'az-2' })).toBeNull();
    expect(verdict(availabilityZoneFilter, {}, { availability_zone: 'az-1' })).toBeNull();
    expect(verdict(availabilityZoneFilter, {}, { availability_zone: 'az-2' })).toBe(
      'the host is in availability zone az-1, not az-2',
    );
  });
});

describe('RetryFilter', () => {
  it('rejects a host the request tried already or is moving away from', () => {
    expect(verdict(retryFilter, {}, { ignore_hosts: ['compute-1'] })).toBe(
      'the request already tried this host, or is leaving it',
    );
    expect(verdict(retryFilter, {}, { ignore_hosts: ['compute-2'] })).toBeNull();
  });
});

describe('AgentCommandsFilter', () => {
  it('passes any agent for a request that needs no command, as a boot', () => {
    expect(verdict(agentCommandsFilter, { supported_commands: null })).toBeNull();
  });

  it("keeps a move's destination off an agent that does not run its commands", () => {
    const move = { required_commands: ['prep_resize', 'finish_resize'] };
    expect(verdict(agentCommandsFilter, { supported_commands: null }, move)).toBe(
      'its agent does not run prep_resize, finish_resize',
    );
    expect(verdict(agentCommandsFilter, { supported_commands: ['spawn', 'prep_resize'] }, move)).toBe(
      'its agent does not run finish_resize',
    );
    expect(
      verdict(agentCommandsFilter, { supported_commands: ['spawn', 'prep_resize', 'finish_resize'] }, move),
    ).toBeNull();
  });

  it('counts the legacy commands as run by an agent that reported none', () => {
    expect(
      verdict(agentCommandsFilter, { supported_commands: null }, { required_commands: ['spawn'] }),
    ).toBeNull();
  });
});

describe('RamFilter, CoreFilter, DiskFilter', () => {
  it('count the allocation ratio in effect (the aggregate one, when the query found one)', () => {
    // 4096 MB × 1.5 − 4000 used = 2144 MB free: room for 2048 MB.
    expect(verdict(ramFilter, { memory_mb: 4096, memory_mb_used: 4000 })).toBeNull();
    // The same host under an aggregate ratio of 1.0 has 96 MB free.
    expect(verdict(ramFilter, { memory_mb: 4096, memory_mb_used: 4000, ram_allocation_ratio: 1 })).toBe(
      '2048 MB of RAM requested, 96 MB free (ratio 1)',
    );
  });

  it('reject a host without enough vCPUs or disk, with what is free', () => {
    expect(verdict(coreFilter, { vcpus: 1, vcpus_used: 15 })).toBe('2 vCPUs requested, 1 free (ratio 16)');
    expect(verdict(coreFilter, { vcpus: 1, vcpus_used: 14 })).toBeNull();
    expect(verdict(diskFilter, { local_gb: 30, local_gb_used: 11 })).toBe(
      '20 GB of disk requested, 19 GB free (ratio 1)',
    );
    expect(verdict(diskFilter, { local_gb: 30, local_gb_used: 10 })).toBeNull();
  });
});

describe('NumInstancesFilter and IoOpsFilter', () => {
  it('compare running instances with the policy limit', () => {
    const limit = context({ max_instances_per_host: 3 });
    expect(verdict(numInstancesFilter, { running_vms: 2 }, {}, { context: limit })).toBeNull();
    expect(verdict(numInstancesFilter, { running_vms: 3 }, {}, { context: limit })).toBe(
      'the host runs 3 instances, the limit is 3',
    );
  });

  it('compare I/O-heavy operations on the node with the policy limit', () => {
    const limit = context({ max_io_ops_per_host: 2 });
    const busy = facts({ ioOps: new Map([[1, 2]]) });
    expect(verdict(ioOpsFilter, {}, {}, { context: limit, facts: busy })).toBe(
      'the host has 2 I/O-heavy operations running, the limit is 2',
    );
    expect(verdict(ioOpsFilter, { id: 2 }, {}, { context: limit, facts: busy })).toBeNull();
    expect(ioOpsFilter.needs?.(spec())).toEqual(['io_ops']);
  });
});

describe('DedicatedHostsFilter', () => {
  it('keeps other projects off a dedicated host and lets its own project in', () => {
    expect(verdict(dedicatedHostsFilter, { dedicated_to: 'project-b' })).toBe(
      'the host is dedicated to project project-b',
    );
    expect(verdict(dedicatedHostsFilter, { dedicated_to: 'project-a' })).toBeNull();
  });

  it('sends a dedicated=true flavor only to a host dedicated to the project', () => {
    const dedicatedFlavor = { flavor_extra_specs: { dedicated: 'true' } };
    expect(verdict(dedicatedHostsFilter, {}, dedicatedFlavor)).toBe(
      'the flavor needs a dedicated host and this host is shared',
    );
    expect(verdict(dedicatedHostsFilter, { dedicated_to: 'project-a' }, dedicatedFlavor)).toBeNull();
  });
});

describe('AggregateMultiTenancyIsolation', () => {
  it('passes every project on a host no aggregate isolates', () => {
    expect(verdict(aggregateMultiTenancyIsolation, { filter_tenant_ids: null })).toBeNull();
  });

  it('passes a listed project (from any of the aggregates) and names the allowed ones otherwise', () => {
    const isolated = { filter_tenant_ids: 'project-b,project-a' };
    expect(verdict(aggregateMultiTenancyIsolation, isolated)).toBeNull();
    expect(verdict(aggregateMultiTenancyIsolation, isolated, { project_id: 'project-c' })).toBe(
      "the host's aggregates are reserved for projects project-b, project-a",
    );
  });
});

describe('AggregateInstanceExtraSpecsFilter', () => {
  const metadata = facts({
    aggregateMetadata: new Map([
      [
        'compute-1',
        new Map([
          ['ssd', ['true']],
          ['cpu_gen', ['3', '5']],
        ]),
      ],
    ]),
  });

  it('reads aggregate metadata only for scoped extra specs', () => {
    expect(
      aggregateInstanceExtraSpecsFilter.needs?.(spec({ flavor_extra_specs: { dedicated: 'true' } })),
    ).toEqual([]);
    expect(
      aggregateInstanceExtraSpecsFilter.needs?.(
        spec({ flavor_extra_specs: { 'aggregate_instance_extra_specs:ssd': 'true' } }),
      ),
    ).toEqual(['aggregate_metadata']);
  });

  it('passes when some aggregate of the host matches every scoped spec', () => {
    const wants = {
      flavor_extra_specs: {
        'aggregate_instance_extra_specs:ssd': 'true',
        'aggregate_instance_extra_specs:cpu_gen': '>= 4',
      },
    };
    expect(verdict(aggregateInstanceExtraSpecsFilter, {}, wants, { facts: metadata })).toBeNull();
  });

  it('names the key that no aggregate matches', () => {
    const wants = { flavor_extra_specs: { 'aggregate_instance_extra_specs:gpu': 'true' } };
    expect(verdict(aggregateInstanceExtraSpecsFilter, {}, wants, { facts: metadata })).toBe(
      "no aggregate of the host has gpu matching 'true'",
    );
    expect(
      verdict(
        aggregateInstanceExtraSpecsFilter,
        { host: 'compute-2' },
        {
          flavor_extra_specs: { 'aggregate_instance_extra_specs:ssd': 'true' },
        },
        { facts: metadata },
      ),
    ).toBe("no aggregate of the host has ssd matching 'true'");
  });
});

describe('ComputeCapabilitiesFilter', () => {
  const declared = { declared_capabilities: { cpu_features: 'avx,avx2,sse4' } };

  it('matches declared capabilities, node fields and metrics with the extra-spec operators', () => {
    const wants = {
      flavor_extra_specs: {
        'capabilities:cpu_features': '<in> avx2',
        'capabilities:vcpus': '>= 8',
        'capabilities:hypervisor_type': '<or> kvm <or> fake',
        'capabilities:cpu.percent': '<= 50',
      },
    };
    expect(verdict(computeCapabilitiesFilter, declared, wants)).toBeNull();
  });

  it('says what the host has against what the flavor asks', () => {
    expect(
      verdict(computeCapabilitiesFilter, {}, { flavor_extra_specs: { 'capabilities:vcpus': '>= 16' } }),
    ).toBe("capability vcpus is 8, the flavor asks for '>= 16'");
    expect(
      verdict(computeCapabilitiesFilter, {}, { flavor_extra_specs: { 'capabilities:gpu': 'true' } }),
    ).toBe("capability gpu is not set, the flavor asks for 'true'");
  });
});

describe('the extra-spec operators', () => {
  it.each([
    ['4', '>= 4', true],
    ['3', '>= 4', false],
    ['8', '= 4', true],
    ['4', '== 4', true],
    ['5', '== 4', false],
    ['4', '!= 4', false],
    ['x86_64', 's== x86_64', true],
    ['x86_64', 's!= x86_64', false],
    ['avx,sse', '<in> sse', true],
    ['qemu', '<or> kvm <or> qemu', true],
    ['xen', '<or> kvm <or> qemu', false],
    ['plain', 'plain', true],
    ['abc', '>= 4', false],
  ])('%s against %s is %s', (have, requirement, expected) => {
    expect(matchesRequirement(have, requirement)).toBe(expected);
  });

  it('never matches a value the host does not have', () => {
    expect(matchesRequirement(undefined, 'anything')).toBe(false);
  });
});

describe('ImagePropertiesFilter', () => {
  const tilegxImage = { image_properties: { architecture: 'tilegx' } };

  it('sends a tilegx image only to a host that declares tilegx', () => {
    expect(
      verdict(
        imagePropertiesFilter,
        { declared_capabilities: { architecture: 'x86_64, TileGX' } },
        tilegxImage,
      ),
    ).toBeNull();
    expect(
      verdict(imagePropertiesFilter, { declared_capabilities: { architecture: 'x86_64' } }, tilegxImage),
    ).toBe('the image needs architecture tilegx, the host supports x86_64');
  });

  it('takes a host that declares nothing for an x86_64, hvm one', () => {
    expect(verdict(imagePropertiesFilter, {}, tilegxImage)).toBe(
      'the image needs architecture tilegx, the host supports x86_64',
    );
    expect(
      verdict(imagePropertiesFilter, {}, { image_properties: { architecture: 'X86_64', vm_mode: 'hvm' } }),
    ).toBeNull();
    // A TILE-Gx host does not run x86_64 images.
    expect(
      verdict(
        imagePropertiesFilter,
        { declared_capabilities: { architecture: 'tilegx' } },
        {
          image_properties: { architecture: 'x86_64' },
        },
      ),
    ).toBe('the image needs architecture x86_64, the host supports tilegx');
  });

  it("matches hypervisor_type against the node's own, and vm_mode against the declared one", () => {
    expect(verdict(imagePropertiesFilter, {}, { image_properties: { hypervisor_type: 'FAKE' } })).toBeNull();
    expect(verdict(imagePropertiesFilter, {}, { image_properties: { hypervisor_type: 'kvm' } })).toBe(
      'the image needs hypervisor_type kvm, the host supports fake',
    );
    const xen = { declared_capabilities: { vm_mode: 'xen, hvm' } };
    expect(verdict(imagePropertiesFilter, xen, { image_properties: { vm_mode: 'xen' } })).toBeNull();
    expect(verdict(imagePropertiesFilter, {}, { image_properties: { vm_mode: 'xen' } })).toBe(
      'the image needs vm_mode xen, the host supports hvm',
    );
    expect(
      verdict(
        imagePropertiesFilter,
        { declared_capabilities: { vm_mode: '' } },
        { image_properties: { vm_mode: 'xen' } },
      ),
    ).toBe('the image needs vm_mode xen, the host supports none');
  });

  it('ignores image properties it does not know', () => {
    expect(verdict(imagePropertiesFilter, {}, { image_properties: { os_distro: 'ubuntu' } })).toBeNull();
  });
});

describe('SameHostFilter and DifferentHostFilter', () => {
  const placed = facts({
    instanceNodes: new Map([
      [OTHER_SERVER, new Set([1])],
      [THIRD_SERVER, new Set([2])],
    ]),
  });

  it('same_host: passes a host running one of the servers, rejects the others', () => {
    const hint = { scheduler_hints: { same_host: [OTHER_SERVER, THIRD_SERVER] } };
    expect(verdict(sameHostFilter, {}, hint, { facts: placed })).toBeNull();
    expect(verdict(sameHostFilter, { id: 3 }, hint, { facts: placed })).toBe(
      `the host runs none of the same_host servers ${OTHER_SERVER}, ${THIRD_SERVER}`,
    );
    expect(verdict(sameHostFilter, { id: 3 })).toBeNull();
  });

  it('different_host: rejects a host running any of the servers, naming it', () => {
    const hint = { scheduler_hints: { different_host: OTHER_SERVER } };
    expect(verdict(differentHostFilter, {}, hint, { facts: placed })).toBe(
      `the host runs different_host server ${OTHER_SERVER}`,
    );
    expect(verdict(differentHostFilter, { id: 2 }, hint, { facts: placed })).toBeNull();
  });

  it('read where the servers are only when the hint names some', () => {
    expect(sameHostFilter.needs?.(spec())).toEqual([]);
    expect(differentHostFilter.needs?.(spec({ scheduler_hints: { different_host: OTHER_SERVER } }))).toEqual([
      'instance_nodes',
    ]);
  });
});

describe('server group affinity and anti-affinity', () => {
  const membersOnNode2 = facts({ groupNodes: new Set([2]) });

  it('affinity: the first member goes anywhere, the next ones where members are', () => {
    const hint = { scheduler_hints: { group: 'web', group_policy: 'affinity' } };
    expect(verdict(serverGroupAffinityFilter, {}, hint)).toBeNull();
    expect(verdict(serverGroupAffinityFilter, {}, hint, { facts: membersOnNode2 })).toBe(
      'no member of affinity group web is on this host',
    );
    expect(verdict(serverGroupAffinityFilter, { id: 2 }, hint, { facts: membersOnNode2 })).toBeNull();
    expect(serverGroupAffinityFilter.needs?.(spec(hint))).toEqual(['group_nodes']);
  });

  it('anti-affinity (the default for a group): never beside another member', () => {
    const hint = { scheduler_hints: { group: 'web' } };
    expect(verdict(serverGroupAntiAffinityFilter, { id: 2 }, hint, { facts: membersOnNode2 })).toBe(
      'a member of anti-affinity group web is on this host',
    );
    expect(verdict(serverGroupAntiAffinityFilter, {}, hint, { facts: membersOnNode2 })).toBeNull();
    // Each filter leaves the other policy's groups alone.
    expect(verdict(serverGroupAffinityFilter, {}, hint, { facts: membersOnNode2 })).toBeNull();
    expect(
      verdict(
        serverGroupAntiAffinityFilter,
        { id: 2 },
        { scheduler_hints: { group: 'web', group_policy: 'affinity' } },
        { facts: membersOnNode2 },
      ),
    ).toBeNull();
  });
});

describe('JsonFilter', () => {
  function query(expression: unknown, overrides: Partial<HostState> = {}) {
    return verdict(jsonQueryFilter, overrides, { scheduler_hints: { query: JSON.stringify(expression) } });
  }

  it('evaluates comparisons, in, not, and, or over host attributes and metrics', () => {
    expect(query(['>=', '$free_ram_mb', 24576])).toBeNull();
    expect(query(['>', '$free_ram_mb', 24576])).toBe(
      'the host does not satisfy the query [">","$free_ram_mb",24576]',
    );
    expect(query(['and', ['=', '$hypervisor_type', 'fake'], ['<', '$metrics.cpu.percent', 50]])).toBeNull();
    expect(
      query(['or', ['=', '$host', 'compute-9'], ['in', '$availability_zone', 'az-2', 'az-1']]),
    ).toBeNull();
    expect(query(['not', ['=', '$host', 'compute-1']])).toBe(
      'the host does not satisfy the query ["not",["=","$host","compute-1"]]',
    );
    expect(query(['<=', '$free_disk_mb', 100 * 1024])).toBeNull();
    expect(query(['>=', '$free_vcpus', 129])).not.toBeNull();
  });

  it('treats a missing metric as no value, never as zero', () => {
    expect(query(['<', '$metrics.gpu.percent', 50])).not.toBeNull();
  });

  it('explains a query it cannot evaluate instead of throwing', () => {
    expect(query(['~', '$host', 'x'])).toBe('the query cannot be evaluated: unknown operator "~"');
    expect(query(['=', { a: 1 }, 'x'])).toBe('the query cannot be evaluated: unsupported term {"a":1}');
  });

  it('passes every host when there is no query', () => {
    expect(verdict(jsonQueryFilter)).toBeNull();
  });
});

describe('MetricsFilter', () => {
  it('needs a fresh reading of every weighed metric', () => {
    const weighed = context({ metrics_weight_setting: 'cpu.frequency=1', metrics_max_age_seconds: 30 });
    const fresh = secondsAgo(10).toISOString();
    const stale = secondsAgo(31).toISOString();
    expect(verdict(metricsFilter, {}, {}, { context: weighed })).toBe('the host reports no cpu.frequency');
    expect(
      verdict(
        metricsFilter,
        {
          metrics: [
            { name: 'cpu.percent', value: 10, timestamp: fresh, source: 'agent' },
            { name: 'cpu.frequency', value: 2400, timestamp: stale, source: 'agent' },
          ],
        },
        {},
        { context: weighed },
      ),
    ).toBe("the host's cpu.frequency is older than 30 s");
    expect(
      verdict(
        metricsFilter,
        {
          metrics: [
            { name: 'cpu.percent', value: 10, timestamp: fresh, source: 'agent' },
            { name: 'cpu.frequency', value: 2400, timestamp: fresh, source: 'agent' },
          ],
        },
        {},
        { context: weighed },
      ),
    ).toBeNull();
  });
});
