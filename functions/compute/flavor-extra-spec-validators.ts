// The flavor extra specs Nova knows (nova/api/validation/extra_specs/), as data: namespace → key →
// value rule. From compute 2.86 a spec in a namespace listed here must be one of its keys, with a value
// its rule accepts; a spec in any other namespace, or in none, is the operator's own and passes.
// Keys drivers have since taken out of Nova (PowerVM's, Hyper-V's os:*) stay listed: a flavor made
// for a release that knew them still sets. Value patterns accept what Nova's accept, written so that
// no input backtracks exponentially (values reach 255 characters and are checked on every write).

/** What a spec's value must be; a number given in JSON is judged by its decimal text. */
export type ValueRule =
  | { kind: 'integer'; min?: number; max?: number }
  | { kind: 'boolean' }
  | { kind: 'oneOf'; values: readonly string[] }
  | { kind: 'format'; format: string; pattern: RegExp }
  | { kind: 'text' };

export interface Namespace {
  /** Keys after `namespace:`, named literally. */
  keys: Record<string, ValueRule>;
  /** Keys with a parameter (a NUMA node, a custom class), tried when no literal key matches. */
  patterns?: Array<[RegExp, ValueRule]>;
  /** Placement request groups: `resources1:`, `trait_gpu:` belong to `resources`, `trait`. */
  grouped?: boolean;
}

const integer = (min?: number, max?: number): ValueRule => ({ kind: 'integer', min, max });
const boolean: ValueRule = { kind: 'boolean' };
const oneOf = (...values: string[]): ValueRule => ({ kind: 'oneOf', values });
const format = (source: string): ValueRule => ({
  kind: 'format',
  format: source,
  pattern: new RegExp(`^(?:${source})$`),
});
const text: ValueRule = { kind: 'text' };

/** A CPU set such as `0-3,^2,6`; Nova's pattern made unambiguous, accepting the same sets. */
const cpuSet = format('\\^?\\d+(?:-\\d+|,\\^?\\d+)*');
const atLeastOne = integer(1);
const nonNegative = integer(0);
const requiredOrForbidden = oneOf('required', 'forbidden');

/** The quota:* keys, which Nova builds from the drivers' resource and statistic names. */
function quotaKeys(): Record<string, ValueRule> {
  const keys: Record<string, ValueRule> = {
    cpu_shares: nonNegative,
    cpu_period: nonNegative,
    // Negative means unlimited bandwidth.
    cpu_quota: integer(),
  };
  for (const resource of ['cpu', 'memory', 'disk_io', 'vif']) {
    keys[`${resource}_limit`] = nonNegative;
    keys[`${resource}_reservation`] = integer();
    keys[`${resource}_shares_level`] = oneOf('custom', 'high', 'normal', 'low');
    keys[`${resource}_shares_share`] = nonNegative;
  }
  for (const stat of ['read', 'write', 'total']) {
    for (const metric of ['bytes', 'iops']) keys[`disk_${stat}_${metric}_sec`] = nonNegative;
  }
  for (const direction of ['inbound', 'outbound']) {
    for (const metric of ['average', 'peak', 'burst']) keys[`vif_${direction}_${metric}`] = nonNegative;
  }
  return keys;
}

/** os-resource-classes' standard classes. */
const RESOURCE_CLASSES = [
  'VCPU',
  'MEMORY_MB',
  'DISK_GB',
  'PCI_DEVICE',
  'SRIOV_NET_VF',
  'NUMA_SOCKET',
  'NUMA_CORE',
  'NUMA_THREAD',
  'NUMA_MEMORY_MB',
  'IPV4_ADDRESS',
  'VGPU',
  'VGPU_DISPLAY_HEAD',
  'NET_BW_EGR_KILOBIT_PER_SEC',
  'NET_BW_IGR_KILOBIT_PER_SEC',
  'PCPU',
  'MEM_ENCRYPTION_CONTEXT',
  'FPGA',
  'PGPU',
  'NET_PACKET_RATE_KILOPACKET_PER_SEC',
  'NET_PACKET_RATE_EGR_KILOPACKET_PER_SEC',
  'NET_PACKET_RATE_IGR_KILOPACKET_PER_SEC',
];

