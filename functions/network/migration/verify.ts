import { eq, inArray } from 'drizzle-orm';
import type { PrimaryDb } from '../../../schema/db.ts';
import {
  networkMigrationPlugs,
  neutronFloatingIps,
  neutronIpAllocations,
  neutronPorts,
  type PluggedVif,
} from '../../../schema/tables/index.ts';
import { inChunks, loadLegacySnapshot } from './load.ts';
import { runEntries } from './map.ts';
import { type Finding, portMac } from './plan.ts';
import { recordProgress, recordReport } from './runs.ts';
import type { LegacySnapshot } from './snapshot.ts';
import { holdNetworkMigration, transitionNetworkMigration } from './states.ts';

// Verify: address by address, the legacy state (MAC, fixed IPs, floating IPs, instance, host of every
// VIF) against the ports and floating IPs the run created, and against what each host's agent reported
// its guest has after the re-plug. Any difference blocks the cut-over.

export interface MigratedPort {
  uuid: string;
  network_uuid: string;
  mac_address: string;
  device_id: string;
  binding_host_id: string;
  fixed_ips: string[];
}

export interface MigratedFloatingIp {
  uuid: string;
  floating_ip_address: string;
  project_id: string;
  fixed_port_uuid: string | null;
  fixed_ip_address: string | null;
}

export interface AgentAnswer {
  status: string;
  host: string;
  vifs: PluggedVif[];
  error: string | null;
}

export interface MigratedState {
  /** legacy VIF id → port */
  ports: Map<string, MigratedPort>;
  /** legacy floating IP id → floating IP */
  floatingIps: Map<string, MigratedFloatingIp>;
  /** instance uuid → what its host's agent answered plug_vifs */
  answers: Map<string, AgentAnswer>;
}

