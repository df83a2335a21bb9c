import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { asc, count, eq, inArray } from 'drizzle-orm';
import type { MySqlTable } from 'drizzle-orm/mysql-core';
import {
  fixedIps,
  floatingIps,
  instanceInfoCaches,
  networkMigrationMap,
  networkMigrationPlugs,
  networkMigrations,
  networkSettings,
  neutronFloatingIps,
  neutronIpAllocations,
  neutronNetworks,
  neutronPorts,
  neutronRouters,
  neutronSubnets,
  novaNetworks,
  virtualInterfaces,
} from '../../schema/tables/index.ts';
import { call, primaryDb, stackInfo } from './api.ts';
import { waitUntil } from './wait.ts';

// What test/e2e/network-migration.test.ts compares before and after a migration: the legacy tables
// as they are, the networking service's row counts, and what each fake guest's driver state says
// about its interfaces.

/** Every live row of nova-network's four tables, in id order, as one text: equal means untouched. */
export async function legacyTables(networkIds: readonly number[]): Promise<string> {
  const db = primaryDb();
  const [networks, fixed, vifs, floating] = await Promise.all([
    db
      .select()
      .from(novaNetworks)
      .where(inArray(novaNetworks.id, [...networkIds]))
      .orderBy(asc(novaNetworks.id)),
    db
      .select()
      .from(fixedIps)
      .where(inArray(fixedIps.network_id, [...networkIds]))
      .orderBy(asc(fixedIps.id)),
    db
      .select()
      .from(virtualInterfaces)
      .where(inArray(virtualInterfaces.network_id, [...networkIds]))
      .orderBy(asc(virtualInterfaces.id)),
    db.select().from(floatingIps).orderBy(asc(floatingIps.id)),
  ]);
  return JSON.stringify({ networks, fixed, vifs, floating });
}

const COUNTED: Record<string, MySqlTable> = {
  neutron_networks: neutronNetworks,
  neutron_subnets: neutronSubnets,
  neutron_ports: neutronPorts,
  neutron_ip_allocations: neutronIpAllocations,
  neutron_floatingips: neutronFloatingIps,
  neutron_routers: neutronRouters,
  network_migration_map: networkMigrationMap,
  network_migration_plugs: networkMigrationPlugs,
  network_migrations: networkMigrations,
  instance_info_caches: instanceInfoCaches,
};

/** Row counts of the networking service's tables and the migration's own. */
export async function tableCounts(): Promise<Record<string, number>> {
  const db = primaryDb();
  const entries = await Promise.all(
    Object.entries(COUNTED).map(async ([name, table]) => {
      const [row] = await db.select({ n: count() }).from(table);
      return [name, row?.n ?? 0] as const;
    }),
  );
  return Object.fromEntries(entries);
}

/** Every server cache, as text: equal means no cache was rewritten. */
export async function cachesText(instanceUuids: readonly string[]): Promise<string> {
  const rows = await primaryDb()
    .select({
      instance_uuid: instanceInfoCaches.instance_uuid,
      network_info: instanceInfoCaches.network_info,
    })
    .from(instanceInfoCaches)
    .where(inArray(instanceInfoCaches.instance_uuid, [...instanceUuids]))
    .orderBy(asc(instanceInfoCaches.instance_uuid));
  return JSON.stringify(rows);
}

export async function recordedNetworkApi(): Promise<{ network_api: string; changed_by: string } | undefined> {
  const [row] = await primaryDb()
    .select({ network_api: networkSettings.network_api, changed_by: networkSettings.changed_by })
    .from(networkSettings)
    .where(eq(networkSettings.id, 1));
  return row;
}

export interface GuestInterfaces {
  vifs: Array<{ id: string; address: string; ips: string[] }>;
  vif_history: Array<Array<{ address: string; ips: string[] }>>;
}

/** What the fake driver of `host` keeps about each guest's interfaces (its state file). */
export async function guestInterfaces(host: string): Promise<Map<string, GuestInterfaces>> {
  const path = join(stackInfo().dataDir, 'agents', host, 'fake-instances.json');
  const state = JSON.parse(await readFile(path, 'utf8')) as {
    instances: Array<{ uuid: string } & Partial<GuestInterfaces>>;
  };
  return new Map(
    state.instances.map((guest) => [
      guest.uuid,
      { vifs: guest.vifs ?? [], vif_history: guest.vif_history ?? [] },
    ]),
  );
}

export interface NetworkMigrationView {
  id: string;
  status: string;
  dry_run: boolean;
  step: string | null;
  error: string | null;
  progress: Record<string, { total: number; done: number }>;
  report: {
    plan?: {
      networks: Array<Record<string, unknown> & { subnet: Record<string, unknown> }>;
      ports: Array<Record<string, unknown>>;
      floating_ips: Array<Record<string, unknown>>;
      routers: Array<Record<string, unknown>>;
      instances_to_plug: number;
    };
    conflicts?: Array<{ type: string; message: string } & Record<string, unknown>>;
    warnings?: Array<{ type: string; message: string }>;
    differences?: Array<{ type: string; message: string }>;
  };
}

export async function showNetworkMigration(token: string, id: string): Promise<NetworkMigrationView> {
  const response = await call<{ network_migration: NetworkMigrationView }>(
    'GET',
    `/v3/os-network-migrations/${id}`,
    {
      token,
    },
  );
  if (response.status !== 200)
    throw new Error(`show ${id}: ${response.status} ${JSON.stringify(response.body)}`);
  return response.body.network_migration;
}

/** Polls the run until `until` holds (by default: it reached one of `statuses`). */
export async function waitForNetworkMigration(
  token: string,
  id: string,
  statuses: string[],
  timeoutMs = 120_000,
): Promise<NetworkMigrationView> {
  return waitUntil(
    `network migration ${id} to reach ${statuses.join('/')}`,
    () => showNetworkMigration(token, id),
    {
      timeoutMs,
      intervalMs: 100,
      until: (run) => statuses.includes(run.status),
    },
  );
}
