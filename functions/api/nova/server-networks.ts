import { and, eq, inArray, or } from 'drizzle-orm';
import * as v from 'valibot';
import type { PrimaryDb } from '../../../schema/db.ts';
import {
  MAX_TAG_LENGTH,
  neutronIpAllocations,
  neutronNetworks,
  neutronPorts,
  neutronSubnets,
  novaNetworks,
} from '../../../schema/tables/index.ts';
import { NetworkError } from '../../network/errors.ts';
import {
  NETWORK_AMBIGUOUS,
  type RequestedNetwork,
  type RequestedNetworks,
  usableNetworkIds,
} from '../../network/instance-networks.ts';
import { canonicalIp } from '../../network/ip-math.ts';
import { subnetContaining } from '../../network/ipam.ts';
import { refuseLegacyWriteWhileFrozen } from '../../network/migration/freeze.ts';
import { type NetworkApiMode, networkApiMode } from '../../network/mode.ts';
import { usableBy } from '../../network/nova-network/project-networks.ts';
import { BadRequest, Conflict } from '../../shared/errors.ts';
import type { Caller } from '../context.ts';

// What a server create asks of the network (`networks`: Havana v3's list of {uuid, port, fixed_ip};
// from version 4 of the servers extension, Nova's later "auto", "none" and item tags), checked before
// the server exists, as Nova's API checks it, so a request that cannot be met is a 400 or 409 and
// never a server in ERROR. The boot workflow allocates what this answers (functions/network/instance-networks.ts).

const NetworkItem = v.strictObject({
  uuid: v.optional(v.pipe(v.string(), v.uuid('a network uuid must be a uuid'))),
  port: v.optional(v.nullable(v.pipe(v.string(), v.uuid('a port must be a port uuid')))),
  fixed_ip: v.optional(v.pipe(v.string(), v.maxLength(64))),
  tag: v.optional(
    v.pipe(
      v.string(),
      v.minLength(1, 'a tag must not be empty'),
      v.check((tag) => [...tag].length <= MAX_TAG_LENGTH, `a tag is at most ${MAX_TAG_LENGTH} characters`),
      v.regex(/^[^,/]*$/, "a tag must not contain ',' or '/'"),
    ),
  ),
});

export const Networks = v.union(
  [v.array(NetworkItem), v.picklist(['auto', 'none'])],
  'networks must be a list of {uuid, port, fixed_ip} items, "auto" or "none"',
);
export type Networks = v.InferOutput<typeof Networks>;

/** Whether a request uses what version 4 of the servers extension added to `networks`. */
export function usesLaterNetworkForms(networks: Networks | undefined): boolean {
  return typeof networks === 'string' || (networks ?? []).some((item) => item.tag !== undefined);
}

type Reader = Pick<PrimaryDb, 'select'>;

/** The requested items, each naming a network or a port, with a fixed IP in canonical form. */
function requestItems(networks: readonly v.InferOutput<typeof NetworkItem>[]): RequestedNetwork[] {
  const ports = new Set<string>();
  return networks.map((item) => {
    const port = item.port ?? undefined;
    if (!item.uuid && !port) {
      throw new BadRequest('Bad networks format: each item needs a network uuid or a port');
    }
    if (port) {
      if (ports.has(port)) throw new BadRequest(`Port ${port} is requested more than once`);
      ports.add(port);
    }
    let fixedIp: string | undefined;
    if (item.fixed_ip !== undefined) {
      fixedIp = canonicalIp(item.fixed_ip);
      if (!fixedIp) throw new BadRequest(`Invalid fixed IP address (${item.fixed_ip})`);
    }
    return {
      // A port names its own network: the uuid beside it is not the request's.
      ...(port ? { port_id: port } : { network_id: item.uuid }),
      ...(fixedIp ? { fixed_ip: fixedIp } : {}),
      ...(item.tag === undefined ? {} : { tag: item.tag }),
    };
  });
}

/** The networking service's networks a caller may boot on: its project's, shared ones, any for admins. */
function visibleNeutronNetwork(caller: Caller) {
  return caller.isAdmin
    ? undefined
    : or(eq(neutronNetworks.project_id, caller.projectId), eq(neutronNetworks.shared, true));
}