/** os-traits' standard traits, by module: the trait is `<prefix>_<name>`. */
const TRAITS: Record<string, string> = {
  COMPUTE:
    'DEVICE_TAGGING NODE TRUSTED_CERTS SAME_HOST_COLD_MIGRATE RESCUE_BFV ACCELERATORS SOCKET_PCI_NUMA_AFFINITY ' +
    'REMOTE_MANAGED_PORTS MEM_BACKING_FILE MANAGED_PCI_DEVICE ADDRESS_SPACE_PASSTHROUGH ADDRESS_SPACE_EMULATED ' +
    'SHARE_LOCAL_FS',
  COMPUTE_ARCH: 'AARCH64 PPC64LE MIPSEL S390X RISCV64 X86_64',
  COMPUTE_CONFIG_DRIVE: 'REGENERATION',
  COMPUTE_EPHEMERAL: 'ENCRYPTION ENCRYPTION_PLAIN ENCRYPTION_LUKS ENCRYPTION_LUKSV2',
  COMPUTE_FIRMWARE: 'BIOS UEFI',
  COMPUTE_GRAPHICS:
    'MODEL_BOCHS MODEL_CIRRUS MODEL_GOP MODEL_NONE MODEL_QXL MODEL_VGA MODEL_VIRTIO MODEL_VMVGA MODEL_XEN',
  COMPUTE_IMAGE:
    'TYPE_AKI TYPE_AMI TYPE_ARI TYPE_ISO TYPE_QCOW2 TYPE_RAW TYPE_VDI TYPE_VHD TYPE_VHDX TYPE_VMDK TYPE_PLOOP',
  COMPUTE_MIGRATE: 'AUTO_CONVERGE POST_COPY',
  COMPUTE_NET:
    'ATTACH_INTERFACE ATTACH_INTERFACE_WITH_TAG VIRTIO_PACKED VIF_MODEL_E1000 VIF_MODEL_E1000E ' +
    'VIF_MODEL_LAN9118 VIF_MODEL_NETFRONT VIF_MODEL_NE2K_PCI VIF_MODEL_PCNET VIF_MODEL_RTL8139 ' +
    'VIF_MODEL_SPAPR_VLAN VIF_MODEL_SRIOV VIF_MODEL_VIRTIO VIF_MODEL_VMXNET VIF_MODEL_VMXNET3 VIF_MODEL_IGB',
  COMPUTE_SECURITY:
    'TPM_1_2 TPM_2_0 TPM_TIS TPM_CRB TPM_SECRET_SECURITY_USER TPM_SECRET_SECURITY_HOST ' +
    'TPM_SECRET_SECURITY_DEPLOYMENT UEFI_SECURE_BOOT STATELESS_FIRMWARE',
  COMPUTE_SOUND:
    'MODEL_SB16 MODEL_ES1370 MODEL_PCSPK MODEL_AC97 MODEL_ICH6 MODEL_ICH9 MODEL_USB MODEL_VIRTIO',
  COMPUTE_STATUS: 'DISABLED',
  COMPUTE_STORAGE: 'BUS_FDC BUS_IDE BUS_LXC BUS_SATA BUS_SCSI BUS_USB BUS_VIRTIO BUS_UML BUS_XEN VIRTIO_FS',
  COMPUTE_USB: 'MODEL_QEMU_XHCI MODEL_NEC_XHCI',
  COMPUTE_VIOMMU: 'MODEL_INTEL MODEL_SMMUV3 MODEL_VIRTIO MODEL_AUTO',
  COMPUTE_VOLUME: 'ATTACH ATTACH_WITH_TAG EXTEND MULTI_ATTACH',
  HW_ARCH:
    'ALPHA ARMV6 ARMV7 ARMV7B AARCH64 CRIS I686 IA64 LM32 M68K MICROBLAZE MICROBLAZEEL MIPS MIPSEL MIPS64 ' +
    'MIPS64EL OPENRISC PARISC PARISC64 PPC PPCLE PPC64 PPC64LE PPCEMB S390 S390X SH4 SH4EB SPARC SPARC64 ' +
    'UNICORE32 X86_64 XTENSA XTENSAEB',
  HW_CPU: 'HYPERTHREADING',
  HW_CPU_AARCH64:
    'FP ASIMD EVTSTRM AES PMULL SHA1 SHA2 CRC32 FPHP ASIMDHP ASIMDRDM ATOMICS JSCVT FCMA LRCPC DCPOP SHA3 ' +
    'SM3 SM4 ASIMDDP SHA512 SVE CPUID',
  HW_CPU_AMD: 'SEV',
  HW_CPU_PPC64LE: 'POWER8 POWER9',
  HW_CPU_X86:
    'AVX AVX2 CLMUL FMA3 FMA4 F16C MMX SSE SSE2 SSE3 SSSE3 SSE41 SSE42 SSE4A XOP 3DNOW AVX512F AVX512CD ' +
    'AVX512PF AVX512ER AVX512VL AVX512BW AVX512DQ AVX512VNNI AVX512VBMI AVX512IFMA AVX512VBMI2 ' +
    'AVX512BITALG AVX512VAES AVX512GFNI AVX512VPCLMULQDQ AVX512VPOPCNTDQ ABM BMI BMI2 TBM AESNI SHA MPX ' +
    'SGX TSX ASF VMX SVM PDPE1GB STIBP AMXBF16 AMXINT8 AMXTILE',
  HW_CPU_X86_AMD: 'SEV SEV_ES SEV_SNP SVM IBPB NO_SSB SSBD VIRT_SSBD',
  HW_CPU_X86_INTEL: 'MD_CLEAR PCID SPEC_CTRL SSBD VMX TDX',
  HW_GPU_API:
    'DIRECTX_V10 DIRECTX_V11 DIRECTX_V12 DIRECT2D DIRECT3D_V6_0 DIRECT3D_V7_0 DIRECT3D_V8_0 DIRECT3D_V8_1 ' +
    'DIRECT3D_V9_0 DIRECT3D_V9_0B DIRECT3D_V9_0C DIRECT3D_V9_0L DIRECT3D_V10_0 DIRECT3D_V10_1 ' +
    'DIRECT3D_V11_0 DIRECT3D_V11_1 DIRECT3D_V11_2 DIRECT3D_V11_3 DIRECT3D_V12_0 VULKAN DXVA OPENCL_V1_0 ' +
    'OPENCL_V1_1 OPENCL_V1_2 OPENCL_V2_0 OPENCL_V2_1 OPENCL_V2_2 OPENGL_V1_1 OPENGL_V1_2 OPENGL_V1_3 ' +
    'OPENGL_V1_4 OPENGL_V1_5 OPENGL_V2_0 OPENGL_V2_1 OPENGL_V3_0 OPENGL_V3_1 OPENGL_V3_2 OPENGL_V3_3 ' +
    'OPENGL_V4_0 OPENGL_V4_1 OPENGL_V4_2 OPENGL_V4_3 OPENGL_V4_4 OPENGL_V4_5',
  HW_GPU_CUDA:
    'COMPUTE_CAPABILITY_V1_0 COMPUTE_CAPABILITY_V1_1 COMPUTE_CAPABILITY_V1_2 COMPUTE_CAPABILITY_V1_3 ' +
    'COMPUTE_CAPABILITY_V2_0 COMPUTE_CAPABILITY_V2_1 COMPUTE_CAPABILITY_V3_0 COMPUTE_CAPABILITY_V3_2 ' +
    'COMPUTE_CAPABILITY_V3_5 COMPUTE_CAPABILITY_V3_7 COMPUTE_CAPABILITY_V5_0 COMPUTE_CAPABILITY_V5_2 ' +
    'COMPUTE_CAPABILITY_V5_3 COMPUTE_CAPABILITY_V6_0 COMPUTE_CAPABILITY_V6_1 COMPUTE_CAPABILITY_V6_2 ' +
    'COMPUTE_CAPABILITY_V7_0 COMPUTE_CAPABILITY_V7_1 COMPUTE_CAPABILITY_V7_2 SDK_V6_5 SDK_V7_5 SDK_V8_0 ' +
    'SDK_V9_0 SDK_V9_1 SDK_V9_2 SDK_V10_0',
  HW_GPU_MAX_DISPLAY_HEADS: '1 2 4 6 8',
  HW_GPU_RESOLUTION:
    'W320H240 W640H480 W800H600 W1024H600 W1024H768 W1152H864 W1280H720 W1280H768 W1280H800 W1280H1024 ' +
    'W1360H768 W1366H768 W1440H900 W1600H900 W1600H1200 W1680H1050 W1920H1080 W1920H1200 W2560H1440 ' +
    'W2560H1600 W3840H2160 W7680H4320',
  HW_NIC: 'SRIOV MULTIQUEUE VMDQ PROGRAMMABLE_PIPELINE',
  HW_NIC_ACCEL: 'SSL IPSEC TLS DIFFIEH RSA ECC LZS DEFLATE',
  HW_NIC_DCB: 'PFC ETS QCN',
  HW_NIC_OFFLOAD:
    'TSO GRO GSO UFO LRO LSO TCS UCS SCS L2CRC FDF RXVLAN TXVLAN VXLAN GRE GENEVE TXUDP QINQ RDMA RXHASH RX ' +
    'TX SG SWITCHDEV',
  HW_NIC_SRIOV: 'QOS_TX QOS_RX MULTIQUEUE TRUSTED',
  HW_NUMA: 'ROOT',
  HW_NVME: 'CES BES WZS',
  HW_PCI: 'LIVE_MIGRATABLE ONE_TIME_USE',
  MISC: 'SHARES_VIA_AGGREGATE',
  OWNER: 'CYBORG NOVA',
  STORAGE_DISK: 'HDD SSD',
};

