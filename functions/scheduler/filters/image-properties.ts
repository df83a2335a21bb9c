import type { HostFilter } from './filter.ts';

// Which image properties a host must support, and where the host's answer comes from. Architecture
// and vm_mode are declared per host (host_capabilities, comma-separated lists, e.g. "tilegx");
// the hypervisor type is the node's own.
const PROPERTIES = ['architecture', 'hypervisor_type', 'vm_mode'] as const;

function asked(properties: Record<string, string>) {
  return PROPERTIES.filter((name) => properties[name] !== undefined);
}

export const imagePropertiesFilter: HostFilter = {
  name: 'ImagePropertiesFilter',
  description:
    "The image's architecture (x86_64, tilegx...), hypervisor_type and vm_mode are among what the host supports.",
  hints: [],
  needs: (spec) => (asked(spec.image_properties).length > 0 ? ['capabilities'] : []),
  passes(host, spec, _context, facts) {
    const declared = facts.capabilities.get(host.host) ?? {};
    for (const name of asked(spec.image_properties)) {
      const wanted = (spec.image_properties[name] ?? '').toLowerCase();
      const supported = (name === 'hypervisor_type' ? host.hypervisor_type : (declared[name] ?? ''))
        .split(',')
        .map((value) => value.trim().toLowerCase())
        .filter((value) => value.length > 0);
      if (!supported.includes(wanted))
        return supported.length === 0
          ? `the image needs ${name} ${wanted} and the host declares no ${name}`
          : `the image needs ${name} ${wanted}, the host supports ${supported.join(', ')}`;
    }
    return null;
  },
};
