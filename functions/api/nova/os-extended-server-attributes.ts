import { isAllowed } from '../policy.ts';
import { defineExtension } from './extension.ts';

/** Havana's os-extended-server-attributes: where a server runs. Host names are for admins only. */
export const extendedServerAttributesExtension = defineExtension({
  alias: 'os-extended-server-attributes',
  name: 'ExtendedServerAttributes',
  description: 'Extended Server Attributes support: host, hypervisor_hostname and instance_name (admin).',
  version: 1,
  core: false,
  history: [{ version: 1, change: 'host, hypervisor_hostname, instance_name for callers the policy allows' }],
  routes: [],
  serverAttributes: (c, instance) =>
    isAllowed(c.var.caller, 'compute:extended_server_attributes')
      ? {
          'os-extended-server-attributes:host': instance.host,
          'os-extended-server-attributes:hypervisor_hostname': instance.node,
          'os-extended-server-attributes:instance_name': `instance-${instance.id.toString(16).padStart(8, '0')}`,
        }
      : {},
});