/** Keys Nova knows outside any namespace; every other such key is the operator's own. */
export const UNNAMESPACED: Record<string, ValueRule> = {
  hide_hypervisor_id: boolean,
  group_policy: oneOf('isolate', 'none'),
};

export const NAMESPACES: Record<string, Namespace> = {
  hw: {
    keys: {
      cpu_realtime: boolean,
      cpu_realtime_mask: cpuSet,
      hide_hypervisor_id: boolean,
      cpu_policy: oneOf('dedicated', 'shared', 'mixed'),
      cpu_thread_policy: oneOf('prefer', 'isolate', 'require'),
      emulator_threads_policy: oneOf('isolate', 'share'),
      cpu_dedicated_mask: cpuSet,
      mem_page_size: format('large|small|any|\\d+(?:[kKMGT]i?)?(?:b|bit|B)?'),
      locked_memory: boolean,
      numa_nodes: atLeastOne,
      pci_numa_affinity_policy: oneOf('required', 'preferred', 'legacy', 'socket'),
      cpu_sockets: atLeastOne,
      cpu_cores: atLeastOne,
      cpu_threads: atLeastOne,
      cpu_max_sockets: atLeastOne,
      cpu_max_cores: atLeastOne,
      cpu_max_threads: atLeastOne,
      boot_menu: boolean,
      vif_multiqueue_enabled: boolean,
      mem_encryption: boolean,
      mem_encryption_model: oneOf('amd-sev', 'amd-sev-es', 'amd-sev-snp'),
      // Comma-separated vPMEM labels, a trailing comma allowed.
      pmem: format('[a-zA-Z0-9_]+(?:,[a-zA-Z0-9_]+)*,?'),
      pmu: boolean,
      serial_port_count: nonNegative,
      tpm_model: oneOf('tpm-tis', 'tpm-crb'),
      tpm_version: oneOf('1.2', '2.0'),
      tpm_secret_security: oneOf('user', 'host', 'deployment'),
      watchdog_action: oneOf('none', 'pause', 'poweroff', 'reset', 'disabled'),
      viommu_model: oneOf('intel', 'smmuv3', 'virtio', 'auto'),
      virtio_packed_ring: boolean,
      sound_model: oneOf('sb16', 'es1370', 'pcspk', 'ac97', 'ich6', 'ich9', 'usb', 'virtio'),
      usb_model: oneOf('none', 'nec-xhci', 'qemu-xhci'),
      redirected_usb_ports: integer(0, 15),
      ephemeral_encryption: boolean,
      ephemeral_encryption_format: oneOf('plain', 'luks', 'luksv2'),
    },
    patterns: [
      [/^numa_cpus\.\d+$/, cpuSet],
      [/^numa_mem\.\d+$/, atLeastOne],
    ],
  },
  hw_rng: { keys: { allowed: boolean, rate_bytes: nonNegative, rate_period: nonNegative } },
  hw_video: { keys: { ram_max_mb: nonNegative } },
  os: {
    keys: {
      secure_boot: oneOf('disabled', 'required'),
      resolution: oneOf('1024x768', '1280x1024', '1600x1200', '1920x1200', '2560x1600', '3840x2160'),
      monitors: integer(1, 8),
      vram: oneOf('64', '128', '256', '512', '1024'),
    },
  },
  quota: { keys: quotaKeys() },
  resources: {
    grouped: true,
    keys: Object.fromEntries(RESOURCE_CLASSES.map((name) => [name, integer()])),
    patterns: [[/^CUSTOM_[A-Z0-9_]+$/, integer()]],
  },
  trait: {
    grouped: true,
    keys: Object.fromEntries(
      Object.entries(TRAITS).flatMap(([prefix, names]) =>
        names.split(' ').map((name) => [`${prefix}_${name}`, requiredOrForbidden]),
      ),
    ),
    patterns: [[/^CUSTOM_[A-Z0-9_]+$/, requiredOrForbidden]],
  },
  // Matched against aggregate metadata by the scheduler, with its operators (`>= 4`, `<in> ssd`).
  aggregate_instance_extra_specs: { keys: {}, patterns: [[/^.+$/, text]] },
  // Nova lists the host fields its filter reads; ours also reads capabilities an admin declares for a
  // host and the host's metrics (`capabilities:cpu.percent`), whatever their names, so any key is one.
  capabilities: { keys: {}, patterns: [[/^.+$/, text]] },
  // `alias:count` pairs, comma-separated: Nova's `\s*,\s*` between pairs is `\s*,` here, the same
  // language without the choice of which spaces the alias owns (2^n ways to fail on n pairs).
  pci_passthrough: { keys: { alias: format('[^:]+:\\d+(?:\\s*,[^:]+:\\d+)*') } },
  accel: { keys: { device_profile: text } },
  vmware: { keys: { hw_version: text, storage_policy: text } },
  powervm: {
    keys: {
      min_mem: integer(256),
      max_mem: integer(256),
      min_vcpu: atLeastOne,
      max_vcpu: atLeastOne,
      proc_units: format('\\d+\\.\\d+'),
      min_proc_units: format('\\d+\\.\\d+'),
      max_proc_units: format('\\d+\\.\\d+'),
      dedicated_proc: boolean,
      shared_weight: integer(0, 255),
      availability_priority: integer(0, 255),
      uncapped: boolean,
      dedicated_sharing_mode: oneOf(
        'share_idle_procs',
        'keep_idle_procs',
        'share_idle_procs_active',
        'share_idle_procs_always',
      ),
      processor_compatibility: oneOf(
        'default',
        'POWER6',
        'POWER6+',
        'POWER6_Enhanced',
        'POWER6+_Enhanced',
        'POWER7',
      ),
      shared_proc_pool_name: text,
      srr_capability: boolean,
    },
  },
};

