import { describe, expect, it } from 'vitest';
import { extraSpecProblem, NAMESPACES } from '../../functions/compute/flavor-extra-spec-validators.ts';

type Spec = [key: string, value: string];

function expectValid(specs: Spec[]): void {
  for (const [key, value] of specs) expect(extraSpecProblem(key, value), `${key}=${value}`).toBeUndefined();
}

/** Each spec is refused with a message naming its key and containing `rule`. */
function expectRefused(specs: Array<[...Spec, rule: string]>): void {
  for (const [key, value, rule] of specs) {
    const problem = extraSpecProblem(key, value);
    expect(problem, `${key}=${value}`).toContain(`'${key}'`);
    expect(problem, `${key}=${value}`).toContain(rule);
  }
}

const NOT_A_SPEC = 'does not appear to be a valid extra spec';

describe('flavor extra spec validators (compute 2.86)', () => {
  it('knows the namespaces Nova validates', () => {
    expect(Object.keys(NAMESPACES).sort()).toEqual([
      'accel',
      'aggregate_instance_extra_specs',
      'capabilities',
      'hw',
      'hw_rng',
      'hw_video',
      'os',
      'pci_passthrough',
      'powervm',
      'quota',
      'resources',
      'trait',
      'vmware',
    ]);
  });

  it('leaves specs outside every known namespace alone', () => {
    expectValid([
      ['foo', 'bar'],
      ['hhw:cpu_realtime_mask', 'anything'],
      ['w:cpu_realtime_mask', '^0'],
      ['hw_cpu_realtime_mask', 'x'],
      ['acme:whatever', 'x'],
      ['hw.cpu_policy', 'sometimes'],
      ['constructor', 'x'],
      ['resources!:VCPU', 'x'],
    ]);
  });

  it('refuses a key its namespace does not know', () => {
    expectRefused([
      ['hw:cpu_realtime_maskk', '^0', NOT_A_SPEC],
      ['hw:cpu_realtime_mas', '^0', NOT_A_SPEC],
      ['hw:foo', 'bar', NOT_A_SPEC],
      ['hw:', 'x', NOT_A_SPEC],
      ['hw:constructor', 'x', NOT_A_SPEC],
      ['hw:numa_cpus.x', '0', NOT_A_SPEC],
      ['hw:max_cpu_sockets', '2', NOT_A_SPEC],
      ['hw_rng:rate', '1', NOT_A_SPEC],
      ['hw_video:ram_mb', '1', NOT_A_SPEC],
      ['os:type', 'linux', NOT_A_SPEC],
      ['quota:ram_limit', '1', NOT_A_SPEC],
      ['quota:disk_read_sec', '1', NOT_A_SPEC],
      ['resources:VCPUS', '1', NOT_A_SPEC],
      ['resources:custom_gpu', '1', NOT_A_SPEC],
      ['trait:HW_CPU_X86_AVX3', 'required', NOT_A_SPEC],
      ['trait:CUSTOM_lower', 'required', NOT_A_SPEC],
      ['pci_passthrough:aliases', 'a:1', NOT_A_SPEC],
      ['accel:device', 'x', NOT_A_SPEC],
      ['vmware:hw', 'x', NOT_A_SPEC],
      ['powervm:mem', '512', NOT_A_SPEC],
      ['aggregate_instance_extra_specs:', 'x', NOT_A_SPEC],
      ['capabilities:', 'x', NOT_A_SPEC],
    ]);
  });

  it('validates the hw namespace: enums, CPU sets, page sizes, integers and booleans', () => {
    expectValid([
      ['hw:cpu_policy', 'dedicated'],
      ['hw:cpu_policy', 'mixed'],
      ['hw:cpu_thread_policy', 'prefer'],
      ['hw:emulator_threads_policy', 'isolate'],
      ['hw:pci_numa_affinity_policy', 'socket'],
      ['hw:viommu_model', 'smmuv3'],
      ['hw:tpm_model', 'tpm-crb'],
      ['hw:tpm_version', '2.0'],
      ['hw:tpm_secret_security', 'deployment'],
      ['hw:watchdog_action', 'poweroff'],
      ['hw:mem_encryption_model', 'amd-sev-snp'],
      ['hw:sound_model', 'ich9'],
      ['hw:usb_model', 'qemu-xhci'],
      ['hw:ephemeral_encryption_format', 'luksv2'],
      ['hw:cpu_realtime_mask', '0'],
      ['hw:cpu_realtime_mask', '^0'],
      ['hw:cpu_realtime_mask', '^0,2-3,1'],
      ['hw:cpu_dedicated_mask', '0-4,^2,6'],
      ['hw:numa_cpus.0', '0-3'],
      ['hw:numa_cpus.12', '4,5,^6'],
      ['hw:mem_page_size', 'large'],
      ['hw:mem_page_size', 'any'],
      ['hw:mem_page_size', '2048'],
      ['hw:mem_page_size', '2kbit'],
      ['hw:mem_page_size', '1GB'],
      ['hw:mem_page_size', '2MiB'],
      ['hw:pmem', 'SMALL,LARGE'],
      ['hw:pmem', 'label_1,'],
      ['hw:numa_nodes', '1'],
      ['hw:numa_nodes', ' 2 '],
      ['hw:numa_mem.1', '1024'],
      ['hw:cpu_sockets', '+2'],
      ['hw:cpu_max_threads', '1_000'],
      ['hw:serial_port_count', '0'],
      ['hw:redirected_usb_ports', '15'],
      ['hw:cpu_realtime', '1'],
      ['hw:cpu_realtime', '0'],
      ['hw:mem_encryption', 'true'],
      ['hw:boot_menu', 'y'],
      ['hw:hide_hypervisor_id', 'False'],
      ['hw:locked_memory', ' ON '],
      ['hw:pmu', 'no'],
      ['hw:vif_multiqueue_enabled', 't'],
      ['hw:virtio_packed_ring', 'off'],
      ['hw:ephemeral_encryption', 'yes'],
    ]);
    expectRefused([
      ['hw:cpu_policy', 'sometimes', 'is not one of: dedicated, shared, mixed'],
      ['hw:cpu_policy', 'Dedicated', 'is not one of'],
      ['hw:cpu_thread_policy', 'preferred', 'is not one of: prefer, isolate, require'],
      ['hw:emulator_threads_policy', 'iisolate', 'is not one of'],
      ['hw:pci_numa_affinity_policy', 'socet', 'is not one of'],
      ['hw:viommu_model', 'autt', 'is not one of'],
      ['hw:tpm_model', 'tpm-foo', 'is not one of'],
      ['hw:tpm_version', '4.2', 'is not one of: 1.2, 2.0'],
      ['hw:tpm_secret_security', 'bar', 'is not one of'],
      ['hw:watchdog_action', 'explode', 'is not one of'],
      ['hw:sound_model', 'hda', 'is not one of'],
      ['hw:usb_model', 'ehci', 'is not one of'],
      ['hw:cpu_realtime_mask', 'a', 'is not of the format'],
      ['hw:cpu_realtime_mask', '^0,2-3,b', 'is not of the format'],
      ['hw:cpu_realtime_mask', '0,,1', 'is not of the format'],
      ['hw:cpu_dedicated_mask', '', 'is not of the format'],
      ['hw:numa_cpus.0', '0-', 'is not of the format'],
      ['hw:mem_page_size', 'largest', 'is not of the format'],
      ['hw:mem_page_size', '2kbits', 'is not of the format'],
      ['hw:mem_page_size', '1gigabyte', 'is not of the format'],
      ['hw:pmem', ',SMALL', 'is not of the format'],
      ['hw:pmem', 'A,,B', 'is not of the format'],
      ['hw:numa_nodes', '0', "is less than the min value of '1'"],
      ['hw:numa_nodes', '1.5', 'is not a valid integer value'],
      ['hw:numa_mem.0', '0', 'min value'],
      ['hw:cpu_cores', '-1', 'min value'],
      ['hw:cpu_max_sockets', '0', 'min value'],
      ['hw:serial_port_count', 'five', 'is not a valid integer value'],
      ['hw:serial_port_count', '!', 'is not a valid integer value'],
      ['hw:serial_port_count', '1__0', 'is not a valid integer value'],
      ['hw:serial_port_count', '', 'is not a valid integer value'],
      ['hw:redirected_usb_ports', '16', "is greater than the max value of '15'"],
      ['hw:cpu_realtime', '2', 'is not a valid boolean-like value'],
      ['hw:cpu_realtime', '00', 'is not a valid boolean-like value'],
      ['hw:mem_encryption', 'tru', 'boolean-like'],
      ['hw:boot_menu', 'yah', 'boolean-like'],
    ]);
  });

  it('validates hw_rng, hw_video and os', () => {
    expectValid([
      ['hw_rng:allowed', 'True'],
      ['hw_rng:rate_bytes', '1024'],
      ['hw_rng:rate_period', '0'],
      ['hw_video:ram_max_mb', '64'],
      ['os:secure_boot', 'required'],
      ['os:resolution', '1920x1200'],
      ['os:monitors', '8'],
      ['os:vram', '256'],
    ]);
    expectRefused([
      ['hw_rng:allowed', 'maybe', 'boolean-like'],
      ['hw_rng:rate_bytes', '-1', 'min value'],
      ['hw_rng:rate_period', 'fast', 'integer'],
      ['hw_video:ram_max_mb', '-64', 'min value'],
      ['os:secure_boot', 'optional', 'is not one of: disabled, required'],
      ['os:resolution', '800x600', 'is not one of'],
      ['os:monitors', '0', 'min value'],
      ['os:monitors', '9', "max value of '8'"],
      ['os:vram', '32', 'is not one of'],
    ]);
  });

  it('validates the quota namespace of the libvirt and VMware drivers', () => {
    expectValid([
      ['quota:cpu_shares', '1024'],
      ['quota:cpu_period', '100000'],
      ['quota:cpu_quota', '-1'],
      ['quota:cpu_limit', '0'],
      ['quota:memory_reservation', '-5'],
      ['quota:disk_io_shares_level', 'custom'],
      ['quota:vif_shares_share', '10'],
      ['quota:disk_read_bytes_sec', '10240'],
      ['quota:disk_total_iops_sec', '500'],
      ['quota:vif_outbound_burst', '0'],
    ]);
    expectRefused([
      ['quota:cpu_shares', '-1', 'min value'],
      ['quota:cpu_quota', 'unlimited', 'integer'],
      ['quota:memory_limit', '-1', 'min value'],
      ['quota:cpu_shares_level', 'extreme', 'is not one of: custom, high, normal, low'],
      ['quota:disk_write_iops_sec', '1e3', 'integer'],
      ['quota:vif_inbound_average', '-10', 'min value'],
    ]);
  });

  it('validates resources and traits, in any request group', () => {
    expectValid([
      ['resources:VCPU', '2'],
      ['resources:PCPU', '4'],
      ['resources1:MEMORY_MB', '512'],
      ['resources_gpu:VGPU', '1'],
      ['resources:NET_PACKET_RATE_EGR_KILOPACKET_PER_SEC', '100'],
      ['resources:CUSTOM_BAREMETAL_GOLD', '1'],
      ['resources:DISK_GB', '0'],
      ['trait:HW_CPU_X86_AVX2', 'required'],
      ['trait:COMPUTE_STATUS_DISABLED', 'forbidden'],
      ['trait:HW_GPU_MAX_DISPLAY_HEADS_4', 'required'],
      ['trait:COMPUTE_DEVICE_TAGGING', 'required'],
      ['trait:STORAGE_DISK_SSD', 'required'],
      ['trait1:HW_NIC_SRIOV_TRUSTED', 'required'],
      ['trait_net-a:CUSTOM_PHYSNET_1', 'forbidden'],
      // `traits` is the trait namespace with a request group named `s`, as in Nova.
      ['traits:HW_CPU_X86_SSE42', 'required'],
    ]);
    expectRefused([
      ['resources:VCPU', 'two', 'integer'],
      ['resources1:CUSTOM_GPU', '1.5', 'integer'],
      ['resources:NOT_A_CLASS', '1', NOT_A_SPEC],
      ['trait:HW_CPU_X86_AVX2', 'preferred', 'is not one of: required, forbidden'],
      ['trait1:CUSTOM_FOO', 'Required', 'is not one of'],
      ['trait:HW_CPU_X86_NOPE', 'required', NOT_A_SPEC],
      ['traits:CUSTOM_', 'required', NOT_A_SPEC],
    ]);
    // A request group longer than Nova's 64 characters does not name the namespace at all.
    expectValid([
      [`trait${'g'.repeat(65)}:ANYTHING`, 'x'],
      [`resources${'g'.repeat(65)}:VCPU`, 'x'],
    ]);
  });

  it("accepts what the scheduler's filters read: any capability or aggregate metadata key, any operator", () => {
    expectValid([
      ['capabilities:hypervisor_type', '<or> kvm <or> fake'],
      ['capabilities:vcpus', '>= 8'],
      ['capabilities:cpu_features', '<in> avx2'],
      ['capabilities:cpu.percent', '<= 50'],
      ['capabilities:gpu', 'true'],
      ['capabilities:cpu_info:arch', 's== x86_64'],
      ['aggregate_instance_extra_specs:pool', 'true'],
      ['aggregate_instance_extra_specs:ssd', '<all-in> a b'],
      ['aggregate_instance_extra_specs:a:b', 's!= x'],
      // Unnamespaced: the dedicated-host request and policy bindings' own keys.
      ['dedicated', 'true'],
      ['tier', 'gold'],
    ]);
  });

  it('validates pci_passthrough, accel, vmware and the unnamespaced keys Nova knows', () => {
    expectValid([
      ['pci_passthrough:alias', 'a1:2'],
      ['pci_passthrough:alias', 'gpu-v100:1, nic:2,fpga x:3'],
      ['accel:device_profile', 'my-profile'],
      ['vmware:hw_version', 'vmx-13'],
      ['vmware:storage_policy', 'gold'],
      ['hide_hypervisor_id', 'true'],
      ['group_policy', 'isolate'],
      ['group_policy', 'none'],
    ]);
    expectRefused([
      ['pci_passthrough:alias', 'a1', 'is not of the format'],
      ['pci_passthrough:alias', 'a1:x', 'is not of the format'],
      ['pci_passthrough:alias', 'a1:1,', 'is not of the format'],
      ['pci_passthrough:alias', ':1', 'is not of the format'],
      ['hide_hypervisor_id', 'sure', 'boolean-like'],
      ['group_policy', 'spread', 'is not one of: isolate, none'],
    ]);
  });

  it('validates powervm as Nova did while it had the driver', () => {
    expectValid([
      ['powervm:min_mem', '256'],
      ['powervm:max_vcpu', '8'],
      ['powervm:proc_units', '0.5'],
      ['powervm:dedicated_proc', 'false'],
      ['powervm:shared_weight', '255'],
      ['powervm:dedicated_sharing_mode', 'keep_idle_procs'],
      ['powervm:processor_compatibility', 'POWER6+_Enhanced'],
      ['powervm:shared_proc_pool_name', 'pool 1'],
      ['powervm:srr_capability', 'yes'],
    ]);
    expectRefused([
      ['powervm:min_mem', '128', "min value of '256'"],
      ['powervm:min_vcpu', '0', 'min value'],
      ['powervm:max_proc_units', '2', 'is not of the format'],
      ['powervm:availability_priority', '256', "max value of '255'"],
      ['powervm:uncapped', 'sometimes', 'boolean-like'],
      ['powervm:processor_compatibility', 'POWER8', 'is not one of'],
    ]);
  });

  it('judges the longest values without backtracking for ever', () => {
    // Nova's own patterns for these take 2^n steps to refuse such values; a hung worker is what
    // a user would notice, so each refusal must come back at all.
    expectRefused([
      ['hw:cpu_realtime_mask', `0${',1-2'.repeat(60)}x`, 'is not of the format'],
      ['hw:pmem', `${'a,'.repeat(126)}!`, 'is not of the format'],
      ['pci_passthrough:alias', `a:1${' , a:1'.repeat(40)}x`, 'is not of the format'],
    ]);
  });
});
