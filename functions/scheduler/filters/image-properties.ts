import type { HostFilter } from './filter.ts';

/** The image properties that say where an image can run; request specs carry these (spec-from-instance.ts). */
export const PLACEMENT_IMAGE_PROPERTIES = ['architecture', 'hypervisor_type', 'vm_mode'] as const;

// Nova's hosts advertised what they run from their hypervisor; ours say it through the capabilities an
// admin declares (comma-separated lists, e.g. `architecture: tilegx`), and a host that declares none
// runs what an ordinary compute host runs. The hypervisor type is always the node's own.
const UNDECLARED: Record<string, string> = { architecture: 'x86_64', vm_mode: 'hvm' };

function asked(properties: Record<string, string>) {
  return PLACEMENT_IMAGE_PROPERTIES.filter((name) => properties[name] !== undefined);
}

export const imagePropertiesFilter: HostFilter = {
  name: 'ImagePropertiesFilter',
  description:
    "The image's architecture (x86_64, tilegx...), hypervisor_type and vm_mode are among what the host supports (declared capabilities; x86_64 and hvm when it declares none).",
  hints: [],
  passes(host, spec) {
    for (const name of asked(spec.image_properties)) {
      const wanted = (spec.image_properties[name] ?? '').toLowerCase();
      const offered =
        name === 'hypervisor_type'
          ? host.hypervisor_type
          : (host.declared_capabilities?.[name] ?? UNDECLARED[name] ?? '');
      const supported = offered
        .split(',')
        .map((value) => value.trim().toLowerCase())
        .filter((value) => value.length > 0);
      if (!supported.includes(wanted))
        return `the image needs ${name} ${wanted}, the host supports ${supported.join(', ') || 'none'}`;
    }
    return null;
  },
};