/** A placement request group's suffix on a grouped namespace. */
const GROUP_SUFFIX = /^[a-zA-Z0-9_-]{1,64}$/;

function namespaceNamed(prefix: string): Namespace | undefined {
  if (Object.hasOwn(NAMESPACES, prefix)) return NAMESPACES[prefix];
  for (const [name, namespace] of Object.entries(NAMESPACES)) {
    if (namespace.grouped && prefix.startsWith(name) && GROUP_SUFFIX.test(prefix.slice(name.length))) {
      return namespace;
    }
  }
  return undefined;
}

function ruleIn(namespace: Namespace, key: string): ValueRule | undefined {
  if (Object.hasOwn(namespace.keys, key)) return namespace.keys[key];
  return namespace.patterns?.find(([pattern]) => pattern.test(key))?.[1];
}

// Python's int() and oslo's strict bool_from_string, which Nova reads values with.
const PYTHON_INT = /^\s*[+-]?\d+(?:_\d+)*\s*$/;
const TRUE_WORDS = ['1', 't', 'true', 'on', 'y', 'yes'];
const FALSE_WORDS = ['0', 'f', 'false', 'off', 'n', 'no'];

/** Why `value` breaks `rule`, in Nova's words, or undefined when it does not. */
function valueProblem(rule: ValueRule, value: string): string | undefined {
  switch (rule.kind) {
    case 'integer': {
      if (!PYTHON_INT.test(value)) return `'${value}' is not a valid integer value`;
      const number = Number(value.trim().replaceAll('_', ''));
      if (rule.max !== undefined && number > rule.max)
        return `'${value}' is greater than the max value of '${rule.max}'`;
      if (rule.min !== undefined && number < rule.min)
        return `'${value}' is less than the min value of '${rule.min}'`;
      return undefined;
    }
    case 'boolean': {
      const word = value.trim().toLowerCase();
      return TRUE_WORDS.includes(word) || FALSE_WORDS.includes(word)
        ? undefined
        : `'${value}' is not a valid boolean-like value`;
    }
    case 'oneOf':
      return rule.values.includes(value) ? undefined : `'${value}' is not one of: ${rule.values.join(', ')}`;
    case 'format':
      return rule.pattern.test(value) ? undefined : `'${value}' is not of the format '${rule.format}'`;
    case 'text':
      return undefined;
  }
}

/**
 * Why Nova would refuse the extra spec `key` = `value` from 2.86 on, naming the key and the rule it
 * breaks; undefined when the spec is valid or outside every namespace Nova knows.
 */
export function extraSpecProblem(key: string, value: string): string | undefined {
  const colon = key.indexOf(':');
  let rule: ValueRule | undefined;
  if (colon === -1) {
    if (!Object.hasOwn(UNNAMESPACED, key)) return undefined;
    rule = UNNAMESPACED[key];
  } else {
    const namespace = namespaceNamed(key.slice(0, colon));
    if (!namespace) return undefined;
    rule = ruleIn(namespace, key.slice(colon + 1));
  }
  if (!rule) return `Validation failed; extra spec '${key}' does not appear to be a valid extra spec.`;
  const problem = valueProblem(rule, value);
  return problem && `Validation failed; extra spec '${key}': ${problem}.`;
}
