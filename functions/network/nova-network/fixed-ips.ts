import { and, eq } from 'drizzle-orm';
import type { PrimaryDb } from '../../../schema/db.ts';
import { fixedIps, instances, novaNetworks } from '../../../schema/tables/index.ts';
import { BadRequest, NotFound } from '../../shared/errors.ts';
import { canonicalIp } from '../ip-math.ts';

// One fixed IP as os-fixed-ips shows it (with the server holding it, if any), and the admin's
// reserve/unreserve: a reserved address is never handed to a server.

type Reader = Pick<PrimaryDb, 'select'>;

export interface FixedIpDetail {
  address: string;
  cidr: string | null;
  hostname: string | null;
  host: string | null;
  reserved: boolean;
}

function canonicalAddress(text: string): string {
  const address = canonicalIp(text);
  if (!address) throw new BadRequest(`Fixed IP address ${text} is invalid.`);
  return address;
}

export async function showFixedIp(db: Reader, text: string): Promise<FixedIpDetail> {
  const address = canonicalAddress(text);
  const [row] = await db
    .select({
      address: fixedIps.address,
      reserved: fixedIps.reserved,
      cidr: novaNetworks.cidr,
      hostname: instances.hostname,
      display_name: instances.display_name,
      host: instances.host,
      instance_uuid: instances.uuid,
    })
    .from(fixedIps)
    .innerJoin(novaNetworks, and(eq(novaNetworks.id, fixedIps.network_id), eq(novaNetworks.deleted, 0)))
    .leftJoin(instances, and(eq(instances.uuid, fixedIps.instance_uuid), eq(instances.deleted, 0)))
    .where(and(eq(fixedIps.address, address), eq(fixedIps.deleted, 0)));
  if (!row) throw new NotFound(`Fixed IP ${address} could not be found.`);
  return {
    address: row.address,
    cidr: row.cidr,
    hostname: row.instance_uuid === null ? null : (row.hostname ?? row.display_name),
    host: row.host,
    reserved: row.reserved,
  };
}

/** Marks the address reserved or not (idempotent); 404 when no live network has it. */
export async function setFixedIpReserved(db: PrimaryDb, text: string, reserved: boolean): Promise<void> {
  const address = canonicalAddress(text);
  const updated = await db
    .update(fixedIps)
    .set({ reserved, updated_at: new Date() })
    .where(and(eq(fixedIps.address, address), eq(fixedIps.deleted, 0)));
  if (updated.rowsAffected === 0) throw new NotFound(`Fixed IP ${address} could not be found.`);
}
