import type { Context, Hono } from 'hono';
import { ConfigError } from '../../shared/config.ts';
import { NotFound } from '../../shared/errors.ts';
import type { AppEnv } from '../context.ts';
import { imagesExtension } from '../glance/images.ts';
import { mountRoutes } from '../route.ts';
import type { Extension } from './extension.ts';
import { extensionsExtension } from './extensions.ts';
import { flavorExtraSpecsExtension } from './flavor-extra-specs.ts';
import { flavorManageExtension } from './flavor-manage.ts';
import { flavorsExtension } from './flavors.ts';
import { ipsExtension } from './ips.ts';
import { keypairsExtension } from './keypairs.ts';
import { mountLegacyNetworkGuard } from './legacy-network.ts';
import { limitsExtension } from './limits.ts';
import { adminActionsExtension } from './os-admin-actions.ts';
import { aggregatesExtension } from './os-aggregates.ts';
import { attachInterfacesExtension } from './os-attach-interfaces.ts';
import { availabilityZoneExtension } from './os-availability-zone.ts';
import { databaseReplicasExtension } from './os-database-replicas.ts';
import { evacuateExtension } from './os-evacuate.ts';
import { extendedAvailabilityZoneExtension } from './os-extended-availability-zone.ts';
import { extendedServerAttributesExtension } from './os-extended-server-attributes.ts';
import { extendedStatusExtension } from './os-extended-status.ts';
import { fixedIpsExtension } from './os-fixed-ips.ts';
import { flavorAccessExtension } from './os-flavor-access.ts';
import { flavorRxtxExtension } from './os-flavor-rxtx.ts';
import { floatingIpPoolsExtension } from './os-floating-ip-pools.ts';
import { floatingIpsExtension } from './os-floating-ips.ts';
import { floatingIpsBulkExtension } from './os-floating-ips-bulk.ts';
import { hostsExtension } from './os-hosts.ts';
import { hypervisorsExtension } from './os-hypervisors.ts';
import { instanceActionsExtension } from './os-instance-actions.ts';
import { migrationsExtension } from './os-migrations.ts';
import { multipleCreateExtension } from './os-multiple-create.ts';
import { networkMigrationsExtension } from './os-network-migrations.ts';
import { networksExtension } from './os-networks.ts';
import { quotaClassSetsExtension } from './os-quota-class-sets.ts';
import { quotaSetsExtension } from './os-quota-sets.ts';
import { schedulerExtension } from './os-scheduler/index.ts';
import { schedulerHintsExtension } from './os-scheduler-hints.ts';
import { serverUsageExtension } from './os-server-usage.ts';
import { servicesExtension } from './os-services.ts';
import { simpleTenantUsageExtension } from './os-simple-tenant-usage.ts';
import { usedLimitsExtension } from './os-used-limits.ts';
import { serverMetadataExtension } from './server-metadata.ts';
import { serverMigrationsExtension } from './server-migrations.ts';
import { serversExtension } from './servers.ts';
import { versionsExtension } from './versions.ts';

/** Every v3 extension, listed explicitly: nothing is discovered. */
export const ALL_EXTENSIONS: Extension[] = [
  versionsExtension,
  extensionsExtension,
  flavorsExtension,
  serversExtension,
  databaseReplicasExtension,
  serverMetadataExtension,
  ipsExtension,
  attachInterfacesExtension,
  adminActionsExtension,
  evacuateExtension,
  imagesExtension,
  quotaSetsExtension,
  quotaClassSetsExtension,
  limitsExtension,
  usedLimitsExtension,
  keypairsExtension,
  flavorManageExtension,
  flavorExtraSpecsExtension,
  flavorAccessExtension,
  flavorRxtxExtension,
  extendedStatusExtension,
  extendedServerAttributesExtension,
  extendedAvailabilityZoneExtension,
  serverUsageExtension,
  multipleCreateExtension,
  availabilityZoneExtension,
  hypervisorsExtension,
  hostsExtension,
  servicesExtension,
  aggregatesExtension,
  schedulerExtension,
  schedulerHintsExtension,
  migrationsExtension,
  networkMigrationsExtension,
  serverMigrationsExtension,
  instanceActionsExtension,
  simpleTenantUsageExtension,
  networksExtension,
  fixedIpsExtension,
  floatingIpsExtension,
  floatingIpPoolsExtension,
  floatingIpsBulkExtension,
];

/** The extensions a deployment serves: all but those its DISABLED_EXTENSIONS names (never a core one). */
export function enabledExtensions(disabled: string[]): Extension[] {
  const unknown = disabled.filter((alias) => !ALL_EXTENSIONS.some((extension) => extension.alias === alias));
  const core = ALL_EXTENSIONS.filter((extension) => extension.core && disabled.includes(extension.alias));
  if (unknown.length > 0)
    throw new ConfigError(`DISABLED_EXTENSIONS names unknown extensions: ${unknown.join(', ')}`);
  if (core.length > 0) {
    throw new ConfigError(
      `DISABLED_EXTENSIONS cannot disable core extensions: ${core.map((e) => e.alias).join(', ')}`,
    );
  }
  return ALL_EXTENSIONS.filter((extension) => !disabled.includes(extension.alias));
}

/**
 * Mounts every extension's routes. Which ones are enabled is configuration, known per request on
 * Workers, so a disabled extension's routes answer 404 as if they did not exist.
 */
export function mountExtensions(app: Hono<AppEnv>): void {
  mountLegacyNetworkGuard(app, '/v3');
  for (const extension of ALL_EXTENSIONS) {
    mountRoutes(app, extension.routes, (c: Context<AppEnv>) => {
      if (!c.var.extensions.includes(extension)) {
        throw new NotFound(`The resource could not be found: extension ${extension.alias} is disabled`);
      }
    });
  }
}