/** Every difference between the legacy state and the migrated one; none means the cut-over may go. */
export function compareMigration(legacy: LegacySnapshot, migrated: MigratedState): Finding[] {
  const differences: Finding[] = [];
  const networkUuid = new Map(legacy.networks.map((network) => [network.id, network.uuid]));
  const fixedByVif = new Map<number, string[]>();
  for (const ip of legacy.fixedIps) {
    if (ip.virtual_interface_id === null) continue;
    fixedByVif.set(ip.virtual_interface_id, [...(fixedByVif.get(ip.virtual_interface_id) ?? []), ip.address]);
  }
  const seenPorts = new Set<string>();
  const portsByInstance = new Map<string, MigratedPort[]>();
  for (const vif of legacy.vifs) {
    const instance = vif.instance_uuid ? legacy.instances.get(vif.instance_uuid) : undefined;
    if (!instance) continue;
    const where = { instance: instance.uuid, vif: vif.uuid };
    const port = migrated.ports.get(String(vif.id));
    if (!port) {
      differences.push({
        type: 'missing_port',
        message: `VIF ${vif.uuid} of instance ${instance.uuid} has no port`,
        ...where,
      });
      continue;
    }
    seenPorts.add(String(vif.id));
    portsByInstance.set(instance.uuid, [...(portsByInstance.get(instance.uuid) ?? []), port]);
    const mac = portMac(vif);
    const fixed = fixedByVif.get(vif.id) ?? [];
    const host = instance.host ?? '';
    const expect = (type: string, what: string, expected: unknown, actual: unknown) => {
      if (JSON.stringify(expected) !== JSON.stringify(actual)) {
        differences.push({
          type,
          message: `${what} of VIF ${vif.uuid} (instance ${instance.uuid}) is ${JSON.stringify(actual)} in the networking service, ${JSON.stringify(expected)} in nova-network`,
          ...where,
          expected,
          actual,
        });
      }
    };
    expect('mac_changed', 'the MAC', mac, port.mac_address);
    expect('fixed_ips_changed', 'the fixed IPs', [...fixed].sort(), [...port.fixed_ips].sort());
    expect('device_changed', 'the device', instance.uuid, port.device_id);
    expect('host_changed', 'the host binding', host, port.binding_host_id);
    expect('network_changed', 'the network', networkUuid.get(vif.network_id ?? 0) ?? null, port.network_uuid);
    if (!instance.host) continue;
    const answer = migrated.answers.get(instance.uuid);
    if (answer?.status !== 'plugged') {
      differences.push({
        type: 'not_replugged',
        message: `the agent of ${instance.host} did not re-plug instance ${instance.uuid}${answer?.error ? `: ${answer.error}` : ''}`,
        ...where,
      });
      continue;
    }
    const reported = answer.vifs.find((plugged) => plugged.id === port.uuid);
    if (!reported) {
      differences.push({
        type: 'agent_missing_vif',
        message: `the agent of ${instance.host} reports no VIF ${port.uuid} on instance ${instance.uuid}`,
        ...where,
      });
      continue;
    }
    expect(
      'agent_mac_changed',
      `the MAC the agent of ${instance.host} reports`,
      mac,
      reported.address.toLowerCase(),
    );
    expect(
      'agent_ips_changed',
      `the IPs the agent of ${instance.host} reports`,
      [...fixed].sort(),
      [...reported.ips].sort(),
    );
  }
  for (const [instanceUuid, answer] of migrated.answers) {
    if (answer.status !== 'plugged') continue;
    const ports = new Set((portsByInstance.get(instanceUuid) ?? []).map((port) => port.uuid));
    for (const vif of answer.vifs.filter((plugged) => !ports.has(plugged.id))) {
      differences.push({
        type: 'agent_extra_vif',
        message: `the agent of ${answer.host} reports VIF ${vif.id} (${vif.address}) on instance ${instanceUuid}, which nova-network never had`,
        instance: instanceUuid,
        vif: vif.id,
      });
    }
  }
  for (const [vifId, port] of migrated.ports) {
    if (!seenPorts.has(vifId)) {
      differences.push({
        type: 'port_without_vif',
        message: `port ${port.uuid} (${port.mac_address}) stands for a VIF nova-network no longer has`,
        port: port.uuid,
      });
    }
  }

  const fixedById = new Map(legacy.fixedIps.map((ip) => [ip.id, ip]));
  const seenFloating = new Set<string>();
  for (const ip of legacy.floatingIps) {
    if (ip.project_id === null && ip.fixed_ip_id === null) continue;
    const floating = migrated.floatingIps.get(String(ip.id));
    if (!floating) {
      differences.push({
        type: 'missing_floating_ip',
        message: `floating IP ${ip.address} has no counterpart`,
        address: ip.address,
      });
      continue;
    }
    seenFloating.add(String(ip.id));
    const fixed = ip.fixed_ip_id === null ? undefined : fixedById.get(ip.fixed_ip_id);
    const port =
      fixed?.virtual_interface_id == null
        ? undefined
        : migrated.ports.get(String(fixed.virtual_interface_id));
    const expected = {
      address: ip.address,
      fixed_port: port?.uuid ?? null,
      fixed_ip_address: fixed?.address ?? null,
    };
    const actual = {
      address: floating.floating_ip_address,
      fixed_port: floating.fixed_port_uuid,
      fixed_ip_address: floating.fixed_ip_address,
    };
    if (JSON.stringify(expected) !== JSON.stringify(actual)) {
      differences.push({
        type: 'floating_ip_changed',
        message: `floating IP ${ip.address} is ${JSON.stringify(actual)} in the networking service, ${JSON.stringify(expected)} in nova-network`,
        expected,
        actual,
      });
    }
    if (ip.project_id !== null && ip.project_id !== floating.project_id) {
      differences.push({
        type: 'floating_ip_project_changed',
        message: `floating IP ${ip.address} belongs to ${floating.project_id} in the networking service, ${ip.project_id} in nova-network`,
        address: ip.address,
      });
    }
  }
  for (const [legacyId, floating] of migrated.floatingIps) {
    if (!seenFloating.has(legacyId)) {
      differences.push({
        type: 'floating_ip_without_legacy',
        message: `floating IP ${floating.floating_ip_address} stands for one nova-network no longer has`,
        address: floating.floating_ip_address,
      });
    }
  }
  return differences;
}