async function checkNeutronItems(db: Reader, caller: Caller, items: readonly RequestedNetwork[]) {
  const networkIds = [...new Set(items.flatMap((item) => (item.network_id ? [item.network_id] : [])))];
  const portIds = items.flatMap((item) => (item.port_id ? [item.port_id] : []));
  const [networks, ports] = await Promise.all([
    networkIds.length === 0
      ? []
      : db
          .select({ uuid: neutronNetworks.uuid })
          .from(neutronNetworks)
          .where(and(inArray(neutronNetworks.uuid, networkIds), visibleNeutronNetwork(caller))),
    portIds.length === 0
      ? []
      : db
          .select({
            uuid: neutronPorts.uuid,
            project_id: neutronPorts.project_id,
            device_id: neutronPorts.device_id,
          })
          .from(neutronPorts)
          .where(inArray(neutronPorts.uuid, portIds)),
  ]);
  for (const id of networkIds) {
    if (!networks.some((network) => network.uuid === id))
      throw new BadRequest(`Network ${id} could not be found.`);
  }
  for (const id of portIds) {
    const port = ports.find((candidate) => candidate.uuid === id);
    // A server takes only its own project's ports; another project's does not exist for it.
    if (!port || port.project_id !== caller.projectId) {
      throw new BadRequest(`Port ${id} could not be found.`);
    }
    if (port.device_id !== '') throw new Conflict(`Port ${id} is still in use.`);
  }
  for (const item of items) {
    if (item.network_id && item.fixed_ip) await checkFixedIp(db, item.network_id, item.fixed_ip);
  }
}

/** A requested fixed IP must be on one of the network's subnets and free (Nova: 400, then 409). */
async function checkFixedIp(db: Reader, networkId: string, address: string): Promise<void> {
  const subnets = await db.select().from(neutronSubnets).where(eq(neutronSubnets.network_uuid, networkId));
  try {
    subnetContaining(subnets, address);
  } catch (error) {
    if (error instanceof NetworkError) {
      throw new BadRequest(`Fixed IP address ${address} is not on network ${networkId}.`);
    }
    throw error;
  }
  const [taken] = await db
    .select({ port: neutronIpAllocations.port_uuid })
    .from(neutronIpAllocations)
    .where(
      and(eq(neutronIpAllocations.network_uuid, networkId), eq(neutronIpAllocations.ip_address, address)),
    )
    .limit(1);
  if (taken) throw new Conflict(`Fixed IP address ${address} is already in use.`);
}

/** nova-network serves networks only: no ports, and a network the project can use (or a shared one). */
async function checkLegacyItems(db: Reader, caller: Caller, items: readonly RequestedNetwork[]) {
  const port = items.find((item) => item.port_id);
  if (port) throw new BadRequest(`Port ${port.port_id} cannot be used: nova-network has no ports`);
  const networkIds = [...new Set(items.flatMap((item) => (item.network_id ? [item.network_id] : [])))];
  if (networkIds.length === 0) return;
  const found = await db
    .select({ uuid: novaNetworks.uuid })
    .from(novaNetworks)
    .where(
      and(
        inArray(novaNetworks.uuid, networkIds),
        eq(novaNetworks.deleted, 0),
        caller.isAdmin ? undefined : usableBy(caller.projectId),
      ),
    );
  for (const id of networkIds) {
    if (!found.some((network) => network.uuid === id))
      throw new BadRequest(`Network ${id} could not be found.`);
  }
}

/**
 * Checks what the create asks of the network, against the network API the deployment runs, and
 * answers what the boot workflow allocates: no `networks` and an empty list are `auto`, a port on the
 * one network the project can use (none when it has none; 409 when it has several, as Nova). nova-network
 * keeps Havana's rule: one interface on every network the project can use.
 */
export async function checkRequestedNetworks(
  db: PrimaryDb,
  config: { NETWORK_API: NetworkApiMode },
  caller: Caller,
  networks: Networks | undefined,
  maxCount: number,
): Promise<RequestedNetworks> {
  const mode = await networkApiMode(db, config);
  // A boot on nova-network would add a VIF the running migration has not copied.
  if (mode === 'nova-network' && networks !== 'none') await refuseLegacyWriteWhileFrozen(db);
  if (networks === undefined || networks === 'auto' || networks.length === 0) {
    if (mode === 'neutron' && (await usableNetworkIds(db, caller.projectId)).length > 1) {
      throw new Conflict(NETWORK_AMBIGUOUS);
    }
    return 'auto';
  }
  if (networks === 'none') return 'none';
  const items = requestItems(networks);
  if (maxCount > 1 && items.some((item) => item.port_id)) {
    throw new BadRequest('Unable to launch multiple instances with a single configured port ID.');
  }
  if (maxCount > 1 && items.some((item) => item.fixed_ip)) {
    throw new BadRequest('max_count cannot be greater than 1 if a fixed_ip is specified.');
  }
  if (mode === 'neutron') await checkNeutronItems(db, caller, items);
  else await checkLegacyItems(db, caller, items);
  return items;
}
