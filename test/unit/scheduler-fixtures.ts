import type { FilterContext } from '../../functions/scheduler/filters/filter.ts';
import { emptyFacts, type HostFacts } from '../../functions/scheduler/host-facts.ts';
import { DEFAULT_SETTINGS, type ResolvedSettings } from '../../functions/scheduler/policies.ts';
import type { HostState, RequestSpec } from '../../functions/scheduler/request-spec.ts';

// Hand-built scheduler inputs for the filter and weigher unit tests: a host and a request that pass
// every filter, which each test bends in the one way it is about.

export const NOW = new Date('2026-11-25T12:00:00.000Z');

export function secondsAgo(seconds: number): Date {
  return new Date(NOW.getTime() - seconds * 1000);
}

export function host(overrides: Partial<HostState> = {}): HostState {
  return {
    id: 1,
    host: 'compute-1',
    hypervisor_hostname: 'compute-1',
    hypervisor_type: 'fake',
    hypervisor_version: 1,
    availability_zone: 'az-1',
    vcpus: 8,
    vcpus_used: 0,
    memory_mb: 16384,
    memory_mb_used: 0,
    local_gb: 100,
    local_gb_used: 0,
    running_vms: 0,
    cpu_allocation_ratio: 16,
    ram_allocation_ratio: 1.5,
    disk_allocation_ratio: 1,
    metrics: [{ name: 'cpu.percent', value: 10, timestamp: secondsAgo(5).toISOString(), source: 'agent' }],
    generation: 0,
    disabled: false,
    forced_down: false,
    last_seen_at: secondsAgo(5),
    dedicated_to: null,
    filter_tenant_ids: null,
    declared_capabilities: null,
    supported_commands: null,
    ...overrides,
  };
}

export function spec(overrides: Partial<RequestSpec> = {}): RequestSpec {
  return {
    instance_uuid: '11111111-1111-4111-8111-111111111111',
    project_id: 'project-a',
    memory_mb: 2048,
    vcpus: 2,
    disk_gb: 20,
    flavor_extra_specs: {},
    image_properties: {},
    availability_zone: null,
    scheduler_hints: {},
    ignore_hosts: [],
    num_instances: 1,
    ...overrides,
  };
}

export function context(settings: Partial<ResolvedSettings> = {}): FilterContext {
  return { now: NOW, serviceDownTimeSeconds: 60, settings: { ...DEFAULT_SETTINGS, ...settings } };
}

export function facts(overrides: Partial<HostFacts> = {}): HostFacts {
  return { ...emptyFacts(), ...overrides };
}
