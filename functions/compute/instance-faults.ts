import type { MySqlUpdateSetSource } from 'drizzle-orm/mysql-core';
import type { PrimaryDb, PrimaryWriter } from '../../schema/db.ts';
import { instanceFaults, type instances } from '../../schema/tables/index.ts';
import { type InstanceEvent, transitionInstance } from './instance-states.ts';

export interface Fault {
  code: number;
  message: string;
  details?: string;
  host?: string | null;
}

export async function recordFault(db: PrimaryWriter, instance_uuid: string, fault: Fault): Promise<void> {
  await db.insert(instanceFaults).values({
    instance_uuid,
    code: fault.code,
    // The column is the API's one-line message; the full story goes to details.
    message: fault.message.slice(0, 255),
    details: fault.details ?? null,
    host: fault.host ?? null,
    created_at: new Date(),
  });
}

/**
 * Moves an instance into a failed state and records why, in one transaction: nobody reading the server
 * sees ERROR without its fault, and a transition that loses (StateConflict) leaves no stray fault.
 */
export async function failInstance(
  db: PrimaryDb,
  instance_uuid: string,
  event: InstanceEvent,
  fault: Fault,
  extra: MySqlUpdateSetSource<typeof instances> = {},
): Promise<void> {
  await db.transaction(async (tx) => {
    await transitionInstance(tx, instance_uuid, event, extra);
    await recordFault(tx, instance_uuid, fault);
  });
}