/** What the run created and what the agents answered, keyed as compareMigration reads them. */
export async function loadMigratedState(db: PrimaryDb, migrationUuid: string): Promise<MigratedState> {
  const portEntries = await runEntries(db, migrationUuid, 'port');
  const portRows = await inChunks(
    portEntries.map((entry) => entry.new_uuid),
    (chunk) => db.select().from(neutronPorts).where(inArray(neutronPorts.uuid, chunk)),
  );
  const allocations = await inChunks(
    portEntries.map((entry) => entry.new_uuid),
    (chunk) =>
      db
        .select({ port_uuid: neutronIpAllocations.port_uuid, ip_address: neutronIpAllocations.ip_address })
        .from(neutronIpAllocations)
        .where(inArray(neutronIpAllocations.port_uuid, chunk)),
  );
  const rowByUuid = new Map(portRows.map((row) => [row.uuid, row]));
  const addressesByPort = new Map<string, string[]>();
  for (const allocation of allocations) {
    addressesByPort.set(allocation.port_uuid, [
      ...(addressesByPort.get(allocation.port_uuid) ?? []),
      allocation.ip_address,
    ]);
  }
  const ports = new Map<string, MigratedPort>();
  for (const entry of portEntries) {
    const row = rowByUuid.get(entry.new_uuid);
    if (!row) continue;
    ports.set(entry.legacy_id, {
      uuid: row.uuid,
      network_uuid: row.network_uuid,
      mac_address: row.mac_address,
      device_id: row.device_id,
      binding_host_id: row.binding_host_id,
      fixed_ips: addressesByPort.get(row.uuid) ?? [],
    });
  }
  const floatingEntries = await runEntries(db, migrationUuid, 'floatingip');
  const floatingRows = await inChunks(
    floatingEntries.map((entry) => entry.new_uuid),
    (chunk) => db.select().from(neutronFloatingIps).where(inArray(neutronFloatingIps.uuid, chunk)),
  );
  const floatingByUuid = new Map(floatingRows.map((row) => [row.uuid, row]));
  const floatingIps = new Map<string, MigratedFloatingIp>();
  for (const entry of floatingEntries) {
    const row = floatingByUuid.get(entry.new_uuid);
    if (row) floatingIps.set(entry.legacy_id, row);
  }
  const answers = await db
    .select()
    .from(networkMigrationPlugs)
    .where(eq(networkMigrationPlugs.migration_uuid, migrationUuid));
  return {
    ports,
    floatingIps,
    answers: new Map(answers.map((answer) => [answer.instance_uuid, answer])),
  };
}

/**
 * network-migration verify: writes the differences into the report. Zero differences let the run cut
 * over; any fails it (the legacy mode stays, the freeze holds: resume after fixing, or roll back).
 */
export async function verifyRun(
  db: PrimaryDb,
  migrationUuid: string,
  downTimeSeconds: number,
): Promise<boolean> {
  const legacy = await loadLegacySnapshot(db, downTimeSeconds);
  const differences = compareMigration(legacy, await loadMigratedState(db, migrationUuid));
  await db.transaction(async (tx) => {
    await holdNetworkMigration(tx, migrationUuid, ['migrating']);
    await recordReport(tx, migrationUuid, { differences });
    await recordProgress(tx, migrationUuid, 'verify');
  });
  if (differences.length === 0) return true;
  await transitionNetworkMigration(db, migrationUuid, 'failed', {
    error: `Verify found ${differences.length} difference(s) between nova-network and the networking service; the report lists them. The deployment stays on nova-network.`,
  });
  return false;
}
